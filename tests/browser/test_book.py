"""The built book in headless Chromium with the network blocked.

Every page in ``_toc.yml`` is served from 127.0.0.1 and opened with every non-loopback request aborted.
A page fails on any failed or external request, any JavaScript error, math left untypeset, a plotly
figure that did not draw, or a slider that does not change its figure.

Needs a built book (``make book``) and Debian's ``chromium``. Without them the tests skip, unless
``LESSONS_REQUIRE_BROWSER=1`` (set by CI), which turns a skip into a failure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from book_site import loopback_only, serve, toc_pages  # noqa: E402  (build tooling, shared with bench/)
from browser_support import unavailable  # noqa: E402  (tests/browser is on the path)

HTML = Path(os.environ.get("LESSONS_BOOK_HTML") or ROOT / "_build" / "html")  # another build: set the variable
BENIGN_CONSOLE = ("Got invalid theme mode",)



@pytest.fixture(scope="session")
def server():
    if not (HTML / "index.html").is_file():
        unavailable("no built book in _build/html: run `make book` first")
    with serve(HTML) as url:
        yield url




def test_toc_pages_exist():
    if not (HTML / "index.html").is_file():
        unavailable("no built book in _build/html: run `make book` first")
    missing = [p for p in toc_pages() if not (HTML / p).is_file()]
    assert not missing, f"pages in _toc.yml missing from the built book: {missing}"


@pytest.mark.parametrize("page", toc_pages())
def test_page(page, server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page_obj = context.new_page()
    problems: list[str] = []

    loopback_only(page_obj, problems)
    page_obj.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page_obj.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    page_obj.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page_obj.on(
        "console",
        lambda m: m.type == "error"
        and not any(b in m.text for b in BENIGN_CONSOLE)
        and problems.append(f"console error: {m.text}"),
    )

    page_obj.goto(f"{server}/{page}", wait_until="load")
    # No wait for "networkidle" (playwright discourages it: a page that keeps one request open, or a slow
    # machine, never gets 500 ms of quiet; it timed out once in CI on a page that passes every other run).
    # What the page must show is waited for below, each with its own limit.

    math_sources = page_obj.locator("span.math, div.math").count()
    if math_sources:
        # MathJax starts after the first paint (book/_ext/js/after-paint.js): wait for it, with a limit
        page_obj.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30000)
        page_obj.evaluate("MathJax.startup.promise")
        typeset = page_obj.locator("mjx-container").count()
        assert typeset >= math_sources, f"{page}: {math_sources} math elements but {typeset} typeset"
        errors = page_obj.locator("mjx-merror").count()
        assert errors == 0, f"{page}: {errors} MathJax errors"

    plots = page_obj.locator(".plotly-graph-div")
    for i in range(plots.count()):
        plot = plots.nth(i)
        plot.scroll_into_view_if_needed()
        try:  # plotly.js also loads after the first paint, so a figure draws a moment after the text
            plot.locator("svg.main-svg").first.wait_for(state="attached", timeout=30000)
        except Exception:
            pytest.fail(f"{page}: plotly figure {i} did not draw within 30 s")
        _check_slider(page, plot, i)

    page_obj.evaluate("document.fonts.ready.then(() => true)")  # the last requests a page makes
    page_obj.wait_for_timeout(200)
    assert not problems, f"{page}:\n" + "\n".join(problems)
    context.close()


# What the figure shows, slider left out: its data and layout, and the SVG that plotly drew from them.
_DRAWN = """gd => {
  const svg = [...gd.querySelectorAll('svg.main-svg')].map(s => {
    const copy = s.cloneNode(true);
    copy.querySelectorAll('.slider-container').forEach(e => e.remove());
    return copy.innerHTML;
  }).join('');
  const {sliders, ...layout} = gd.layout;
  return [gd._fullLayout.sliders[0].active, JSON.stringify([gd.data, layout]), svg];
}"""


def _check_slider(page: str, plot, i: int) -> None:
    has_slider = plot.evaluate("gd => (gd._fullLayout.sliders || []).length > 0")
    if not has_slider:
        return
    before = plot.evaluate(_DRAWN)
    rail = plot.locator(".slider-rail-touch-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    assert box is not None, f"{page}: slider of figure {i} is not visible"
    # Click the far end of the rail, or the start if the figure already starts at the far end.
    steps = plot.evaluate("gd => gd._fullLayout.sliders[0].steps.length")
    x = box["width"] - 2 if before[0] < steps - 1 else 2
    rail.click(position={"x": x, "y": box["height"] / 2})
    try:  # the step changes at once; the redraw follows within a frame or two
        plot.page.wait_for_function("([gd, old]) => gd._fullLayout.sliders[0].active !== old",
                                    arg=[plot.element_handle(), before[0]], timeout=10000)
    except Exception:
        pass  # reported by the first assert below
    plot.page.wait_for_timeout(200)
    after = plot.evaluate(_DRAWN)
    assert after[0] != before[0], f"{page}: moving the slider of figure {i} did not change its step"
    assert after[1] != before[1], f"{page}: moving the slider of figure {i} did not change its data or layout"
    assert after[2] != before[2], f"{page}: moving the slider of figure {i} did not change what is drawn"
