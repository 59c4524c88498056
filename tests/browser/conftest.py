"""Shared by the browser tests: one headless Chromium for the whole session.

Playwright's sync API allows one ``sync_playwright()`` at a time in a process, so the book test and the
JupyterLab test share this browser instead of each starting their own (a second one fails with "using
Playwright Sync API inside the asyncio loop").
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import book_site  # noqa: E402  (build tooling, shared with bench/)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_support import unavailable  # noqa: E402


@pytest.fixture(scope="session")
def browser():
    with contextlib.ExitStack() as stack:
        try:
            launched = stack.enter_context(book_site.chromium())
        except FileNotFoundError as exc:
            unavailable(f"{exc}; browser test skipped")
        yield launched
