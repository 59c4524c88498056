"""An English corpus assembled from text that ships with Python itself (docstrings and pydoc topics).
"""

from __future__ import annotations

import ast
import functools
import os
import string
import sysconfig
from pathlib import Path

# ---------------------------------------------------------------------------------------- text corpus

_CORPUS_SKIP = {
    "test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "tkinter", "turtledemo", "ensurepip",
    "venv", "__pycache__",
}


_KEEP = set(string.printable) - set("\x0b\x0c\r\t")


@functools.lru_cache(maxsize=1)
def text_corpus() -> str:
    """English text that ships with Python: the standard library's docstrings plus ``pydoc_data.topics``.

    About 2.3 million characters of printable ASCII. Docstrings are read from the source files (nothing
    is imported, nothing downloaded). The first call takes a few seconds; the result is cached in
    ``~/.cache/lessons_lib`` (or ``$XDG_CACHE_HOME``) and in memory.
    """
    import sys

    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lessons_lib"
    cache = cache_root / f"corpus-py{sys.version_info.major}.{sys.version_info.minor}.txt"
    if cache.is_file():
        return cache.read_text(encoding="utf-8")
    text = _build_corpus()
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home only costs the rebuild next time
    return text


def _build_corpus() -> str:
    from pydoc_data.topics import topics

    root = Path(sysconfig.get_paths()["stdlib"])
    parts = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part in _CORPUS_SKIP or part.startswith("config-") for part in rel.parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    parts.append(doc)
    parts += [topics[key] for key in sorted(topics)]
    text = "\n\n".join(parts).replace("\t", "    ")
    return "".join(ch for ch in text if ch in _KEEP)
