"""nbval executes each notebook once; this plugin keeps what it ran, so the book build need not run it again.

With ``LESSONS_EXECUTED_DIR`` set (``make test`` sets it), every notebook whose cells all passed is written
with its outputs to that folder (same relative path); ``book/_ext/execute.py import`` then puts them in the
jupyter-cache that the HTML build reads. Without the variable nothing changes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

_files: dict = {}  # notebook path -> {"nb": NotebookNode, "failed": bool, "start": float, "end": float}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    cell = getattr(item, "cell", None)
    nb = getattr(item.parent, "nb", None)
    if cell is None or nb is None:
        return
    state = _files.setdefault(str(item.fspath), {"nb": nb, "failed": False, "start": call.start, "end": call.stop})
    state["end"] = call.stop
    if report.failed:
        state["failed"] = True
    if call.when == "call" and getattr(item, "test_outputs", None) is not None:
        cell.outputs = item.test_outputs
        counts = [o.get("execution_count") for o in cell.outputs if o.get("execution_count")]
        cell.execution_count = counts[0] if counts else None


def pytest_sessionfinish(session):
    target = os.environ.get("LESSONS_EXECUTED_DIR")
    if not target:
        return
    root = Path(session.config.rootpath).resolve()  # the repository, where `make test` runs pytest
    target = Path(target) if Path(target).is_absolute() else root / target
    times = {}
    for path, state in _files.items():
        if state["failed"]:
            continue
        rel = Path(path).resolve().relative_to(root)
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(state["nb"], str(out))
        times[str(rel)] = round(state["end"] - state["start"], 1)
    if times:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        (target / f"times-{worker}.json").write_text(json.dumps(times, indent=1))
