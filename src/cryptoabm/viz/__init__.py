"""The browser app: one run of the model, month by month, in Mesa's SolaraViz.

    cryptoabm viz [--host 127.0.0.1] [--port 8765]      # or: python -m cryptoabm.viz

Modules (the model never imports any of them):

- ``presets``      the scenario presets in ``configs/`` that the scenario picker lists
- ``levers``       the policy levers in the side panel and how UI values become config overrides
- ``economy``      ``VizEconomy``: the model built from UI parameters (what Reset instantiates)
- ``layout``       one seeded network layout per network, computed once and reused
- ``network_view`` the citizens' network (or an aggregate view for large populations)
- ``charts``       the live charts (Mesa's ``make_plot_component`` with a styling post-process)
- ``headline``     the headline numbers and the settings in force
- ``app``          the page: a per-session model, the scenario picker and ``SolaraViz``
- ``offline``      serving Solara's front-end assets locally (no CDN)
- ``server``       ``serve(host, port)``: starts the app and blocks until Ctrl-C

Only ``server`` and ``__main__`` are imported without the optional ``viz`` dependencies
(Solara, Altair); they import the rest when the server starts.
"""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT"]
