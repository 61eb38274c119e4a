"""The fenced blocks of the project's READMEs, and how the README test runs each.

A block may be preceded by one HTML comment that says how it is run:

    <!-- readme-test: quick: OLD => NEW | OLD2 => NEW2; setup: OLD => NEW; continues -->

- ``quick: OLD => NEW``: a long block, shortened for the suite by replacing OLD with NEW
  (``CRYPTOABM_README_FULL=1`` runs it as written).
- ``setup: OLD => NEW``: a step that changes the environment (a ``pip install``), replaced
  always by NEW, which checks the environment already has what it installs. Installing from a
  clean clone is the Quickstart's test (``.ci/run``).
- ``continues``: the block reads the results of the blocks before it (otherwise each block
  starts without a ``results/`` folder, as a reader trying it would).
- ``expect-output``: the next unlabelled fenced block is the command's output, compared line
  by line (timings aside).
- ``serves: TEXT``: the command runs until stopped; it passes once it prints TEXT.
- ``syntax-only: WHY``: commands for machines a test cannot reach (a cluster's head node);
  checked with ``bash -n`` and each ``cryptoabm`` line's options against its parser.
- ``quickstart``: the Quickstart; ``.ci/run`` runs it from a clean clone, as written.

In quick mode the scratch copy's experiments also run 2 replications (and 2 Morris
trajectories), so that every batch the READMEs show runs in seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->\s*$")
RUN_LANGUAGES = ("bash", "python", "sql")
FULL_ENV = "CRYPTOABM_README_FULL"
QUICK_EXPERIMENT_EDITS = ((re.compile(r"^replications = \d+", re.M), "replications = 2"),
                          (re.compile(r"^decompose_replications = \d+", re.M), "decompose_replications = 2"),
                          (re.compile(r"^trajectories = \d+", re.M), "trajectories = 2"))


@dataclass
class Block:
    file: str
    line: int  # the fence's line number (1-based)
    language: str
    text: str
    marker: dict[str, str] = field(default_factory=dict)
    output: str | None = None  # the expected output (expect-output)

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"

    def replacements(self, key: str) -> list[tuple[str, str]]:
        spec = self.marker.get(key)
        if not spec:
            return []
        pairs = []
        for part in spec.split(" | "):
            old, _, new = part.partition(" => ")
            pairs.append((old, new))
        return pairs

    def runnable_text(self, full: bool) -> str:
        text = self.text
        for old, new in self.replacements("setup") + ([] if full else self.replacements("quick")):
            assert old in text, f"{self.id}: the marker replaces {old!r}, which the block does not contain"
            text = text.replace(old, new)
        return text


def parse_marker(text: str) -> dict[str, str]:
    found = {}
    for part in text.split("; "):
        key, _, value = part.partition(":")
        found[key.strip()] = value.strip()
    return found


def blocks(path: Path, root: Path) -> list[Block]:
    """Every fenced block of a Markdown file, with its marker and expected output."""
    lines = path.read_text().splitlines()
    found: list[Block] = []
    i = 0
    pending: Block | None = None
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start = i
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        body = "\n".join(lines[start + 1:end]) + "\n"
        marker_line = MARKER.match(lines[start - 1]) if start > 0 else None
        marker = parse_marker(marker_line.group(1)) if marker_line else {}
        block = Block(str(path.relative_to(root)), start + 1, fence.group(1), body, marker)
        if pending is not None and not block.language:
            pending.output = body
            pending = None
        else:
            pending = block if "expect-output" in marker else None
            found.append(block)
        i = end + 1
    return found


def runnable(all_blocks: list[Block]) -> list[Block]:
    return [block for block in all_blocks if block.language in RUN_LANGUAGES]
