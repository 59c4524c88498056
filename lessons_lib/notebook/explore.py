"""Interactive twice: one experiment definition, live in Jupyter and movable in the static book.

An experiment is a function that takes named parameters and returns a plotly figure, plus a grid of
values for each parameter::

    def tangent(x0):
        ...
        return fig

    explore(tangent, {"x0": np.linspace(-2, 2, 21)}, start={"x0": 1.0})

With a live kernel (JupyterLab, VS Code, Colab) this shows ipywidgets controls and redraws the figure on
every move. When the book is built or the notebooks are tested (``LESSONS_STATIC=1``), every grid point is
computed once and the figures are merged into one plotly figure whose slider swaps between them, so the
experiment still moves in a page with no kernel. Two or more parameters share one slider over all their
combinations.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Number
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import convert_to_base64
from plotly.utils import PlotlyJSONEncoder

from lessons_lib.device import is_static

MAX_COMBINATIONS = 200
MAX_STATIC_MB = 10.0
BENCH_LOG_ENV = "LESSONS_BENCH_LOG"
BENCH_NOTEBOOK_ENV = "LESSONS_BENCH_NOTEBOOK"


@dataclass
class Experiment:
    """The result of :func:`explore`: displays itself in a notebook.

    ``figure`` holds the precomputed slider figure (static mode) and ``widget`` the ipywidgets box (live
    mode). ``latencies_ms`` lists how long each precomputed update took (the function plus serialising its
    figure), the number ``make bench`` reports.
    """

    fn: Callable[..., go.Figure]
    grid: dict[str, list]
    start: dict[str, Any]
    title: str
    mode: str
    figure: go.Figure | None = None
    widget: Any = None
    latencies_ms: list[float] = field(default_factory=list)

    def update(self, **params) -> go.Figure:
        """Compute the figure for one point of the grid (any values, not only grid ones)."""
        return _call(self.fn, params)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.figure if self.mode == "static" else self.widget)

    def __repr__(self) -> str:
        sizes = " x ".join(f"{k}: {len(v)}" for k, v in self.grid.items())
        return f"Experiment({self.title!r}, {self.mode}, grid {sizes})"


def explore(
    fn: Callable[..., go.Figure],
    grid: dict[str, Any],
    *,
    start: dict[str, Any] | None = None,
    title: str | None = None,
    live: bool | None = None,
) -> Experiment:
    """Make ``fn`` an experiment over ``grid``; see the module docstring.

    fn:    called as ``fn(**params)``; must return a ``plotly.graph_objects.Figure``.
    grid:  ``{name: values}``; each ``values`` a non-empty sequence of numbers or strings.
    start: the values shown first (default: the first value of each parameter); must lie in the grid.
    live:  force live widgets (True) or the precomputed figure (False); default decides by environment.
    """
    title = title or getattr(fn, "__name__", "experiment")
    grid = _check_grid(fn, grid)
    start = _check_start(grid, start)
    if live is None:
        live = not is_static()
    if live:
        return _live(fn, grid, start, title)
    return _static(fn, grid, start, title)


def _check_grid(fn, grid) -> dict[str, list]:
    if not callable(fn):
        raise TypeError(f"explore: fn is {type(fn).__name__}; expected a function returning a plotly Figure")
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"explore: grid is {grid!r}; expected a non-empty dict {{parameter name: list of values}}")
    params = inspect.signature(fn).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    clean = {}
    for name, values in grid.items():
        if not takes_any and name not in params:
            raise ValueError(f"explore: grid names {name!r} but {fn.__name__}() takes {', '.join(params) or 'no parameters'}")
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"explore: grid[{name!r}] is {values!r}; expected a list of values")
        values = [_plain(v) for v in values]
        if not values:
            raise ValueError(f"explore: grid[{name!r}] is empty; give at least one value")
        clean[name] = values
    n = int(np.prod([len(v) for v in clean.values()]))
    if n > MAX_COMBINATIONS:
        raise ValueError(f"explore: the grid has {n} combinations; at most {MAX_COMBINATIONS} can be precomputed for the book")
    return clean


def _plain(v):
    """NumPy scalars become Python numbers (clean labels, JSON)."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def _check_start(grid, start) -> dict[str, Any]:
    chosen = {name: values[0] for name, values in grid.items()}
    for name, value in (start or {}).items():
        if name not in grid:
            raise ValueError(f"explore: start names {name!r}, which is not in the grid ({', '.join(grid)})")
        chosen[name] = grid[name][_index_of(grid[name], value, name)]
    return chosen


def _index_of(values, value, name) -> int:
    for i, v in enumerate(values):
        if v == value or (isinstance(v, Number) and isinstance(value, Number) and np.isclose(v, value)):
            return i
    raise ValueError(f"explore: start[{name!r}] is {value!r}, which is not one of the grid values {values}")


def _call(fn, params) -> go.Figure:
    fig = fn(**params)
    if not isinstance(fig, go.Figure):
        raise TypeError(
            f"explore: {getattr(fn, '__name__', 'fn')}({_label(params)}) returned {type(fig).__name__}; "
            "expected a plotly.graph_objects.Figure"
        )
    return fig


def _label(params: dict) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in params.items())


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


# ----------------------------------------------------------------------------------------------- static


def _static(fn, grid, start, title) -> Experiment:
    names = list(grid)
    combos = [dict(zip(names, values)) for values in itertools.product(*grid.values())]
    figures, latencies = [], []
    for params in combos:
        t0 = time.perf_counter()
        fig = _call(fn, params)
        pio.to_json(fig, validate=False)  # what a live update would have to send to the browser
        latencies.append((time.perf_counter() - t0) * 1000)
        figures.append(fig)
    active = combos.index(start)
    merged = _merge(figures, combos, active)
    size_mb = len(pio.to_json(merged, validate=False)) / 1e6
    if size_mb > MAX_STATIC_MB:
        raise ValueError(
            f"explore: the precomputed figure for {title!r} is {size_mb:.1f} MB (limit {MAX_STATIC_MB} MB); "
            "use a coarser grid or fewer points per figure"
        )
    _log_bench(title, latencies)
    return Experiment(fn, grid, start, title, "static", figure=merged, latencies_ms=latencies)


def _merge(figures: list[go.Figure], combos: list[dict], active: int) -> go.Figure:
    """One figure drawing the active grid point; each slider step swaps in its point's traces and layout.

    The figure holds only as many traces ("slots") as the grid points need, not every point's: plotly.js
    redraws every trace of a figure on each step, hidden ones included, so a step costs what one point
    costs. A slot holds one kind of trace (type, axes, mode and fill; see :func:`_slots`), so a step never
    changes a trace's type, which would make plotly.js rebuild it. A step is a ``Plotly.update`` that
    restyles only the slots and attributes that differ between points (its point's value, ``None`` to
    unset one it lacks; a slot its point does not use is hidden) and relayouts only the layout keys that
    differ; plotly.js redraws less for a step that changes only styles.
    """
    layouts = [f.layout.to_plotly_json() for f in figures]
    base = copy.deepcopy(layouts[active])
    changing = sorted({k for lay in layouts for k in set(lay) | set(base) if lay.get(k) != base.get(k)})
    # NumPy arrays as plotly.js typed-array specs (base64), as plotly sends the figure's own data.
    encoded = [[_encoded(t) for t in f.data] for f in figures]
    placements = _slots(encoded)
    rows = [[ts[i] if i is not None else None for i in place] for ts, place in zip(encoded, placements)]
    n_slots = len(rows[0])
    names = sorted({k for row in rows for t in row if t for k in t} - {"visible"})
    shown = [[t is not None and t.get("visible", True) is not False for t in row] for row in rows]
    keys = {j: [k for k in names if _varies([row[j] for row in rows], k)] for j in range(n_slots)}
    toggled = [j for j in range(n_slots) if len({row[j] for row in shown}) > 1]
    moving = sorted({j for j in range(n_slots) if keys[j]} | set(toggled))
    sent = sorted({k for j in moving for k in keys[j]})

    merged = go.Figure(layout=base)
    for j in range(n_slots):
        own = placements[active][j]
        if own is not None:
            merged.add_trace(copy.deepcopy(figures[active].data[own]))
        else:  # a slot the start point does not use: its kind of trace, from a point that does, hidden
            k = next(i for i, place in enumerate(placements) if place[j] is not None)
            merged.add_trace(copy.deepcopy(figures[k].data[placements[k][j]]).update(visible=False))
    single = len(combos[0]) == 1
    steps = []
    for params, lay, row in zip(combos, layouts, rows):
        restyle = {k: [row[j].get(k) if row[j] is not None else None for j in moving] for k in sent}
        if toggled:
            restyle["visible"] = [row[j].get("visible", True) if row[j] is not None else False for j in moving]
        relayout = {k: lay.get(k) for k in changing}
        label = _fmt(next(iter(params.values()))) if single else _label(params)
        steps.append({"label": label, "method": "update", "args": [restyle, relayout, moving]})
    prefix = f"{next(iter(combos[0]))} = " if single else ""
    merged.update_layout(
        sliders=[{"active": active, "currentvalue": {"prefix": prefix}, "pad": {"t": 40}, "steps": steps}]
    )
    merged.layout.meta = {"lessons_explore": True}
    return merged


def _encoded(trace) -> dict:
    """A trace as a dict whose NumPy arrays are plotly.js typed-array specs (base64, as plotly sends data)."""
    d = trace.to_plotly_json()
    convert_to_base64(d)
    return d


def _kind(trace: dict) -> tuple:
    """What a slot holds: traces of one kind can replace each other by a restyle."""
    return (trace.get("type", "scatter"), trace.get("xaxis", "x"), trace.get("yaxis", "y"),
            trace.get("mode"), trace.get("fill"))


def _slots(traces: list[list[dict]]) -> list[list[int | None]]:
    """Assign every grid point's traces to shared slots; returns, per point, the trace index in each slot.

    Each point's traces are matched in order to the first free slot of the same kind after the previous
    match; a trace with no such slot gets a new one there. So drawing order is kept, and a point that
    lacks a trace (a line that is not drawn at some setting) leaves its slot empty instead of shifting
    the traces after it into slots of another kind.
    """
    kinds: list[tuple] = []
    placements: list[list[int | None]] = []
    for ts in traces:
        place: list[int | None] = [None] * len(kinds)
        pos = 0
        for i, trace in enumerate(ts):
            kind = _kind(trace)
            j = next((j for j in range(pos, len(kinds)) if kinds[j] == kind and place[j] is None), None)
            if j is None:
                j = pos
                kinds.insert(j, kind)
                place.insert(j, None)
                for earlier in placements:
                    earlier.insert(j, None)
            place[j] = i
            pos = j + 1
        placements.append(place)
    return placements


def _varies(values: list[dict | None], key: str) -> bool:
    """Whether trace attribute ``key`` differs between the grid points that use a slot (``None``: a point
    that does not; it only hides the slot, so what the others share is never sent)."""
    return len({_json(v.get(key)) for v in values if v is not None}) > 1


def _json(value) -> str:
    return json.dumps(value, cls=PlotlyJSONEncoder, sort_keys=True)


def _log_bench(title: str, latencies: list[float]) -> None:
    path = os.environ.get(BENCH_LOG_ENV)
    if not path:
        return
    record = {
        "notebook": os.environ.get(BENCH_NOTEBOOK_ENV, "?"),
        "experiment": title,
        "updates": len(latencies),
        "median_ms": statistics.median(latencies),
        "max_ms": max(latencies),
    }
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


# ------------------------------------------------------------------------------------------------- live


def _live(fn, grid, start, title) -> Experiment:
    import ipywidgets as widgets

    controls = {}
    for name, values in grid.items():
        options = [(_fmt(v), v) for v in values]
        if all(isinstance(v, Number) for v in values) and len(values) > 1:
            control = widgets.SelectionSlider(options=options, value=start[name], description=name, continuous_update=True)
        else:
            control = widgets.Dropdown(options=options, value=start[name], description=name)
        control.style.description_width = "initial"
        controls[name] = control

    experiment = Experiment(fn, grid, start, title, "live")
    try:
        view = LiveFigure()
    except ImportError:  # plotly's FigureWidget needs anywidget; without it, display a new figure each move
        return _live_redisplay(experiment, controls)

    def redraw(change=None):
        params = {name: control.value for name, control in controls.items()}
        t0 = time.perf_counter()
        try:
            view.show(_call(fn, params))
        except Exception as exc:  # a short message in place of the figure, not a traceback under a slider
            view.fail(f"{title} could not be drawn for {_label(params)}: {type(exc).__name__}: {exc}")
            return
        experiment.latencies_ms.append((time.perf_counter() - t0) * 1000)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    experiment.widget = widgets.VBox([widgets.HBox(list(controls.values())), view.message, view.box])
    experiment.widget.add_class("lessons-explore")
    return experiment


def _live_redisplay(experiment: Experiment, controls: dict) -> Experiment:
    """The live path without anywidget: each move displays a brand-new figure (slower: a full redraw)."""
    import ipywidgets as widgets
    from IPython.display import display

    def redraw(**params):
        t0 = time.perf_counter()
        try:
            fig = _call(experiment.fn, params)
        except Exception as exc:
            print(f"{experiment.title} could not be drawn for {_label(params)}: {type(exc).__name__}: {exc}")
            return
        display(fig)
        experiment.latencies_ms.append((time.perf_counter() - t0) * 1000)

    out = widgets.interactive_output(redraw, controls)
    experiment.widget = widgets.VBox([widgets.HBox(list(controls.values())), out])
    return experiment


class LiveFigure:
    """One displayed plotly figure that each move updates in place (a ``go.FigureWidget``).

    :meth:`show` copies a new figure into the widget: only the trace properties and layout keys that
    differ from what is shown are sent, as one ``Plotly.update`` (``batch_update``), so the front end
    restyles the plot it has instead of building a new one. The widget's traces are slots, as in the
    static figure (:func:`_slots`): a figure with fewer traces of a kind hides the slots it does not use,
    and one with a trace of a new kind adds a slot for it, in drawing order. Only the first figure makes a
    ``FigureWidget``: a new one would make the front end evaluate plotly's 5 MB widget code again (1.3 s
    measured here). Its state, not a message, carries that first figure, so a front end still loading
    plotly.js cannot miss it. :meth:`fail` hides the figure behind a one-line message; the next
    :meth:`show` brings it back. A property the reader changed in the front end (a zoom) stays until a new
    figure changes it.
    """

    CONFIG = {"displaylogo": False, "responsive": True}

    def __init__(self):
        import ipywidgets as widgets
        import plotly.basewidget  # noqa: F401 (ImportError without anywidget, before any widget is made)

        self.figure = None  # made by the first show()
        self.box = widgets.Box([])
        self.message = widgets.HTML()
        self.message.add_class("lessons-explore-error")
        self._traces: list[dict] | None = None  # what was last sent, as plotly JSON
        self._layout: dict | None = None
        self.in_place = 0  # updates done in place, slots added, new widgets made (for tests and benchmarks)
        self.added = 0
        self.replaced = 0

    def show(self, fig: go.Figure) -> None:
        # Copies of the figure's own JSON dicts (``to_plotly_json`` would deep-copy its whole template each move).
        traces = copy.deepcopy(fig._data)
        layout = {k: v if k == "template" else copy.deepcopy(v) for k, v in fig._layout.items()}
        try:
            self._copy(traces, layout)
        except Exception:
            self._traces = self._layout = None  # the widget may hold part of it: replace everything next time
            raise
        if self._layout is not None and _same(self._layout.get("template"), layout.get("template")):
            layout["template"] = self._layout["template"]  # unchanged: keep the copy made before
        elif "template" in layout:
            layout["template"] = copy.deepcopy(layout["template"])
        self._layout = layout
        self.message.value = ""
        self.box.layout.display = None

    def fail(self, text: str) -> None:
        import html

        self.message.value = f'<span style="color:#b00020">{html.escape(text[:300])}</span>'
        self.box.layout.display = "none"

    def _copy(self, traces: list[dict], layout: dict) -> None:
        fw, shown = self.figure, self._traces
        if fw is None or shown is None or self._layout is None or len(shown) != len(fw.data):
            self.replaced += 1
            self.figure = self._widget({"data": _finite(traces), "layout": _finite(layout)})
            self.box.children = (self.figure,)
            if fw is not None:
                fw.close()
            self._traces = traces
            return
        old_place, place = _slots([shown, traces])
        if None in old_place:  # a trace of a kind no slot holds: add its slot where it is drawn
            self.added += 1
            fw.add_traces([_finite(traces[i]) for i, had in zip(place, old_place) if had is None])
            new = iter(range(len(shown), len(fw.data)))
            order = [had if had is not None else next(new) for had in old_place]
            fw.data = [fw.data[k] for k in order]
            shown = [shown[had] if had is not None else traces[i] for had, i in zip(old_place, place)]
        self.in_place += 1
        slots = []
        with fw.batch_update():
            for trace, before, i in zip(fw.data, shown, place):
                if i is None:  # this figure does not use the slot: hide what it holds
                    after = before if before.get("visible") is False else {**before, "visible": False}
                else:
                    after = traces[i]
                for key, value in _changes(before, after, skip=("type", "uid")).items():
                    trace[key] = _finite(value)
                slots.append(after)
            for key, value in _changes(self._layout, layout).items():
                fw.layout[key] = _finite(value)
        self._traces = slots

    def _widget(self, fig: dict):
        fw = go.FigureWidget(fig)
        fw._config = dict(self.CONFIG)
        return fw


def _changes(before: dict, after: dict, skip=()) -> dict:
    """The top-level keys of ``after`` that differ from ``before``; ``None`` for a key it dropped."""
    out = {k: None for k in before if k not in after and k not in skip}
    out.update({k: v for k, v in after.items() if k not in skip and not _same(before.get(k), v)})
    return out


def _same(a, b) -> bool:
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is not type(b):
        return False
    return a == b or (isinstance(a, float) and a != a and b != b)


def _finite(value):
    """Plotly JSON with every non-finite float as ``None``: JSON has no NaN. 1-D numeric arrays travel as
    binary buffers, NaN and all; plotly's widget sends other arrays (a 2-D heatmap ``z``) as JSON lists."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        if value.ndim != 1 and value.dtype.kind == "f" and not np.isfinite(value).all():
            return _finite(value.tolist())
        return value
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
