"""Shared by the browser tests: one headless Chromium for the whole session.

Playwright's sync API allows one ``sync_playwright()`` at a time in a process, so the book test and the
JupyterLab test share this browser instead of each starting their own (a second one fails with "using
Playwright Sync API inside the asyncio loop").
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from book_site import LAUNCH_ARGS  # noqa: E402  (build tooling, shared with bench/)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_support import unavailable  # noqa: E402


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        unavailable("chromium is not installed (Debian: apt-get install chromium); browser test skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()
