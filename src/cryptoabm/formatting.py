"""How money is written for people: one formatter for the terminal, the dashboard, the report
and the browser app."""

from __future__ import annotations

USD_UNITS = ((1e9, "bn"), (1e6, "m"), (1e3, "k"))


def usd(amount: float, decimals: int = 2, trim: bool = False) -> str:
    """$1.37m, $950.00k, -$12.00; ``trim`` drops trailing zeros (for axis ticks: $1.5bn, $20m)."""
    sign = "-" if amount < 0 else ""
    size = abs(amount)
    suffix = ""
    for divisor, unit in USD_UNITS:
        if size >= divisor:
            size, suffix = size / divisor, unit
            break
    number = f"{size:,.{decimals}f}"
    if trim and "." in number:
        number = number.rstrip("0").rstrip(".")
    return f"{sign}${number}{suffix}"
