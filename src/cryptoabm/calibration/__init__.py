"""Calibration of the shared behavioural parameters to the public record, and validation of
every preset against it (``cryptoabm calibrate`` and ``cryptoabm validate``).

- :mod:`.parameters`: the behavioural keys (``configs/behaviour.toml``) and the ranges searched
- :mod:`.targets`: the target file's schema and loading (``validation/targets.toml``)
- :mod:`.metrics`: named metrics of one run's monthly table
- :mod:`.simulate`: the targets' metrics simulated through the batch layer
- :mod:`.calibrate`: simulated method of moments (Sobol' global stage, Nelder-Mead refinement)
- :mod:`.validate`: the validation report and figures
"""
