"""Helpers for the browser tests (a module of its own: `conftest` is a name pytest already uses)."""

from __future__ import annotations

import os

import pytest


def unavailable(reason: str):
    """Skip, or fail when LESSONS_REQUIRE_BROWSER is set (CI), so a missing browser is never a silent pass."""
    if os.environ.get("LESSONS_REQUIRE_BROWSER", "") not in ("", "0"):
        pytest.fail(f"{reason} (LESSONS_REQUIRE_BROWSER is set, so this is a failure)")
    pytest.skip(reason)
