"""A Sphinx extension that makes the built book self-contained: no CDN, no network at read time.

It serves MathJax 3 (from the ``django-static-mathjax`` package, its es5 build) and plotly.js (the copy
inside the installed ``plotly`` package) from the book's own ``_static`` folder. The files are staged from
the installed packages at build time, so nothing vendored is committed. Enabled in ``_config.yml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MATHJAX_PARTS = ("tex-chtml.js", "input", "output", "a11y", "ui", "adaptors")


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


def _on_config(app, config) -> None:
    dest = Path(app.outdir).parent / "vendor_static"
    _stage(dest)
    config.html_static_path = [*config.html_static_path, str(dest)]
    config.mathjax_path = "mathjax/tex-chtml.js"
    # plotly.js loads synchronously in <head>: the figures' inline scripts call Plotly as the page parses.
    config.html_js_files = [*config.html_js_files, ("plotly/plotly.min.js", {"priority": 200})]


def setup(app):
    app.connect("config-inited", _on_config)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
