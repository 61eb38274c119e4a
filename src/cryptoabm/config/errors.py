"""Errors in what a user gave the project, and their wording as one plain line.

:class:`InputError` is the base of every mistake in the user's input (a config, an experiment,
a results folder): the command line reports it as one line and exits 2. This module is light on
purpose, so the command line can word any error without importing the batch or analysis stack.
The wording of a validation error (:func:`first_problem`) looks up the config schema only when
it needs a did-you-mean suggestion.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cryptoabm.config.values import SAFE_NAME_PATTERN, SAFE_NAME_RULE, WrongKind


class InputError(Exception):
    """A mistake in the user's input (a file, a folder, an option): one line, exit status 2."""


class ConfigError(InputError):
    """A configuration mistake, reported as one plain line: file, field, what is allowed."""

    def __init__(self, file: str | Path, field: str, message: str):
        self.file = str(file)
        self.field = field
        self.message = message
        where = f"{self.file}: {field}: " if field else f"{self.file}: "
        super().__init__(where + message)

    def __reduce__(self):
        # rebuilt from its three parts, so it crosses process boundaries (mesa.batch_run's pool)
        return (type(self), (self.file, self.field, self.message))


class _FieldProblem(ValueError):
    """A cross-field check that already knows which field is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def first_problem(exc: ValidationError, unknown_key: Any) -> tuple[str, str]:
    """The field and one-line message of a validation error's first problem: an unknown key
    first (it usually explains the others; ``unknown_key(loc)`` words it), else a failed check's
    own message, else pydantic's error described."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    problem = _field_problem_in(error)
    if problem is not None:
        return problem.field, problem.message
    if error["type"] == "extra_forbidden":
        message = unknown_key(error["loc"])
    elif error["type"] == "value_error":
        message = str(error["ctx"]["error"])
    else:
        message = _describe_error(error)
    return _loc_to_field(error["loc"]), message


def _field_problem_in(error: dict[str, Any]) -> _FieldProblem | None:
    """The check's own problem, if it knows its field: a cross-field check (the whole key path),
    or a value of the wrong kind (its key in the table the error is located at)."""
    ctx = error.get("ctx") or {}
    problem = ctx.get("error")
    if isinstance(problem, WrongKind):
        return _FieldProblem(_loc_to_field((*error["loc"], problem.field)), problem.message)
    return problem if isinstance(problem, _FieldProblem) else None


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    # Discriminated unions put the event kind into the location; drop it for readability.
    return ".".join(str(part) for i, part in enumerate(loc) if not _is_event_tag(loc, i))


def _is_event_tag(loc: tuple[Any, ...], i: int) -> bool:
    return i >= 2 and loc[i - 2] == "events" and isinstance(loc[i - 1], int) and loc[i] in _EVENT_KINDS


_EVENT_KINDS = {"policy", "relocation_wave", "price_shock", "hashrate_shock", "internet_shutdown",
                "mining_power_cut", "legal_tender_reversal", "state_capacity"}
# a policy lever of earlier versions that is state capacity now -> its field in [state_capacity]
STATE_CAPACITY_FROM_POLICY = {"enforcement_detection_probability": "grey_mining_detection_probability",
                              "crypto_flight_enforcement": "crypto_flight_enforcement"}


def _describe_error(error: dict[str, Any]) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        return _unknown_key_message(str(loc[-1]), _allowed_keys_at(loc[:-1]))
    given = error.get("input")
    message = error["msg"]
    if kind == "union_tag_invalid":
        tag = (error.get("ctx") or {}).get("tag", given)
        return f"unknown event kind {tag!r}; allowed: {', '.join(sorted(_EVENT_KINDS))}"
    if kind == "missing":
        return "required value is missing"
    if kind == "string_pattern_mismatch" and (error.get("ctx") or {}).get("pattern") == SAFE_NAME_PATTERN:
        return f"{SAFE_NAME_RULE} (got {given!r:.100})"
    if kind == "finite_number":
        return f"must be a finite number (got {given!r})"
    shown = repr(given) if not isinstance(given, (dict, list)) else type(given).__name__
    return f"{message[0].lower()}{message[1:]} (got {shown})"


def _unknown_key_message(key: str, allowed: tuple[str, ...] | list[str]) -> str:
    if key in STATE_CAPACITY_FROM_POLICY and key not in allowed:
        return (f"'{key}' is state capacity, not a policy lever: set state_capacity."
                f"{STATE_CAPACITY_FROM_POLICY[key]} (a country trait; a state_capacity event changes it)")
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
    return f"unknown key '{key}'{hint}"


def _allowed_keys_at(loc: tuple[Any, ...]) -> tuple[str, ...]:
    """Field names of the config table at ``loc``, for did-you-mean suggestions."""
    from cryptoabm.config.policy import EVENT_MODELS
    from cryptoabm.config.scenario import Scenario

    model: Any = Scenario
    for i, part in enumerate(loc):
        if isinstance(part, int):
            continue
        if _is_event_tag(loc, i):
            model = EVENT_MODELS[part]
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return ()
        annotation = field.annotation
        model = _section_model_in(annotation)
        if model is None:
            return ()
    return tuple(getattr(model, "model_fields", {}))




def _section_model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _section_model_in(arg)
        if found is not None:
            return found
    return None
