"""Calibration of the shared behavioural parameters to the public record, and validation of
every preset against it (``cryptoabm calibrate`` and ``cryptoabm validate``).

- :mod:`.parameters`: the behavioural keys (``configs/behaviour.toml``) and the ranges searched
- :mod:`.targets`: the target file's schema and loading (``validation/targets.toml``)
- :mod:`.metrics`: named metrics of one run's monthly table
- :mod:`.simulate`: the targets' metrics simulated through the batch layer
- :mod:`.calibrate`: simulated method of moments (Sobol' global stage, Nelder-Mead refinement)
- :mod:`.history_matching`: history matching with Gaussian-process emulators, then an emcee posterior
- :mod:`.splits`: pre-registered hold-outs, the temporal and the cross-country split
- :mod:`.predictive`: posterior predictive checks ("K of N" within the predictive interval)
- :mod:`.validate`: the validation report and figures
"""
