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
    assert (tmp_path / "v" / book_assets.LOADER).is_file()
    for attrs in (book_assets.PLOTLY_ATTRS, book_assets.MATHJAX_ATTRS):  # the loader's targets, as it resolves them
        assert (tmp_path / "v" / "lessons" / attrs["data-src"]).resolve().is_file()


def test_config_hook_points_sphinx_at_local_copies(tmp_path):
    app = SimpleNamespace(outdir=str(tmp_path / "html"))
    config = SimpleNamespace(html_static_path=["x"], html_js_files=[], mathjax_path="https://cdn.example/mathjax.js",
                             mathjax_options={})
    book_assets._on_config(app, config)
    assert config.mathjax_path == book_assets.LOADER
    assert config.mathjax_options["data-src"] == "../mathjax/tex-chtml.js"
    assert config.html_js_files == [], "plotly.js is not put in every page's head"
    assert config.html_static_path[-1].endswith("vendor_static")


def test_the_loader_resolves_its_file_from_its_own_tag_and_runs_it_after_the_first_paint():
    js = (book_assets.LOADERS / Path(book_assets.LOADER).name).read_text()
    assert 'new URL(me.getAttribute("data-src"), me.src)' in js and "document.currentScript" in js
    assert "requestAnimationFrame" in js and 'getAttribute("data-ready")' in js


def test_plotly_ready_event_is_the_one_the_figures_wait_for():
    from lessons_lib.notebook.viz import PLOTLY_READY

    assert book_assets.PLOTLY_ATTRS["data-ready"] == PLOTLY_READY


def test_plotly_loader_only_on_pages_with_a_plotly_figure():
    added = []
    app = SimpleNamespace(builder=SimpleNamespace(add_js_file=lambda name, **kw: added.append((name, kw))))
    book_assets._on_page(app, "intro", "page.html", {"body": "<p>no figure</p>"}, None)
    assert added == []
    book_assets._on_page(app, "ch1", "page.html", {"body": '<div class="plotly-graph-div"></div>'}, None)
    assert added == [(book_assets.LOADER, book_assets.PLOTLY_ATTRS)]


def test_the_book_config_loads_the_extension():
    """An explicit `extensions` list in _config.yml replaces JB's, so book_assets must be named in it."""
    import yaml

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "_config.yml").read_text())
    assert config["sphinx"]["local_extensions"] == {"book_assets": "book/_ext"}
    assert "book_assets" in config["sphinx"]["config"]["extensions"]
