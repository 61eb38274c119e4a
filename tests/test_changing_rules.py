"""docs/changing-rules.md works as written.

The tutorial's edits are written in three machine-readable forms (see the top of the page):
"In `file`, replace:" + block, then "with:" + block; "In `file`, after the line:" + block,
then "add:" + block; "Create `file`:" + block. This test copies the repository to a scratch
folder, applies every edit on the page in order (each anchor must occur exactly once), checks
that the copy's model really changed, and runs the walk-throughs' own tests plus the existing
tests of the code they touch, in the copy, in a fresh interpreter.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "changing-rules.md"
COPIED_DIRS = ("src", "tests", "configs")
COPIED_FILES = ("pyproject.toml",)
IGNORED = shutil.ignore_patterns(".venv", "__pycache__", "results", ".pytest_cache", ".hypothesis", "*.egg-info")

# Existing tests of the code the walk-throughs change (run when they exist in the copy).
EXISTING_TESTS = ("tests/test_rules_citizens.py", "tests/test_model_invariants.py", "tests/test_economics.py")
# Languages of blocks that are code to put into the repository: each must be part of an edit.
CODE_LANGUAGES = {"python", "toml"}

FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
REPLACE = re.compile(r"(?:^|\W)[Ii]n `([^`]+)`, replace:$")
AFTER_LINE = re.compile(r"(?:^|\W)[Ii]n `([^`]+)`, after the line:$")
CREATE = re.compile(r"(?:^|\W)Create `([^`]+)`:$")
WITH = re.compile(r"(?:^|\W)with:$")
ADD = re.compile(r"(?:^|\W)add:$")


@dataclass(frozen=True)
class Block:
    line: int  # line number of the opening fence in the page
    intro: str  # the paragraph of prose just before the block, on one line
    language: str
    text: str  # the block's content, ending in a newline


@dataclass(frozen=True)
class Edit:
    kind: str  # "replace", "after_line" or "create"
    path: str
    anchor: str  # text to find ("" for create)
    text: str  # replacement, insertion or new file
    line: int


def fenced_blocks(markdown: str) -> list[Block]:
    lines = markdown.splitlines(keepends=True)
    blocks, paragraph, intro, i = [], [], "", 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            if lines[i].strip():
                paragraph.append(lines[i].strip())
                intro = " ".join(paragraph)
            else:
                paragraph = []
            i += 1
            continue
        assert not opening.group(1), f"changing-rules.md:{i + 1}: code blocks must start at the margin"
        end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() == "```"), None)
        assert end is not None, f"changing-rules.md:{i + 1}: code block is never closed"
        blocks.append(Block(i + 1, intro, opening.group(2), "".join(lines[i + 1 : end])))
        paragraph, intro, i = [], "", end + 1
    return blocks


def parse_edits(markdown: str) -> list[Edit]:
    """Every edit on the page, in order; a block of code that belongs to no edit is an error."""
    blocks = fenced_blocks(markdown)
    edits, i = [], 0
    while i < len(blocks):
        block = blocks[i]
        where = f"changing-rules.md:{block.line}"
        for kind, pattern, follow, word in (("replace", REPLACE, WITH, "with:"),
                                            ("after_line", AFTER_LINE, ADD, "add:")):
            found = pattern.search(block.intro)
            if found:
                assert i + 1 < len(blocks) and follow.search(blocks[i + 1].intro), (
                    f"{where}: '{block.intro}' must be followed by a '{word}' block")
                edits.append(Edit(kind, found.group(1), block.text, blocks[i + 1].text, block.line))
                i += 2
                break
        else:
            created = CREATE.search(block.intro)
            if created:
                edits.append(Edit("create", created.group(1), "", block.text, block.line))
            else:
                assert block.language not in CODE_LANGUAGES, (
                    f"{where}: a {block.language} block that is not part of an edit ('{block.intro}')")
            i += 1
    return edits


def apply_edit(root: Path, edit: Edit) -> None:
    where = f"changing-rules.md:{edit.line}"
    path = root / edit.path
    assert root.resolve() in path.resolve().parents, f"{where}: {edit.path} is outside the repository"
    if edit.kind == "create":
        assert not path.exists(), f"{where}: {edit.path} already exists"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(edit.text)
        return
    assert path.is_file(), f"{where}: no file {edit.path}"
    text = path.read_text()
    count = text.count(edit.anchor)
    assert count == 1, f"{where}: the text to find occurs {count} times in {edit.path}, not once:\n{edit.anchor}"
    start = text.index(edit.anchor)
    assert start == 0 or text[start - 1] == "\n", f"{where}: the text to find must be whole lines of {edit.path}"
    end = start + len(edit.anchor)
    if edit.kind == "replace":
        path.write_text(text[:start] + edit.text + text[end:])
    else:  # after_line: insert below the anchor
        path.write_text(text[:end] + edit.text + text[end:])


def copy_repository(destination: Path) -> Path:
    for name in COPIED_DIRS:
        shutil.copytree(ROOT / name, destination / name, ignore=IGNORED)
    for name in COPIED_FILES:
        shutil.copy2(ROOT / name, destination / name)
    return destination


def run_in(copy: Path, *args: str, timeout: float = 240.0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)


# What the walk-throughs add, checked in the copy's own interpreter.
CHANGED_MODEL = textwrap.dedent("""
    import inspect
    from pathlib import Path

    import cryptoabm
    from cryptoabm.config import MerchantConfig, Policy, load_scenario
    from cryptoabm.model import INDICATOR_NAMES
    from cryptoabm.rules.capital_flows import crypto_outflow_tax_usd

    assert Path(cryptoabm.__file__).resolve().is_relative_to(Path.cwd().resolve()), cryptoabm.__file__
    # part 1: merchants weigh the card fees they save
    assert MerchantConfig.model_fields["card_fee_share"].default == 0.0
    assert load_scenario("my_scenarios/card_fees.toml").merchants.card_fee_share == 0.025
    assert load_scenario("configs/baseline.toml").merchants.card_fee_share == 0.0
    # part 2: a tax on crypto outflows
    assert Policy.model_fields["crypto_outflow_tax_share"].default == 0.0
    assert "tax_share" in inspect.signature(crypto_outflow_tax_usd).parameters
    assert "crypto_outflow_tax_usd" in INDICATOR_NAMES
    print("model changed as the walk-throughs say")
""")


def test_both_walk_throughs_apply_to_a_copy_of_the_repository_and_its_tests_pass(tmp_path):
    edits = parse_edits(DOC.read_text())
    touched = {edit.path for edit in edits}
    # both parts are there: the config, the rules, the agent, the output, new tests
    for path in ("src/cryptoabm/config/sections.py", "src/cryptoabm/config/policy.py", "src/cryptoabm/rules/citizens.py", "src/cryptoabm/rules/capital_flows.py",
                 "src/cryptoabm/agents/citizen.py", "src/cryptoabm/model.py"):
        assert path in touched, f"no edit of {path} in docs/changing-rules.md"
    new_tests = [edit.path for edit in edits if edit.kind == "create" and edit.path.startswith("tests/test_")]
    assert len(new_tests) >= 2, new_tests

    copy = copy_repository(tmp_path / "repo")
    for edit in edits:
        apply_edit(copy, edit)

    changed = run_in(copy, "-c", CHANGED_MODEL)
    assert changed.returncode == 0, changed.stdout + changed.stderr

    existing = [name for name in EXISTING_TESTS if (copy / name).is_file()]
    result = run_in(copy, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *new_tests, *existing)
    assert result.returncode == 0, (
        f"tests failed in the edited copy ({copy}):\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout[-2000:]


@pytest.mark.parametrize("markdown, problem", [
    ("In `a.py`, replace:\n\n```python\nx = 1\n```\n\nThen:\n\n```python\nx = 2\n```\n", "must be followed"),
    ("Some code:\n\n```python\nx = 1\n```\n", "not part of an edit"),
])
def test_a_malformed_edit_is_refused(markdown, problem):
    with pytest.raises(AssertionError, match=problem):
        parse_edits(markdown)


def test_an_anchor_must_occur_exactly_once(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\nx = 1\n")
    with pytest.raises(AssertionError, match="occurs 2 times"):
        apply_edit(tmp_path, Edit("replace", "a.py", "x = 1\n", "x = 2\n", 1))
    edit = parse_edits("In `a.py`, after the line:\n\n```python\ny = 0\n```\n\nadd:\n\n```python\nz = 0\n```\n")[0]
    (tmp_path / "a.py").write_text("y = 0\nw = 0\n")
    apply_edit(tmp_path, edit)
    assert (tmp_path / "a.py").read_text() == "y = 0\nz = 0\nw = 0\n"
