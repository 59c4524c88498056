"""The book's table of contents, read once for the build tooling, the tests and the benchmark.

``pages()`` lists every file of ``_toc.yml`` in reading order (the root, every part's chapters and their
``sections``, at any depth) as paths relative to the repository root, without a suffix.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def pages(root: Path = ROOT) -> list[str]:
    """Every page of ``_toc.yml``, in order: ``["book/intro", "book/part1_foundations/01_...", ...]``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [str(Path(f).with_suffix("")) for f in files]


def notebooks(root: Path = ROOT) -> list[Path]:
    """The pages that are notebooks, as absolute paths of their ``.ipynb`` files."""
    return [root / f"{p}.ipynb" for p in pages(root) if (root / f"{p}.ipynb").is_file()]
