"""The static book for a reader online: first contentful paint of every page and the time of a slider step.

Serves ``_build/html`` on 127.0.0.1 (a free port) and opens every page of ``_toc.yml`` in headless Chromium,
each visit in a fresh browser context (a first visit: nothing cached) with every non-loopback request
aborted. For each page it records:

- ``fcp_ms``: the first contentful paint (``performance.getEntriesByType('paint')``), median of ``--repeat``
  cold visits; also when the load event ended and when every plotly figure had drawn;
- for every figure with a slider, ``--steps`` slider steps driven through the slider itself (a mouse click on
  a step's tick), each timed from the mousedown event until the step's plotly call has finished
  (``plotly_update``/``plotly_animated``/...) and the next frame, which shows the change, has been painted
  (a task queued from that frame's animation callback: the method lab_latency.py uses too).

Writes ``bench/book_pages.json`` and prints a table; ``bench/run.py`` puts it in ``bench/results.md``.
Usage: ``python bench/book_pages.py [--html DIR] [--repeat N] [--steps N] [page substring ...]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import book_site  # noqa: E402  (build tooling shared with tests/browser/test_book.py)

FCP_BUDGET_MS, STEP_BUDGET_MS = 1000.0, 100.0
OUT = ROOT / "bench" / "book_pages.json"

# Resolves when the step started by the next mousedown on `gd`'s slider has been painted.
_ARM_STEP = """
gd => {
  const method = gd._fullLayout.sliders[0].steps[0].method;
  const done = {update: 'plotly_update', animate: 'plotly_animated', restyle: 'plotly_restyle',
                relayout: 'plotly_relayout'}[method] || 'plotly_afterplot';
  window.__lessonsStep = new Promise((resolve, reject) => {
    let t0 = null;
    const down = e => { t0 = e.timeStamp; };
    gd.addEventListener('mousedown', down, {capture: true, once: true});
    const timer = setTimeout(() => reject(new Error('no ' + done + ' within 5 s')), 5000);
    // the next frame paints the change; a task queued from its animation frame runs once it has been painted
    gd.once(done, () => requestAnimationFrame(() => setTimeout(() => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    }, 0)));
  });
  return method;
}
"""

_TICK = """
(gd, i) => {
  const tick = gd.querySelectorAll('.slider-tick-rect')[i].getBoundingClientRect();
  const rail = gd.querySelector('.slider-rail-touch-rect').getBoundingClientRect();
  return {x: tick.left + tick.width / 2, y: rail.top + rail.height / 2};
}
"""


def step_targets(n: int, active: int, count: int) -> list[int]:
    """``count`` step indices spread over ``n`` steps, alternating between the ends; never a no-op step."""
    if n < 2:
        return []
    spread = sorted({round(k * (n - 1) / max(count - 1, 1)) for k in range(count)})
    order = []
    while spread:
        order.append(spread.pop(0))
        if spread:
            order.append(spread.pop())
    if order[0] == active:
        order = order[1:] + order[:1]
    return (order * count)[:count]


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    book_site.loopback_only(page)
    page.goto(url, wait_until="load")
    return context, page


def visit(browser, url: str) -> dict:
    """One cold visit: paint and load timings, and when every figure had drawn."""
    context, page = open_page(browser, url)
    page.wait_for_function(
        "[...document.querySelectorAll('.plotly-graph-div')].every(gd => gd.querySelector('svg.main-svg'))",
        timeout=30000,
    )
    drawn = page.evaluate("performance.now()")
    timings = page.evaluate(
        """() => {
          const fcp = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');
          const nav = performance.getEntriesByType('navigation')[0];
          return {fcp_ms: fcp ? fcp.startTime : null, load_ms: nav.loadEventEnd,
                  figures: document.querySelectorAll('.plotly-graph-div').length,
                  plotly_js: performance.getEntriesByType('resource').some(r => r.name.includes('plotly.min.js'))};
        }"""
    )
    timings["figures_drawn_ms"] = drawn if timings["figures"] else None
    context.close()
    return timings


def slider_steps(browser, url: str, steps: int) -> list[dict]:
    """Time ``steps`` slider steps on every figure of the page that has a slider."""
    context, page = open_page(browser, url)
    page.wait_for_function(
        "[...document.querySelectorAll('.plotly-graph-div')].every(gd => gd.querySelector('svg.main-svg'))",
        timeout=30000,
    )
    page.wait_for_load_state("networkidle")
    figures = []
    plots = page.locator(".plotly-graph-div")
    for i in range(plots.count()):
        gd = plots.nth(i)
        info = gd.evaluate(
            "gd => { const s = (gd._fullLayout.sliders || [])[0];"
            " return s ? {n: s.steps.length, active: s.active, traces: gd.data.length} : null; }"
        )
        if not info or info["n"] < 2:
            continue
        gd.scroll_into_view_if_needed()
        page.wait_for_timeout(200)
        times, method = [], None
        for target in step_targets(info["n"], info["active"], steps):
            method = gd.evaluate(_ARM_STEP)
            gd.scroll_into_view_if_needed()
            point = gd.evaluate(_TICK, target)
            page.mouse.click(point["x"], point["y"])
            times.append(page.evaluate("window.__lessonsStep"))
            active = gd.evaluate("gd => gd._fullLayout.sliders[0].active")
            if active != target:
                raise RuntimeError(f"{url}: figure {i}: clicked step {target} but the slider shows {active}")
            page.wait_for_timeout(80)
        figures.append({"figure": i, "steps": info["n"], "traces": info["traces"], "method": method,
                        "median_ms": statistics.median(times), "max_ms": max(times), "times_ms": times})
    context.close()
    return figures


def run(html: Path | None = None, repeat: int = 3, steps: int = 10, patterns=()) -> list[dict]:
    """Measure every page of ``_toc.yml`` (or those whose path contains one of ``patterns``)."""
    html = Path(html or ROOT / "_build" / "html")
    if not (html / "index.html").is_file():
        raise FileNotFoundError(f"no built book in {html}: run `make book` first")
    pages = [p for p in book_site.toc_pages() if not patterns or any(s in p for s in patterns)]
    rows = []
    with book_site.serve(html) as base, book_site.chromium() as browser:
        for rel in pages:
            url = f"{base}/{rel}"
            visits = [visit(browser, url) for _ in range(repeat)]
            figures = slider_steps(browser, url, steps)
            all_steps = [t for f in figures for t in f["times_ms"]]

            def median_of(key, visits=visits):
                values = [v[key] for v in visits if v[key] is not None]
                return round(statistics.median(values), 1) if values else None

            row = {
                "page": rel,
                "fcp_ms": median_of("fcp_ms"),
                "fcp_all_ms": [round(v["fcp_ms"], 1) for v in visits if v["fcp_ms"] is not None],
                "load_ms": median_of("load_ms"),
                "figures_drawn_ms": median_of("figures_drawn_ms"),
                "figures": visits[0]["figures"],
                "plotly_js": visits[0]["plotly_js"],
                "sliders": len(figures),
                "step_median_ms": round(statistics.median(all_steps), 1) if all_steps else None,
                "step_max_ms": round(max(all_steps), 1) if all_steps else None,
                "slider_figures": figures,
            }
            rows.append(row)
            print(format_row(row), flush=True)
    return rows


def verdict(row: dict) -> str:
    late = row["fcp_ms"] is None or row["fcp_ms"] > FCP_BUDGET_MS
    slow = row["step_median_ms"] is not None and row["step_median_ms"] > STEP_BUDGET_MS
    return "OVER BUDGET" if late or slow else "ok"


def _ms(v) -> str:
    return "-" if v is None else f"{v:.0f}"


def format_row(row: dict) -> str:
    return (f"| {row['page']} | {_ms(row['fcp_ms'])} | {_ms(row['figures_drawn_ms'])} | "
            f"{'yes' if row['plotly_js'] else 'no'} | {row['sliders']} | {_ms(row['step_median_ms'])} | "
            f"{_ms(row['step_max_ms'])} | {verdict(row)} |")


def table(rows: list[dict]) -> list[str]:
    """The markdown table for ``bench/results.md``."""
    return [
        f"## Static book: first paint and slider steps (headless Chromium, 127.0.0.1, first visit; budget FCP "
        f"{FCP_BUDGET_MS:.0f} ms, slider step {STEP_BUDGET_MS:.0f} ms median)",
        "",
        "FCP: median of cold visits. Figures drawn: when every plotly figure of the page had drawn. A step: from "
        "the mousedown on a slider tick until the figure is painted, over every slider of the page.",
        "",
        "| page | FCP ms | figures drawn ms | plotly.js loaded | sliders | step median ms | step max ms | verdict |",
        "|---|---:|---:|---|---:|---:|---:|---|",
        *[format_row(r) for r in rows],
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", help="only pages whose path contains one of these")
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--repeat", type=int, default=3, help="cold visits per page for the FCP median")
    parser.add_argument("--steps", type=int, default=10, help="slider steps timed per figure")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows = run(args.html, args.repeat, args.steps, args.patterns)
    args.out.write_text(json.dumps(rows, indent=1))
    print("\n".join(table(rows)))
    return 1 if any(verdict(r) != "ok" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
