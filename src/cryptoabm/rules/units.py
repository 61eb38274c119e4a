"""Unit conversions used by the rules (physical constants, not behavioural parameters)."""

HOURS_PER_MONTH = 730.0  # 8,760 hours a year / 12
DAYS_PER_MONTH = 365.0 / 12.0
MONTHS_PER_YEAR = 12
TH_PER_EH = 1_000_000.0
PH_PER_EH = 1_000.0
TH_PER_PH = 1_000.0
WATTS_PER_MW = 1_000_000.0
KWH_PER_MWH = 1_000.0
HOURS_PER_DAY = 24.0
WATTS_PER_KW = 1_000.0
