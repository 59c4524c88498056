"""One plotting style for matplotlib and plotly, the book's plotly renderer, and the notebook setup call.

The first code cell of every chapter calls :func:`setup`. It seeds everything, applies the style, picks
the plotly renderer that works where the notebook runs, applies the thread policy and prints one line
saying which device was found.

Modes (see :func:`is_static`): when the book is built or the notebooks are tested, the environment
variable ``LESSONS_STATIC=1`` is set; experiments are then precomputed plotly figures with sliders and
progress bars print plain text. Otherwise (a reader in JupyterLab, VS Code or Colab) they are live widgets.
"""

from __future__ import annotations

import functools
import json
import os
import sys

import plotly.graph_objects as go
import plotly.io as pio
from plotly.io.base_renderers import MimetypeRenderer

from lessons_lib.device import STATIC_ENV

# A colour-blind-friendly palette (Okabe & Ito, 2008), shared by matplotlib and plotly.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
FONT = "DejaVu Sans, Arial, sans-serif"


def pale(colour: str, amount: float = 0.4) -> str:
    """``colour`` (a palette entry or any matplotlib colour) mixed with white, as hex: amount 1 is the colour
    itself, 0 is white. For fills and shaded regions behind the data, so they keep the palette's hues."""
    from matplotlib.colors import to_hex, to_rgb

    return to_hex([amount * c + (1 - amount) for c in to_rgb(colour)])


def _in_colab() -> bool:
    return "google.colab" in sys.modules


class BookRenderer(MimetypeRenderer):
    """Plotly renderer emitting a self-contained ``text/html`` snippet for the built book.

    plotly.js itself is served by the book only on pages with a figure (see ``book/_ext/book_assets.py``),
    and runs after the page's first paint; so the snippet neither embeds nor fetches it: its script draws
    the figure at once if ``window.Plotly`` exists, else when the book's loader sends ``PLOTLY_READY``.
    It loads no MathJax of its own and never auto-plays.
    """

    def to_mimebundle(self, fig_dict):
        # A fixed width wider than the page's text column gets clipped: let the figure fill the column.
        layout = {k: v for k, v in fig_dict.get("layout", {}).items() if k != "width"}
        fig_dict = {**fig_dict, "layout": {**layout, "autosize": True}}
        html = pio.to_html(
            fig_dict,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            auto_play=False,
            config={"displaylogo": False, "responsive": True},
        )
        return {"text/html": _wait_for_plotly(html)}


PLOTLY_READY = "lessons:plotly"


def _wait_for_plotly(html: str) -> str:
    """Wrap the one inline script of ``plotly.io.to_html``'s snippet so that it runs once plotly.js has."""
    head, sep, rest = html.partition("<script")
    attrs, _, rest = rest.partition(">")
    body, end, tail = rest.rpartition("</script>")
    if not sep or not end or "<script" in rest:
        raise RuntimeError("BookRenderer: plotly.io.to_html no longer emits exactly one inline <script>")
    wrapped = (
        "(function () { var draw = function () {" + body + "};"
        " if (window.Plotly) { draw(); }"
        f' else {{ window.addEventListener("{PLOTLY_READY}", draw, {{once: true}}); }} }})();'
    )
    return f"{head}<script{attrs}>{wrapped}</script>{tail}"


def register_plotly() -> None:
    if "lessons" not in pio.templates:
        template = go.layout.Template(pio.templates["plotly_white"])
        template.layout.colorway = PALETTE
        template.layout.font = {"family": FONT, "size": 13}
        template.layout.margin = {"l": 60, "r": 20, "t": 50, "b": 50}
        pio.templates["lessons"] = template
    pio.templates.default = "lessons"
    pio.renderers["book"] = BookRenderer()
    if _in_colab():
        pio.renderers.default = "colab"
    elif os.environ.get(STATIC_ENV, "").strip() not in ("", "0"):
        pio.renderers.default = "book"
    else:
        # JupyterLab and VS Code render the plotly mimetype; the html copy is what the book would show.
        pio.renderers.default = "plotly_mimetype+book"


def style_matplotlib() -> None:
    """Apply the book's matplotlib style (same palette and font as the plotly template)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(
        {
            "axes.prop_cycle": cycler(color=PALETTE),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "font.size": 11,
            "image.cmap": "viridis",
        }
    )


def subplots(rows: int = 1, cols: int = 1, **kwargs) -> go.Figure:
    """A new figure with a grid of panels: ``plotly.subplots.make_subplots(rows, cols, **kwargs)``, whose
    ``add_trace(..., row, col)`` and ``update_xaxes(row=..., col=...)`` work as usual.

    The grid is worked out once per set of arguments and copied after that: an experiment that draws its
    panels on every move then spends about 1 ms on them instead of 7 (measured here), most of which
    ``make_subplots`` spends validating the layout and its template again.
    """
    arguments = json.dumps({"rows": rows, "cols": cols, **kwargs}, sort_keys=True, default=_plain_number)
    layout, grid_ref, grid_str = _subplot_grid(arguments)
    fig = go.Figure(layout=layout)  # the default template is applied here, as make_subplots would
    fig.__dict__["_grid_ref"] = grid_ref  # what make_subplots itself sets (plotly/_subplots.py)
    fig.__dict__["_grid_str"] = grid_str
    return fig


def _plain_number(value):
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a NumPy scalar
        return value.item()
    raise TypeError(f"subplots: an argument is {type(value).__name__} ({value!r}); expected numbers, strings, "
                    "lists and dicts, as make_subplots takes")


@functools.lru_cache(maxsize=64)
def _subplot_grid(arguments: str):
    from plotly.subplots import make_subplots

    grid = make_subplots(**json.loads(arguments))
    layout = {k: v for k, v in grid.layout.to_plotly_json().items() if k != "template"}
    return layout, grid._grid_ref, grid._grid_str


def decision_boundary(predict, X, y, *, resolution: int = 80, padding: float = 0.5, title: str = "",
                      range_x=None, range_y=None) -> go.Figure:
    """Plot a 2-D classifier: its output over the plane as a heatmap, the 0.5 boundary line, and the data.

    predict: maps an (m, 2) array of points to (m,) scores in [0, 1] (a probability, or 0/1 labels).
    X, y:    the data, (n, 2) points and (n,) labels 0/1.
    Returns a plotly figure with fixed axis ranges, so a slider that changes the model keeps the view.
    Evaluates ``predict`` on a ``resolution`` x ``resolution`` grid and draws it with
    :func:`decision_boundary_from_grid`.
    """
    import numpy as np

    X, y = _check_points("decision_boundary", X, y)
    rx = range_x or (X[:, 0].min() - padding, X[:, 0].max() + padding)
    ry = range_y or (X[:, 1].min() - padding, X[:, 1].max() + padding)
    gx, gy = np.linspace(*rx, resolution), np.linspace(*ry, resolution)
    xx, yy = np.meshgrid(gx, gy)
    z = np.asarray(predict(np.c_[xx.ravel(), yy.ravel()]), dtype=float).reshape(xx.shape)
    return decision_boundary_from_grid(gx, gy, z, X, y, title=title)


def decision_boundary_from_grid(gx, gy, z, X, y, *, title: str = "") -> go.Figure:
    """Draw a decision boundary from scores computed beforehand on a grid, e.g. for a precomputed slider.

    gx: (nx,) and gy: (ny,) grid coordinates along x1 and x2, increasing.
    z:  (ny, nx) scores in [0, 1], ``z[i, j]`` at the point ``(gx[j], gy[i])`` (the layout of ``np.meshgrid``);
        NaN (a diverged model) is drawn as 0.5, undecided.
    X, y: the data, (n, 2) points and (n,) labels 0/1, drawn in ``PALETTE[0]`` and ``PALETTE[1]``.
    Returns a plotly figure: the heatmap, the 0.5 boundary and the points, with the axes fixed to the grid.
    The boundary is traced here (:func:`level_line`) and drawn as one line, not as a plotly contour
    trace: plotly.js would send the grid twice and trace the contour again on every redraw, which is
    what a slider step or a live update costs.
    """
    import numpy as np

    X, y = _check_points("decision_boundary_from_grid", X, y)
    gx, gy = np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)
    z = np.asarray(z, dtype=float)
    if gx.ndim != 1 or gy.ndim != 1 or z.shape != (len(gy), len(gx)):
        raise ValueError(f"decision_boundary_from_grid: z has shape {z.shape}; expected (len(gy), len(gx)) = "
                         f"({gy.size}, {gx.size}) for 1-D gx and gy")
    z = np.nan_to_num(z, nan=0.5, posinf=1.0, neginf=0.0)  # a diverged model shows as undecided, not a crash
    fig = go.Figure()
    scale = [[0, pale(PALETTE[0])], [0.5, "whitesmoke"], [1, pale(PALETTE[1])]]  # class 0 ... undecided ... class 1
    fig.add_trace(go.Heatmap(x=gx, y=gy, z=z, zmin=0, zmax=1, colorscale=scale,
                             showscale=False, hoverinfo="skip"))
    lx, ly = level_line(gx, gy, z, 0.5)
    fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", line={"color": "black", "width": 2}, hoverinfo="skip",
                             showlegend=False, name="boundary"))
    for label, colour in ((0, PALETTE[0]), (1, PALETTE[1])):
        pts = X[y == label]
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"class {label}",
                                 marker={"color": colour, "size": 6}))  # no outline: it cost about a quarter of a redraw
    fig.update_layout(title=title, xaxis={"range": [gx[0], gx[-1]], "title": "x1"},
                      yaxis={"range": [gy[0], gy[-1]], "title": "x2", "scaleanchor": "x"}, width=560, height=500)
    return fig


def level_line(gx, gy, z, level: float):
    """The curves where a gridded surface crosses ``level`` (marching squares), as one polyline.

    gx (nx,), gy (ny,), z (ny, nx) as in :func:`decision_boundary_from_grid`. Returns ``(x, y)`` float32
    arrays: the pieces one after another, separated by NaN so that a plotly line breaks between them
    (empty arrays when the surface never crosses ``level``).
    """
    import contourpy
    import numpy as np

    pieces = contourpy.contour_generator(np.asarray(gx, float), np.asarray(gy, float), np.asarray(z, float)).lines(level)
    if not pieces:
        return np.empty(0, np.float32), np.empty(0, np.float32)
    gap = np.full((1, 2), np.nan)
    joined = np.concatenate([part for piece in pieces for part in (piece, gap)][:-1])
    return joined[:, 0].astype(np.float32), joined[:, 1].astype(np.float32)


def _check_points(fn: str, X, y):
    """X as an (n, 2) float array and y as an (n,) array, or a ValueError naming ``fn``."""
    import numpy as np

    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{fn}: X has shape {X.shape}; expected (n, 2)")
    if len(X) != len(y):
        raise ValueError(f"{fn}: X has {len(X)} rows but y has {len(y)}")
    return X, y
