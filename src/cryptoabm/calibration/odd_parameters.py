"""The ODD's values of the shared behavioural parameters, kept equal to ``configs/behaviour.toml``.

docs/ODD.md gives each parameter's value in tables of rows ``| `section.key` | value | source |``
(several keys in one row: ``| `a.x`, `a.y` | 0.5, 0.1 | ... |``). For every key of
``BEHAVIOURAL_KEYS`` such a row must show the value behaviour.toml holds and, for a fitted
value, say so with the calibration's accepted draws and the range searched. :func:`stale_rows`
lists every row that does not; :func:`regenerate` rewrites them (the value, and for a fitted
key its source; other text is kept). After ``cryptoabm calibrate`` rewrites behaviour.toml:

    python -m cryptoabm.calibration.odd_parameters            # rewrite docs/ODD.md's rows
    python -m cryptoabm.calibration.odd_parameters --check    # list stale rows, exit 1 if any
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cryptoabm.calibration.parameters import BEHAVIOURAL_KEYS, CALIBRATED_RANGES

ROW = re.compile(r"^\| (?P<keys>`[^|]+`) \| (?P<values>[^|]*) \| (?P<source>.*) \|$")
KEY = re.compile(r"`([a-z_]+(?:\.[a-z_]+)?)`")
NUMBER = re.compile(r"^-?[\d,]*\.?\d+(?:e-?\d+)?")
FITTED_COMMENT = re.compile(r"#\s*fitted:.*\(accepted draws (?P<draws>[^)]+)\)")
FITTED_SOURCE = "fitted: `cryptoabm calibrate validation/targets.toml` (accepted draws {draws}; range searched {low}-{high})"


@dataclass(frozen=True)
class Behaviour:
    """A behavioural parameter as behaviour.toml states it: its value, and its accepted draws if fitted."""

    value: float | int
    accepted_draws: str | None  # "0.7605-0.8899" for a fitted value, None for an assumption

    @property
    def fitted(self) -> bool:
        return self.accepted_draws is not None


def read_behaviour(path: str | Path) -> dict[str, Behaviour]:
    """Every behavioural key's value in behaviour.toml and, from its comment, whether it was fitted."""
    text = Path(path).read_text()
    tables = tomllib.loads(text)
    draws: dict[str, str] = {}
    section = None
    for line in text.splitlines():
        header = re.match(r"^\[(\w+)\]", line)
        section = header.group(1) if header else section
        assignment = re.match(r"^(\w+)\s*=", line)
        fitted = FITTED_COMMENT.search(line)
        if assignment and fitted and section:
            draws[f"{section}.{assignment.group(1)}"] = fitted.group("draws")
    found = {}
    for key in BEHAVIOURAL_KEYS:
        section, field = key.split(".")
        if field in tables.get(section, {}):
            found[key] = Behaviour(tables[section][field], draws.get(key))
    return found


def _fitted_source(key: str, behaviour: Behaviour) -> str:
    low, high = CALIBRATED_RANGES.get(key, (math.nan, math.nan))
    return FITTED_SOURCE.format(draws=behaviour.accepted_draws, low=f"{low:g}", high=f"{high:g}")


def _rows(odd: str):
    """(line index, keys, values, source) of every parameter row naming a behavioural key."""
    for index, line in enumerate(odd.split("\n")):
        row = ROW.match(line)
        if not row:
            continue
        names = KEY.findall(row["keys"])
        section = names[0].split(".")[0] if names and "." in names[0] else ""
        keys = [name if "." in name else f"{section}.{name}" for name in names]
        if not any(key in BEHAVIOURAL_KEYS for key in keys):
            continue
        values = row["values"].split(", ") if len(keys) > 1 else [row["values"]]
        if len(values) == len(keys):
            yield index, keys, values, row["source"]


def _number(text: str) -> float | None:
    found = NUMBER.match(text.strip())
    return float(found.group(0).replace(",", "")) if found else None


def stale_rows(odd: str, behaviour: dict[str, Behaviour]) -> list[str]:
    """Every way the ODD's rows disagree with behaviour.toml, one line each (empty: they agree)."""
    problems = []
    shown: set[str] = set()
    for index, keys, values, source in _rows(odd):
        for key, value in zip(keys, values, strict=True):
            if key not in behaviour:
                continue
            shown.add(key)
            expected = behaviour[key]
            number = _number(value)
            if number is None or not math.isclose(number, float(expected.value), rel_tol=1e-9, abs_tol=1e-12):
                problems.append(f"docs/ODD.md line {index + 1}: {key} is {value.strip()!r}, "
                                f"behaviour.toml has {expected.value!r}")
            if len(keys) == 1 and expected.fitted and source != _fitted_source(key, expected):
                problems.append(f"docs/ODD.md line {index + 1}: {key} should read '{_fitted_source(key, expected)}'")
            if len(keys) == 1 and not expected.fitted and source.startswith("fitted"):
                problems.append(f"docs/ODD.md line {index + 1}: {key} is not fitted in behaviour.toml")
    problems += [f"docs/ODD.md: no row gives {key}" for key in behaviour if key not in shown]
    return problems


def _formatted(value: float | int) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,}" if abs(value) >= 1000 else repr(value)


def regenerate(odd: str, behaviour: dict[str, Behaviour], comments: dict[str, str] | None = None) -> str:
    """The ODD with every behavioural row's value (and a fitted key's source) as behaviour.toml has them."""
    lines = odd.split("\n")
    for index, keys, values, source in list(_rows(odd)):
        new_values = []
        for key, value in zip(keys, values, strict=True):
            expected = behaviour.get(key)
            number = _number(value)
            if expected is None or (number is not None and math.isclose(number, float(expected.value), rel_tol=1e-9,
                                                                        abs_tol=1e-12)):
                new_values.append(value)
                continue
            leading = NUMBER.match(value.strip())
            rest = value.strip()[leading.end():] if leading else ""
            new_values.append(_formatted(expected.value) + rest)
        new_source = source
        if len(keys) == 1 and keys[0] in behaviour:
            expected = behaviour[keys[0]]
            if expected.fitted:
                new_source = _fitted_source(keys[0], expected)
            elif source.startswith("fitted"):
                new_source = (comments or {}).get(keys[0], "assumption")
        key_cell = ROW.match(lines[index])["keys"]
        lines[index] = f"| {key_cell} | {', '.join(new_values)} | {new_source} |"
    return "\n".join(lines)


def assumption_comments(path: str | Path) -> dict[str, str]:
    """Each non-fitted behavioural key's comment in behaviour.toml (its stated source)."""
    comments = {}
    section = None
    for line in Path(path).read_text().splitlines():
        header = re.match(r"^\[(\w+)\]", line)
        section = header.group(1) if header else section
        assignment = re.match(r"^(\w+)\s*=[^#]*#\s*(.*)$", line)
        if assignment and section:
            comments[f"{section}.{assignment.group(1)}"] = assignment.group(2).strip()
    return comments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cryptoabm.calibration.odd_parameters",
                                     description="Rewrite (or --check) docs/ODD.md's behavioural values from "
                                                 "configs/behaviour.toml.")
    parser.add_argument("--odd", type=Path, default=Path("docs/ODD.md"))
    parser.add_argument("--behaviour", type=Path, default=Path("configs/behaviour.toml"))
    parser.add_argument("--check", action="store_true", help="list stale rows and exit 1 if any; change nothing")
    args = parser.parse_args(argv)
    for path in (args.odd, args.behaviour):
        if not path.is_file():
            print(f"{path}: no such file", file=sys.stderr)
            return 2
    behaviour = read_behaviour(args.behaviour)
    odd = args.odd.read_text()
    if args.check:
        problems = stale_rows(odd, behaviour)
        print("\n".join(problems) or f"{args.odd} agrees with {args.behaviour}")
        return 1 if problems else 0
    updated = regenerate(odd, behaviour, assumption_comments(args.behaviour))
    args.odd.write_text(updated)
    left = stale_rows(updated, behaviour)
    print("\n".join(left) or f"{args.odd}: behavioural values as in {args.behaviour}")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
