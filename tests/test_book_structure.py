"""Every chapter notebook follows the book's anatomy (design.md §5) and is wired into the table of contents."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from toc import pages as toc_files  # noqa: E402  (the one reader of _toc.yml, sections included)

NOTEBOOKS = sorted(
    p.relative_to(ROOT).as_posix() for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def test_toc_entries_exist():
    missing = [f for f in toc_files() if not any((ROOT / f"{f}{ext}").is_file() for ext in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_notebook_is_in_the_toc():
    listed = {f"{f}.ipynb" for f in toc_files()}
    orphans = [nb for nb in NOTEBOOKS if nb not in listed]
    assert not orphans, f"notebooks not in _toc.yml (nbval would still run them): {orphans}"


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_chapter_anatomy(path):
    nb = nbformat.read(ROOT / path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert all(not c.outputs and c.execution_count is None for c in code), f"{path}: stored outputs; strip them"
    title = nb.cells[0].source.splitlines()[0]
    numbered = re.match(r"# \d", title)
    assert title.startswith("# ") and not numbered, f"{path}: H1 title {title!r} (no number: the book numbers chapters)"
    assert "lessons_lib.setup(" in code[0].source, f"{path}: the first code cell must call lessons_lib.setup()"
    assert any("explore(" in c.source for c in code), f"{path}: no interactive experiment (explore)"
    assert re.search(r"^## Exercises", markdown, re.M), f"{path}: no Exercises section"
    assert any(re.search(r"\bcheck_\w+\(", c.source) for c in code), f"{path}: no auto-checked exercise"
    for heading in ("## Key points", "## References"):
        assert re.search(f"^{heading}", markdown, re.M), f"{path}: no {heading[3:]} section"
