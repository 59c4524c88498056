"""explore(): the precomputed slider figure (book, tests) and the live widgets (a kernel)."""

import base64
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
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
    # One grid point's traces, not every point's: a step redraws only what is on screen.
    assert exp.mode == "static" and len(fig.data) == 1
    np.testing.assert_allclose(fig.data[0].y, parabola(1.0).data[0].y)
    slider = fig.layout.sliders[0]
    assert slider.active == 1 and slider.currentvalue.prefix == "a = "
    assert [s.label for s in slider.steps] == ["0.5", "1", "2"]
    step = slider.steps[2]
    restyle, relayout, slots = step.args
    assert step.method == "update" and list(slots) == [0]
    assert "visible" not in restyle, "a trace shown at every point is not restyled visible (plotly.js would recompute it)"
    spec = restyle["y"][0]  # NumPy data travels as plotly.js typed-array specs, as in the figure's own data
    np.testing.assert_allclose(np.frombuffer(base64.b64decode(spec["bdata"]), spec["dtype"]), parabola(2.0).data[0].y)
    assert "x" not in restyle and "name" not in restyle, "attributes every point shares are not sent again"
    assert relayout["title"]["text"] == "a = 2.0"
    assert len(exp.latencies_ms) == 3 and all(t > 0 for t in exp.latencies_ms)


def test_static_two_parameters_share_one_slider():
    exp = explore(parabola, {"a": [1, 2], "shift": [0.0, 1.0, 2.0]}, live=False)
    steps = exp.figure.layout.sliders[0].steps
    assert len(steps) == 6 and steps[0].label == "a=1, shift=0" and steps[-1].label == "a=2, shift=2"
    assert len(exp.figure.data) == 1


def test_static_points_with_more_traces_or_other_attributes_leave_nothing_behind():
    def varying(n):
        fig = go.Figure([go.Scatter(y=[i, n], name=f"line {i}") for i in range(n)])
        if n == 1:
            fig.data[0].marker = {"color": "red", "size": 9}
        return fig

    exp = explore(varying, {"n": [1, 3]}, live=False)
    fig = exp.figure
    assert len(fig.data) == 3 and [t.visible for t in fig.data] == [None, False, False]
    one, three = (s.args[0] for s in fig.layout.sliders[0].steps)
    assert one["visible"] == [True, False, False] and three["visible"] == [True, True, True]
    assert one["marker"][0] == {"color": "red", "size": 9} and three["marker"] == [None, None, None]
    assert one["y"][1:] == [None, None] and list(three["y"][2]) == [2, 3]
    assert pio.to_json(fig).count('"marker":[null,null,null]') == 1, "None reaches plotly.js as null (unset)"


def test_a_slot_keeps_one_kind_of_trace_when_a_point_lacks_one():
    def panels(show_line):
        traces = [go.Heatmap(z=[[0, 1], [1, 0]])]
        if show_line:
            traces.append(go.Scatter(x=[0, 1], y=[0, 1], mode="lines"))
        traces.append(go.Scatter(x=[0, 1], y=[1, 0], mode="markers", marker={"size": 4 + show_line}))
        return go.Figure(traces)

    exp = explore(panels, {"show_line": [False, True]}, live=False)
    fig = exp.figure
    assert [t.type for t in fig.data] == ["heatmap", "scatter", "scatter"]
    assert [t.mode for t in fig.data[1:]] == ["lines", "markers"] and fig.data[1].visible is False
    without, with_line = (s.args for s in fig.layout.sliders[0].steps)
    assert "type" not in without[0] and "mode" not in without[0], "no slot changes its kind of trace"
    assert list(without[2]) == [1, 2], "the heatmap never changes, so no step restyles it"
    assert without[0]["visible"] == [False, True] and with_line[0]["visible"] == [True, True]
    assert without[0]["marker"] == [None, {"size": 4}] and with_line[0]["marker"][1] == {"size": 5}


def test_a_style_only_change_sends_no_data():
    def coloured(c):
        return go.Figure(go.Scatter(x=np.arange(50.0), y=np.arange(50.0), marker={"color": c}))

    step = explore(coloured, {"c": ["red", "blue"]}, live=False).figure.layout.sliders[0].steps[1]
    assert set(step.args[0]) == {"marker"} and step.args[0]["marker"] == [{"color": "blue"}]


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
    message = exp.widget.children[1].value  # shown in place of the figure, not printed as a traceback
    assert "half_bad could not be drawn for a=2: TypeError: explore: half_bad(a=2) returned NoneType" in message


def _live_parts(exp):
    """(first control, message widget, figure box) of a live experiment."""
    controls, message, box = exp.widget.children
    return controls.children[0], message, box


def test_live_update_changes_the_figure_widget_in_place():
    exp = explore(parabola, {"a": [0.5, 1.0, 2.0]}, live=True)
    control, message, box = _live_parts(exp)
    fw = box.children[0]
    assert isinstance(fw, go.FigureWidget) and fw.layout.title.text == "a = 0.5"
    sent = []
    fw._send_update_msg = lambda *args, **kwargs: sent.append((args, kwargs))
    control.value = 2.0
    assert box.children[0] is fw, "same number and types of traces: the displayed widget is updated, not replaced"
    np.testing.assert_allclose(fw.data[0].y, parabola(2.0).data[0].y)
    assert fw.layout.title.text == "a = 2.0"
    ((args, kwargs),) = sent  # one Plotly.update for the traces and the layout together
    restyle, relayout = (list(args) + [kwargs.get("restyle_data"), kwargs.get("relayout_data")])[:2]
    assert set(restyle) == {"y"} and set(relayout) == {"title"}, "only what changed is sent"


def test_live_trace_count_change_keeps_the_widget_and_hides_unused_slots():
    def bars(n):
        return go.Figure([go.Bar(y=[i, i + 1]) for i in range(n)], layout={"title": {"text": f"{n} bars"}})

    exp = explore(bars, {"n": [1, 2, 3]}, live=True)
    control, _, box = _live_parts(exp)
    first = box.children[0]
    control.value = 3
    fw = box.children[0]
    assert fw is first, "a new FigureWidget would make the front end load plotly's widget code again"
    assert len(fw.data) == 3 and fw.layout.title.text == "3 bars"
    assert [list(t.y) for t in fw.data] == [[0, 1], [1, 2], [2, 3]]
    control.value = 2
    assert box.children[0] is fw and len(fw.data) == 3
    assert [t.visible for t in fw.data] == [None, None, False], "the slot two bars do not use is hidden"
    control.value = 3
    assert [t.visible for t in fw.data] == [None, None, None] and list(fw.data[2].y) == [2, 3]


def test_live_new_kind_of_trace_gets_a_slot_in_drawing_order():
    """A figure that swaps a line for markers and text keeps the other traces where they were drawn."""
    def picture(error):
        fig = go.Figure(go.Heatmap(z=[[0, 1], [1, 0]]))
        if error:
            fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="text", text=["a", "b"]))
        else:
            fig.add_trace(go.Scatter(x=[0, 1], y=[1, 0], mode="lines"))
        fig.add_trace(go.Scatter(x=[0.5], y=[0.5], mode="markers"))
        return fig

    exp = explore(picture, {"error": [False, True]}, live=True)
    control, message, box = _live_parts(exp)
    fw = box.children[0]
    view = exp.widget.children[2].children[0]
    control.value = True
    assert message.value == "" and box.children[0] is fw
    assert [(t.type, t.to_plotly_json().get("mode"), t.visible) for t in fw.data] == [
        ("heatmap", None, None), ("scatter", "text", None), ("scatter", "lines", False), ("scatter", "markers", None)]
    control.value = False
    assert [t.visible for t in fw.data] == [None, False, None, None]
    assert list(fw.data[2].y) == [1, 0]
    assert view is fw


def test_live_error_shows_a_message_and_the_next_good_value_recovers():
    def fragile(a):
        if a == 0:
            raise ZeroDivisionError("a must not be 0")
        return parabola(1 / a)

    exp = explore(fragile, {"a": [1, 0, 2]}, live=True)
    control, message, box = _live_parts(exp)
    control.value = 0
    assert "fragile could not be drawn for a=0: ZeroDivisionError: a must not be 0" in message.value
    assert "Traceback" not in message.value and box.layout.display == "none"
    control.value = 2
    assert message.value == "" and box.layout.display is None
    assert box.children[0].layout.title.text == "a = 0.5"


def test_live_extreme_values_never_crash():
    def extreme(scale):
        x = np.linspace(0, 1, 5)
        fig = go.Figure(go.Scatter(x=x, y=np.exp(scale * x)))  # overflows to inf
        fig.update_layout(title=f"scale {scale}", yaxis_range=[0, float(np.exp(scale))], xaxis_range=[float("nan"), 1.0])
        return fig

    with np.errstate(over="ignore"):
        exp = explore(extreme, {"scale": [1.0, 1e3, 1e308]}, live=True)
        control, message, box = _live_parts(exp)
        for value in (1e3, 1e308, 1.0):
            control.value = value
            assert message.value == ""
    fw = box.children[0]
    assert fw.layout.title.text == "scale 1.0"
    json.dumps(fw.layout.to_plotly_json(), allow_nan=False, default=str)  # nothing non-finite reaches the comm


def test_live_heatmap_with_gaps_sends_json_without_nan():
    """plotly's widget sends a 2-D z as JSON lists: NaN (a gap between image tiles) must become null."""
    from plotly.serializers import _py_to_js

    def tiles(gap):
        z = np.ones((3, 3))
        z[1, :] = np.nan if gap else 0.0
        return go.Figure(go.Heatmap(z=z), layout={"title": f"gap {gap}"})

    exp = explore(tiles, {"gap": [True, False, True]}, live=True)
    control, message, box = _live_parts(exp)
    for value in (False, True):
        control.value = value
        assert message.value == ""
        fw = box.children[0]
        json.dumps(_py_to_js(fw._widget_data, None), allow_nan=False, default=str)
    assert list(fw.data[0].z[1]) == [None, None, None]
