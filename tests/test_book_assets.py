"""The Sphinx extension stages MathJax and plotly.js from installed packages (no network, no vendoring)."""

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import book_assets  # noqa: E402  (build tooling, not part of lessons_lib)


def test_stage_copies_mathjax_and_plotly(tmp_path):
    book_assets._stage(tmp_path / "v")
    assert (tmp_path / "v" / "mathjax" / "tex-chtml.js").is_file()
    assert any((tmp_path / "v" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))
    assert (tmp_path / "v" / "plotly" / "plotly.min.js").stat().st_size > 1_000_000


def test_config_hook_points_sphinx_at_local_copies(tmp_path):
    app = SimpleNamespace(outdir=str(tmp_path / "html"))
    config = SimpleNamespace(html_static_path=["x"], html_js_files=[], mathjax_path="https://cdn.example/mathjax.js")
    book_assets._on_config(app, config)
    assert config.mathjax_path == "mathjax/tex-chtml.js"
    assert config.html_js_files[0][0] == "plotly/plotly.min.js"
    assert config.html_static_path[-1].endswith("vendor_static")
