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


def test_book_renderer_waits_for_plotlyjs_loaded_after_the_first_paint():
    html = viz.BookRenderer().to_mimebundle(go.Figure(go.Scatter(y=[1, 2])).to_plotly_json())["text/html"]
    assert html.count("<script") == 1 and html.count("</script>") == 1
    script = html[html.index("<script"):]
    assert script.index("if (window.Plotly) { draw(); }") < script.index(f'addEventListener("{viz.PLOTLY_READY}", draw')
    assert script.index("var draw = function () {") < script.index("Plotly.newPlot")
def test_decision_boundary_from_grid_is_what_decision_boundary_draws():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    y = np.array([0, 1, 1])
    predict = lambda P: 1 / (1 + np.exp(-(P[:, 0] + 2 * P[:, 1] - 1)))  # noqa: E731
    computed = viz.decision_boundary(predict, X, y, resolution=15, range_x=(-1, 2), range_y=(-1, 3), title="t")
    gx, gy = np.linspace(-1, 2, 15), np.linspace(-1, 3, 15)
    xx, yy = np.meshgrid(gx, gy)
    z = predict(np.c_[xx.ravel(), yy.ravel()]).reshape(15, 15)  # z[i, j] at (gx[j], gy[i])
    drawn = viz.decision_boundary_from_grid(gx, gy, z, X, y, title="t")
    assert computed.to_plotly_json() == drawn.to_plotly_json()
    heat, boundary, class0, class1 = drawn.data
    np.testing.assert_allclose(heat.z, z)
    # the boundary is where the score crosses 0.5: x1 + 2 x2 = 1, traced on the grid
    assert boundary.mode == "lines" and len(boundary.x) > 2
    np.testing.assert_allclose(np.asarray(boundary.x) + 2 * np.asarray(boundary.y), 1.0, atol=0.05)
    assert heat.z[0][-1] == predict(np.array([[2.0, -1.0]]))[0], "row i is gy[i], column j is gx[j]"
    assert list(drawn.layout.xaxis.range) == [-1, 2] and list(drawn.layout.yaxis.range) == [-1, 3]
    assert class0.marker.color == viz.PALETTE[0] and class1.marker.color == viz.PALETTE[1]
    assert list(class1.x) == [1.0, 0.0] and list(class0.y) == [0.0]


def test_decision_boundary_from_grid_shows_nan_as_undecided_and_names_bad_shapes():
    X, y = np.zeros((2, 2)), np.array([0, 1])
    fig = viz.decision_boundary_from_grid([0, 1, 2], [0, 1], np.full((2, 3), np.nan), X, y)
    assert np.all(np.asarray(fig.data[0].z) == 0.5)
    with pytest.raises(ValueError, match=r"decision_boundary_from_grid: z has shape \(3, 2\); expected "
                                         r"\(len\(gy\), len\(gx\)\) = \(2, 3\)"):
        viz.decision_boundary_from_grid([0, 1, 2], [0, 1], np.zeros((3, 2)), X, y)
    with pytest.raises(ValueError, match="decision_boundary_from_grid: X has 2 rows but y has 3"):
        viz.decision_boundary_from_grid([0, 1, 2], [0, 1], np.zeros((2, 3)), X, np.zeros(3))


def test_pale_mixes_a_palette_colour_with_white():
    assert viz.pale("#0072B2", 1.0) == "#0072b2"
    assert viz.pale("#0072B2", 0.0) == "#ffffff"
    assert viz.pale("#000000", 0.5) == "#808080"
    assert viz.pale("black", 0.25) == "#bfbfbf"


def test_level_line_joins_pieces_with_gaps_and_is_empty_without_a_crossing():
    g = np.linspace(-2, 2, 41)
    xx, yy = np.meshgrid(g, g)
    two_bumps = np.exp(-((xx - 1) ** 2 + yy**2) * 8) + np.exp(-((xx + 1) ** 2 + yy**2) * 8)
    x, y = viz.level_line(g, g, two_bumps, 0.5)
    assert x.dtype == np.float32 and np.isnan(x).sum() == 1, "two closed curves, one gap between them"
    radius = np.hypot(np.abs(x[~np.isnan(x)]) - 1, y[~np.isnan(y)])
    np.testing.assert_allclose(radius, np.sqrt(np.log(2) / 8), atol=0.01)  # exp(-8 r^2) = 0.5
    x, y = viz.level_line(g, g, np.zeros((41, 41)), 0.5)
    assert x.size == 0 and y.size == 0


def test_subplots_matches_make_subplots_and_is_not_shared():
    from plotly.subplots import make_subplots

    from lessons_lib.notebook.viz import subplots

    kwargs = dict(rows=2, cols=2, column_widths=[0.6, 0.4], specs=[[{}, {"rowspan": 2}], [{}, None]],
                  subplot_titles=("a", "b", "c"))
    for _ in range(2):  # built, then copied from the cache
        ours, theirs = subplots(**kwargs), make_subplots(**kwargs)
        for fig in (ours, theirs):
            fig.add_trace(go.Scatter(x=[1], y=[2]), row=2, col=1)
            fig.update_yaxes(range=[0, 4], row=1, col=2)
        assert ours.to_plotly_json() == theirs.to_plotly_json()
    fresh = subplots(**kwargs)  # what the figures above changed did not reach the cached grid
    assert fresh.layout.yaxis2.range is None and not fresh.data
    assert subplots(rows=1, cols=np.int64(3)).layout.xaxis3.domain is not None


def test_subplots_names_a_bad_argument():
    from lessons_lib.notebook.viz import subplots

    with pytest.raises(TypeError, match=r"subplots: an argument is object"):
        subplots(rows=1, cols=2, row_titles=[object()])
