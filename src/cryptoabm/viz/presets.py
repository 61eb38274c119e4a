"""The scenario presets the app offers: the core's preset catalogue (:mod:`cryptoabm.config.catalogue`)."""

from cryptoabm.config.catalogue import (
    CONFIGS_ENV,
    PREFERRED_DEFAULTS,
    REPOSITORY_CONFIGS,
    SHARED_PARAMETER_FILES,
    Preset,
    configs_dir,
    default_preset,
    preset_files,
    presets,
)

__all__ = ["CONFIGS_ENV", "PREFERRED_DEFAULTS", "REPOSITORY_CONFIGS", "SHARED_PARAMETER_FILES", "Preset",
           "configs_dir", "default_preset", "preset_files", "presets"]
