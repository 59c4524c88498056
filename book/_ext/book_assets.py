"""A Sphinx extension that makes the built book self-contained and quick to show its text.

It serves MathJax 3 (from the ``django-static-mathjax`` package, its es5 build) and plotly.js (the copy
inside the installed ``plotly`` package) from the book's own ``_static`` folder. The files are staged from
the installed packages at build time, so nothing vendored is committed. Enabled in ``_config.yml``.

Neither blocks the first paint: each is started by one small deferred loader (``book/_ext/js/after-paint.js``,
told which file by its ``data-src`` attribute) that runs it after the page has painted its text. MathJax's
loader is Sphinx's ``mathjax_path``, so only pages with maths get it; plotly's is added only to pages that
hold a plotly figure, whose inline scripts wait for the event it sends (see
``lessons_lib.notebook.viz.BookRenderer``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

MATHJAX_PARTS = ("tex-chtml.js", "input", "output", "a11y", "ui", "adaptors")
LOADERS = Path(__file__).resolve().parent / "js"
LOADER = "lessons/after-paint.js"
# The loader's attributes for each library: the file (relative to the loader), the script's id, the event
# sent once it has run (lessons_lib.notebook.viz.PLOTLY_READY; MathJax needs none).
MATHJAX_ATTRS = {"defer": "defer", "data-src": "../mathjax/tex-chtml.js", "data-id": "MathJax-script"}
PLOTLY_ATTRS = {"defer": "defer", "data-src": "../plotly/plotly.min.js", "data-ready": "lessons:plotly"}


def _stage(dest: Path) -> None:
    import mathjax  # the importable name of django-static-mathjax
    import plotly

    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not (es5 / "tex-chtml.js").is_file() or not plotly_js.is_file():
        raise RuntimeError(f"book_assets: MathJax ({es5}) or plotly.js ({plotly_js}) is missing; run `make install`")
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "mathjax").mkdir(parents=True)
    for part in MATHJAX_PARTS:
        src = es5 / part
        if src.is_dir():
            shutil.copytree(src, dest / "mathjax" / part)
        else:
            shutil.copy2(src, dest / "mathjax" / part)
    (dest / "plotly").mkdir()
    shutil.copy2(plotly_js, dest / "plotly" / "plotly.min.js")
    shutil.copytree(LOADERS, dest / "lessons")


def _on_config(app, config) -> None:
    dest = Path(app.outdir).parent / "vendor_static"
    _stage(dest)
    config.html_static_path = [*config.html_static_path, str(dest)]
    # Sphinx adds this (deferred) to pages with maths; it starts mathjax/tex-chtml.js after the first paint.
    config.mathjax_path = LOADER
    config.mathjax_options = dict(MATHJAX_ATTRS)


def _on_page(app, pagename, templatename, context, doctree) -> None:
    """Give plotly's loader to the pages that hold a plotly figure, and to no other."""
    if "plotly-graph-div" in context.get("body", ""):
        app.builder.add_js_file(LOADER, **PLOTLY_ATTRS)


def setup(app):
    app.connect("config-inited", _on_config)
    app.connect("html-page-context", _on_page)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
