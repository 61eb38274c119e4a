"""Where each value of a merged scenario was written: the file, and the key path in that file.

A preset is merged from several files (its ``extends`` chain, or ``baseline.toml``, a country
file and a policy package) and overrides (an experiment's arm, its standing levers, its
horizon). When validation finds a mistake, :meth:`Origins.locate` turns the key path in the
merged scenario into the file that holds the mistake and the key path there, so the one-line
error names the file to open, not the preset that pulled it in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

EVENTS = "events"


class Origins:
    """Dotted key of the merged scenario -> (file, dotted key in that file). Later notes win,
    as later files win in the merge; each scheduled event is followed as a whole (events are
    concatenated and sorted, so their positions change)."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[str, str]] = {}
        self._events: dict[int, tuple[str, str, Any]] = {}  # id -> (file, key path, the event itself)

    def note_file(self, data: dict[str, Any], file: str | Path) -> None:
        """Every key of one file's tables, and each of its events."""
        self._note_tables(data, str(file), "")
        events = data.get(EVENTS)
        if isinstance(events, list):
            for index, event in enumerate(events):
                self._events[id(event)] = (str(file), f"{EVENTS}.{index}", event)

    def note_override(self, dotted: str, file: str | Path, field: str) -> None:
        """A value set on top of the files (an experiment's override, a command-line option)."""
        self._keys = {key: where for key, where in self._keys.items()
                      if key != dotted and not key.startswith(f"{dotted}.")}
        self._keys[dotted] = (str(file), field)

    def locate(self, field: str, raw: dict[str, Any], default: str | Path) -> tuple[str, str]:
        """The file and key path that hold the value at ``field`` of the merged ``raw`` scenario
        (``default`` and ``field`` themselves when no note covers it)."""
        parts = field.split(".") if field else []
        if len(parts) >= 2 and parts[0] == EVENTS and parts[1].isdigit():
            events = raw.get(EVENTS)
            index = int(parts[1])
            event = events[index] if isinstance(events, list) and index < len(events) else None
            noted = self._events.get(id(event))
            if noted is not None and noted[2] is event:
                return noted[0], ".".join([noted[1], *parts[2:]])
        for end in range(len(parts), 0, -1):
            noted_key = self._keys.get(".".join(parts[:end]))
            if noted_key is not None:
                return noted_key[0], ".".join([noted_key[1], *parts[end:]]) if noted_key[1] else ".".join(parts[end:])
        return str(default), field

    def _note_tables(self, data: dict[str, Any], file: str, prefix: str) -> None:
        for key, value in data.items():
            if not prefix and key == EVENTS:
                continue
            dotted = f"{prefix}{key}"
            self._keys[dotted] = (file, dotted)
            if isinstance(value, dict):
                self._note_tables(value, file, f"{dotted}.")
