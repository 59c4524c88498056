"""explore(): the precomputed slider figure (book, tests) and the live widgets (a kernel)."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lessons_lib.notebook.explore import MAX_COMBINATIONS, explore


def parabola(a, shift=0.0):
    x = np.linspace(-2, 2, 21)
    fig = go.Figure(go.Scatter(x=x, y=a * x**2 + shift, name="curve"))
    fig.update_layout(title=f"a = {a}", yaxis_range=[-5, 5])
    return fig


def test_static_one_parameter_slider_swaps_traces_and_titles():
    exp = explore(parabola, {"a": [0.5, 1.0, 2.0]}, start={"a": 1.0}, live=False)
    fig = exp.figure
    assert exp.mode == "static" and len(fig.data) == 3
    assert [t.visible for t in fig.data] == [False, True, False]
    slider = fig.layout.sliders[0]
    assert slider.active == 1 and slider.currentvalue.prefix == "a = "
    assert [s.label for s in slider.steps] == ["0.5", "1", "2"]
    step = slider.steps[2]
    assert step.args[0]["visible"] == [False, False, True]
    assert step.args[1]["title"]["text"] == "a = 2.0"
    np.testing.assert_allclose(fig.data[2].y, parabola(2.0).data[0].y)
    assert len(exp.latencies_ms) == 3 and all(t > 0 for t in exp.latencies_ms)


def test_static_two_parameters_share_one_slider():
    exp = explore(parabola, {"a": [1, 2], "shift": [0.0, 1.0, 2.0]}, live=False)
    steps = exp.figure.layout.sliders[0].steps
    assert len(steps) == 6 and steps[0].label == "a=1, shift=0" and steps[-1].label == "a=2, shift=2"
    assert len(exp.figure.data) == 6


def test_numpy_values_are_accepted_and_start_matches_floats():
    exp = explore(parabola, {"a": np.linspace(0, 1, 11)}, start={"a": 0.3}, live=False)
    assert exp.figure.layout.sliders[0].active == 3
    json.dumps(exp.figure.to_plotly_json(), default=str)


def test_update_calls_the_function_for_any_value():
    exp = explore(parabola, {"a": [1.0]}, live=False)
    assert exp.update(a=3.0).layout.title.text == "a = 3.0"


@pytest.mark.parametrize(
    "fn, grid, message",
    [
        (parabola, {}, r"explore: grid is \{\}; expected a non-empty dict"),
        (parabola, {"a": []}, r"explore: grid\['a'\] is empty"),
        (parabola, {"b": [1]}, r"explore: grid names 'b' but parabola\(\) takes a, shift"),
        (parabola, {"a": 3}, r"explore: grid\['a'\] is 3; expected a list of values"),
        (parabola, {"a": list(range(MAX_COMBINATIONS + 1))}, r"the grid has 201 combinations; at most 200"),
    ],
)
def test_bad_grids_are_clear_errors(fn, grid, message):
    with pytest.raises(ValueError, match=message):
        explore(fn, grid, live=False)


def test_function_must_return_a_figure():
    with pytest.raises(TypeError, match=r"explore: bad\(a=1\) returned dict; expected a plotly.graph_objects.Figure"):
        def bad(a):
            return {"data": []}

        explore(bad, {"a": [1]}, live=False)
    with pytest.raises(TypeError, match="explore: fn is int"):
        explore(3, {"a": [1]}, live=False)


def test_start_must_be_in_the_grid():
    with pytest.raises(ValueError, match=r"start\['a'\] is 5, which is not one of the grid values"):
        explore(parabola, {"a": [1, 2]}, start={"a": 5}, live=False)
    with pytest.raises(ValueError, match="start names 'z'"):
        explore(parabola, {"a": [1, 2]}, start={"z": 1}, live=False)


def test_oversized_static_figure_is_refused(monkeypatch):
    import lessons_lib.notebook.explore as ex

    monkeypatch.setattr(ex, "MAX_STATIC_MB", 0.001)
    with pytest.raises(ValueError, match="use a coarser grid"):
        explore(parabola, {"a": [1, 2, 3]}, live=False)


def test_bench_log(tmp_path, monkeypatch):
    log = tmp_path / "bench.jsonl"
    monkeypatch.setenv("LESSONS_BENCH_LOG", str(log))
    monkeypatch.setenv("LESSONS_BENCH_NOTEBOOK", "nb.ipynb")
    explore(parabola, {"a": [1, 2]}, title="parabolas", live=False)
    record = json.loads(log.read_text())
    assert record["notebook"] == "nb.ipynb" and record["experiment"] == "parabolas" and record["updates"] == 2


def test_static_is_the_default_under_tests(monkeypatch):
    monkeypatch.setenv("LESSONS_STATIC", "1")
    assert explore(parabola, {"a": [1]}).mode == "static"


def test_live_mode_builds_widgets_and_redraws_on_change():
    import ipywidgets as widgets

    def styled(a, colour):
        return parabola(a).update_traces(line_color=colour)

    exp = explore(styled, {"a": [0.5, 1.0, 2.0], "colour": ["red", "blue"]}, live=True)
    assert exp.mode == "live" and isinstance(exp.widget, widgets.VBox)
    controls = exp.widget.children[0].children
    assert isinstance(controls[0], widgets.SelectionSlider) and isinstance(controls[1], widgets.Dropdown)
    n = len(exp.latencies_ms)
    controls[0].value = 2.0
    assert len(exp.latencies_ms) == n + 1


def test_live_mode_reports_a_bad_return_type(capsys):
    def half_bad(a):
        return parabola(a) if a < 2 else None

    exp = explore(half_bad, {"a": [1, 2]}, live=True)
    exp.widget.children[0].children[0].value = 2  # no exception escapes to the reader
    assert len(exp.latencies_ms) == 1
    assert "half_bad could not be drawn for a=2: TypeError: explore: half_bad(a=2) returned NoneType" in capsys.readouterr().out
