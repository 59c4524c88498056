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
    """One figure holding every frame's traces; a slider step shows one frame's traces and layout."""
    layouts = [f.layout.to_plotly_json() for f in figures]
    base = copy.deepcopy(layouts[active])
    changing = sorted({k for lay in layouts for k in set(lay) | set(base) if lay.get(k) != base.get(k)})
    merged = go.Figure(layout=base)
    owner = []
    for i, fig in enumerate(figures):
        for trace in fig.data:
            trace = copy.deepcopy(trace)
            trace.visible = (i == active) and (trace.visible is not False)
            merged.add_trace(trace)
            owner.append(i)
    single = len(combos[0]) == 1
    steps = []
    for i, (params, lay) in enumerate(zip(combos, layouts)):
        visible = [o == i and (t.visible is not False) for o, t in zip(owner, _all_traces(figures))]
        relayout = {k: lay.get(k) for k in changing}
        label = _fmt(next(iter(params.values()))) if single else _label(params)
        steps.append({"label": label, "method": "update", "args": [{"visible": visible}, relayout]})
    prefix = f"{next(iter(combos[0]))} = " if single else ""
    merged.update_layout(
        sliders=[{"active": active, "currentvalue": {"prefix": prefix}, "pad": {"t": 40}, "steps": steps}]
    )
    merged.layout.meta = {"lessons_explore": True}
    return merged


def _all_traces(figures):
    for fig in figures:
        yield from fig.data


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
    from IPython.display import display

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

    def redraw(**params):
        t0 = time.perf_counter()
        try:
            fig = _call(fn, params)
        except Exception as exc:  # a short message in place of the figure, not a traceback under a slider
            print(f"{title} could not be drawn for {_label(params)}: {type(exc).__name__}: {exc}")
            return
        display(fig)
        experiment.latencies_ms.append((time.perf_counter() - t0) * 1000)

    out = widgets.interactive_output(redraw, controls)
    experiment.widget = widgets.VBox([widgets.HBox(list(controls.values())), out])
    return experiment
