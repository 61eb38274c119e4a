"""The browser app: two policies compared on the same world, month by month (Solara).

    cryptoabm viz [--host 127.0.0.1] [--port 8765] [--results DIR]   # or: python -m cryptoabm.viz

Modules (the model never imports any of them):

- ``presets``      the scenario presets in ``configs/`` that the pickers list
- ``levers``       B's policy levers in the side panel and how UI values become config values
- ``compare``      two runs (A, B) on one seed, a policy package, the comparison's address
- ``layout``       one seeded network layout and community split per network, computed once
- ``network_view`` the citizens' network coloured where A and B differ (or by community)
- ``live_chart``   a Vega-Lite widget whose data changes without rebuilding the chart
- ``charts``       the live charts: A and B overlaid, or B - A
- ``headline``     the headline cards (A, B, B - A) and the settings in force
- ``batch_view``   exploring a finished batch (``--results``) and replaying its runs
- ``app``          the page: compare mode, the side panel, the batch tab
- ``offline``      serving Solara's front-end assets locally (no CDN)
- ``server``       ``serve(host, port)``: starts the app and blocks until Ctrl-C

Only ``server`` and ``__main__`` are imported without the optional ``viz`` dependencies
(Solara, Altair); they import the rest when the server starts.
"""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT"]
