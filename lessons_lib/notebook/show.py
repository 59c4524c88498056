"""``show``: display a library function's source in a notebook, so a chapter explains the one implementation.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass

# ----------------------------------------------------------------------------------------------- show


@dataclass
class Source:
    """Syntax-highlighted source code: markdown in Jupyter and in the book, plain text elsewhere."""

    name: str
    code: str

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.code}\n```"

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"# source of {self.name}\n{self.code}"


def show(obj) -> Source:
    """Return the source of a function, class or module of the library, ready to display.

    ``show(lessons_lib.data.toy)`` in a notebook cell renders the code with highlighting, in Jupyter and
    in the built book alike, so chapters explain the library's one implementation instead of a copy.
    """
    try:
        code = inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise TypeError(f"show: cannot find the source of {obj!r}; expected a Python function, class or module") from exc
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))
    return Source(name, textwrap.dedent(code).rstrip())
