"""Every auto-checked exercise: an untouched stub (it raises NotImplementedError) is "not attempted", not a failure.

The list of checkers is collected from lessons_lib.notebook.exercises, so a new chapter's checker is covered
without editing this file. The two Chapter 3 checkers that take weights rather than a function are tested for
their "not attempted" case (None) in tests/test_exercises_ch03.py.
"""

import importlib
import inspect
import pkgutil

import pytest

import lessons_lib.notebook.exercises as exercises
from lessons_lib.notebook.checking import NOT_ATTEMPTED

TAKE_VALUES = {"check_nand_weights", "check_xor_network"}


def _checkers():
    found = []
    for info in sorted(pkgutil.iter_modules(exercises.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{exercises.__name__}.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("check_") and fn.__module__ == module.__name__ and name not in TAKE_VALUES:
                found.append(pytest.param(fn, id=f"{info.name}.{name}"))
    return found


CHECKERS = _checkers()


def stub(*args, **kwargs):
    raise NotImplementedError  # your code here


class StubDataset:
    """Chapter 11's Dataset exercise passes a class; its stub raises in __init__."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError  # your code here


def test_every_chapter_with_exercises_is_collected():
    """One checker module per chapter notebook (book/*/NN_*.ipynb -> chNN) and per appendix notebook
    (book/*/x_*.ipynb, a letter -> app_x), each with a checker."""
    from pathlib import Path

    book = Path(__file__).resolve().parents[1] / "book"
    notebooks = {f"ch{p.name[:2]}" for p in book.glob("*/[0-9][0-9]_*.ipynb")}
    notebooks |= {f"app_{p.name[0]}" for p in book.glob("*/[a-z]_*.ipynb")}
    chapters = {param.id.split(".")[0] for param in CHECKERS}
    assert len(notebooks) >= 16 and chapters == notebooks


@pytest.mark.parametrize("checker", CHECKERS)
def test_an_untouched_stub_is_not_attempted(checker):
    result = checker(StubDataset if checker.__name__ == "check_dataset" else stub)
    assert result.status == NOT_ATTEMPTED and not result.passed
    assert "NotImplementedError" in result.message
