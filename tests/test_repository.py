"""The repository stands alone: no tracked file points outside it, and every cited source exists.

The scenario comments, docstrings and docs cite public sources as "docs/sources.md [n]". Notes
that live outside the repository (a product team's private notes, files on one machine) must
never be cited: a reader of a clean clone cannot open them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Built from pieces so that this file does not itself contain what it forbids.
_PRIVATE_NOTES = "domain" + ".md"
_MACHINE_PATH = re.compile(r"(?<![\w.~-])/" + "work" + r"(?![\w-])")
_CITATION_LINE = re.compile(r"sources\.md")
_NUMBER = re.compile(r"\[(\d+)\]")
_ENTRY = re.compile(r"^(\d+)\. \*\*", re.MULTILINE)


def offending_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of each line citing the private notes or an absolute path under the machine's work dir."""
    bad = []
    for number, line in enumerate(text.splitlines(), 1):
        if _PRIVATE_NOTES in line.lower() or _MACHINE_PATH.search(line):
            bad.append((number, line.strip()))
    return bad


def _tracked_text_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    files = []
    for name in out.decode().split("\0"):
        path = ROOT / name
        if not name or not path.is_file():
            continue  # deleted in the working tree but still in the index
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue  # binary
        files.append(path)
    return files


def test_the_detector_catches_private_notes_and_machine_paths():
    assert offending_lines("# 48 h to reply (" + "Domain" + ".md, standard flow); high")
    assert offending_lines('"""Rules (docs: /' + 'work/team/notes.md), checked end to end."""')
    assert offending_lines("see /" + "work/main/scenarios/default.yaml")
    assert offending_lines("path = '/" + "work'")
    # public addresses and ordinary words are fine
    assert not offending_lines("# Seller Central (docs/sources.md [19]): 48 h to answer Amazon; high")
    assert not offending_lines("<https://example.com/" + "work/page> and a framework/ folder, homework/x")
    assert not offending_lines("the network and the workflow")


def test_no_tracked_file_points_outside_the_repository():
    files = _tracked_text_files()
    assert any(p.name == "default.yaml" for p in files) and any(p.suffix == ".py" for p in files)
    found = {str(p.relative_to(ROOT)): offending_lines(p.read_text(encoding="utf-8")) for p in files}
    found = {name: lines for name, lines in found.items() if lines}
    assert not found, found


def _source_numbers() -> list[int]:
    return [int(n) for n in _ENTRY.findall((ROOT / "docs/sources.md").read_text())]


def test_sources_are_numbered_one_to_n_without_gaps():
    numbers = _source_numbers()
    assert numbers == list(range(1, len(numbers) + 1)), numbers


def test_every_cited_source_number_exists():
    known = set(_source_numbers())
    dangling = []
    for path in _tracked_text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not _CITATION_LINE.search(line):
                continue
            for n in _NUMBER.findall(line):
                if int(n) not in known:
                    dangling.append((str(path.relative_to(ROOT)), number, f"[{n}]"))
    assert not dangling, dangling
