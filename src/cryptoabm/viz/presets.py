"""The scenario presets and policy packages the app offers: the core's catalogue
(:mod:`cryptoabm.config.catalogue`)."""

from cryptoabm.config.catalogue import (
    CONFIGS_ENV,
    PREFERRED_DEFAULTS,
    REPOSITORY_CONFIGS,
    SHARED_PARAMETER_FILES,
    PolicyPackage,
    Preset,
    configs_dir,
    default_preset,
    policy_packages,
    preset_files,
    presets,
    short_name,
)

__all__ = ["CONFIGS_ENV", "PREFERRED_DEFAULTS", "REPOSITORY_CONFIGS", "SHARED_PARAMETER_FILES", "PolicyPackage",
           "Preset", "configs_dir", "default_preset", "policy_packages", "preset_files", "presets", "short_name"]
