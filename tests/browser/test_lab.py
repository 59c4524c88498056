"""The live experiments in a real front end: JupyterLab in headless Chromium, network blocked.

One chapter per part is opened in JupyterLab (started here on 127.0.0.1 with a throw-away profile, see
``bench/lab_latency.py``), all its cells are run, then the first experiment's control is moved one step:
the figure must change in place and the notebook must show no error output.

Needs Debian's ``chromium``. Without it the tests skip, unless ``LESSONS_REQUIRE_BROWSER=1`` (set by CI),
which turns a skip into a failure. Every wait has a timeout.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = ["part1_foundations/03_neuron_and_perceptron.ipynb", "part2_pytorch/10_autograd.ipynb",
            "part3_cnns/18_convolution_mechanics.ipynb", "part4_sequences/24_backprop_through_time.ipynb"]


@pytest.fixture(scope="module")
def lab():
    spec = importlib.util.spec_from_file_location("lab_latency", ROOT / "bench" / "lab_latency.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def session(lab, browser):  # the session's one browser (conftest.py)
    with lab.lab_server() as (base, token):
        yield base, token, browser


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_live_experiment_moves_in_jupyterlab(chapter, lab, session):
    base, token, browser = session
    context, page, _, problems = lab.open_and_run(browser, base, token, chapter, run_all_s=180)
    try:
        experiments = lab.experiments_in(page, timeout_s=30, cells=list(lab.titles(ROOT / "book" / chapter)))
        assert experiments, f"{chapter}: no explore() widget after Run All"
        assert all(e["drawn"] for e in experiments), f"{chapter}: a live figure did not draw: {experiments}"
        first = experiments[0]
        lab.scroll_to(page, first["index"])
        result = lab.move_once(page, first["index"], first["kind"], timeout_s=20)
        assert result["ms"] is not None and result["changed"], f"{chapter}: the figure did not change: {result}"
        assert not result["error"], f"{chapter}: the experiment showed an error message"
        errors = page.evaluate(lab.ERRORS_JS)
        assert not errors, f"{chapter}: error output in the notebook:\n" + "\n".join(errors)
        assert not problems, f"{chapter}:\n" + "\n".join(problems)
    finally:
        context.close()
