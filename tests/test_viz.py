"""The notebook setup, the book renderer, the plotting helpers and progress output."""

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from lessons_lib import setup
from lessons_lib.notebook import viz
from lessons_lib.training.loop import progress


def test_setup_reports_the_device_and_selects_the_book_renderer(capsys, monkeypatch):
    monkeypatch.setenv("LESSONS_STATIC", "1")
    device = setup(seed=3)
    out = capsys.readouterr().out
    assert f"on {device}" in out and "seed 3" in out and "static" in out
    assert pio.renderers.default == "book" and pio.templates.default == "lessons"


def test_live_setup_keeps_the_mimetype_for_jupyterlab(monkeypatch):
    monkeypatch.setenv("LESSONS_STATIC", "0")
    setup(quiet=True)
    assert pio.renderers.default == "plotly_mimetype+book"
    monkeypatch.setenv("LESSONS_STATIC", "1")
    setup(quiet=True)


def test_book_renderer_emits_html_without_plotlyjs_mathjax_or_cdn():
    bundle = viz.BookRenderer().to_mimebundle(go.Figure(go.Scatter(y=[1, 2])).to_plotly_json())
    html = bundle["text/html"]
    assert "Plotly.newPlot" in html
    assert "cdn" not in html.lower() and "mathjax" not in html.lower() and "<script src" not in html
    assert set(bundle) == {"text/html"}


def test_book_renderer_lets_wide_figures_fill_the_column():
    fig = go.Figure(go.Scatter(y=[1, 2]), layout={"width": 1400, "height": 420})
    html = viz.BookRenderer().to_mimebundle(fig.to_plotly_json())["text/html"]
    assert '"width":1400' not in html.replace(" ", "") and '"height":420' in html.replace(" ", "")
    assert fig.layout.width == 1400, "the caller's figure is not modified"


def test_decision_boundary_draws_a_classifier_and_survives_divergence():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    y = np.array([0, 1, 1])
    fig = viz.decision_boundary(lambda P: (P.sum(axis=1) > 0.5).astype(float), X, y, resolution=20)
    heat = fig.data[0]
    assert np.asarray(heat.z).shape == (20, 20) and set(np.unique(heat.z)) == {0.0, 1.0}
    fig = viz.decision_boundary(lambda P: np.full(len(P), np.nan), X, y, resolution=10)
    assert np.all(np.asarray(fig.data[0].z) == 0.5)


def test_decision_boundary_input_errors():
    with pytest.raises(ValueError, match=r"decision_boundary: X has shape \(3, 3\); expected \(n, 2\)"):
        viz.decision_boundary(lambda P: P[:, 0], np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="X has 3 rows but y has 2"):
        viz.decision_boundary(lambda P: P[:, 0], np.zeros((3, 2)), np.zeros(2))


def test_progress_prints_plain_lines_when_static(capsys, monkeypatch):
    monkeypatch.setenv("LESSONS_STATIC", "1")
    assert list(progress(range(8), desc="epochs")) == list(range(8))
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(" (")[0] for line in lines] == ["epochs: 2/8", "epochs: 4/8", "epochs: 6/8", "epochs: 8/8"]
    list(progress(iter([1, 2]), desc="stream"))
    assert "stream: 2 done" in capsys.readouterr().out


def test_matplotlib_style_uses_the_palette():
    import matplotlib as mpl

    viz.style_matplotlib()
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"][:2] == viz.PALETTE[:2]
