"""How fast the live experiments answer in a real front end: JupyterLab in headless Chromium.

For each chosen notebook this starts from a fresh kernel, runs all cells, waits for the kernel to be
idle, then for every experiment (an ``explore()`` widget: a row of controls above a plotly figure)
moves its first slider (or, with no slider, its first dropdown) one step at a time, ``MOVES`` times,
(ArrowRight on the focused slider handle, or the next option of a dropdown; back at the end). Each move
is timed in the page from the key press until the figure shows the new state: a requestAnimationFrame
loop watches the figure's plotly data and layout (or a new plot element replacing the old one), and the
end time is taken after the frame that shows the change has been painted. That is end to end: the
widget message to the kernel, the experiment's function, the figure sent back, and plotly's redraw.

JupyterLab runs on 127.0.0.1 (a free port, a random token, ``--no-browser``, ``root_dir=book``) with
its settings, workspaces, runtime and config in a temporary folder (autosave off, so the notebooks on
disk are never rewritten); the page is not allowed any non-loopback request.

Usage::

    python bench/lab_latency.py [substring ...]      # notebooks whose path contains a substring
    LESSONS_LAB_NOTEBOOKS="03_,12_" python bench/lab_latency.py
    python bench/lab_latency.py --moves 5 --json bench/lab_latency.json

Writes ``bench/lab_latency.json`` (the default) and prints a table. ``bench/run.py`` reads that file
for its "live widgets in JupyterLab" table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from book_site import chromium, loopback_only  # noqa: E402  (shared with the book test)

BOOK = ROOT / "book"
DEFAULT_JSON = ROOT / "bench" / "lab_latency.json"
NOTEBOOKS_ENV = "LESSONS_LAB_NOTEBOOKS"
BUDGET_MS = 100.0
# book/_ext/lab_nodelay.py, as `make lab` loads it (LESSONS_LAB_NODELAY=0 measures JupyterLab without it)
NODELAY = os.environ.get("LESSONS_LAB_NODELAY", "1") != "0"
MOVES = 10
SERVER_START_S, RUN_ALL_S, MOVE_S = 90.0, 240.0, 15.0
SETTINGS = {  # JupyterLab user settings for the temporary profile
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    # JupyterLab's default, what a reader gets: every cell is in the DOM (so an experiment far down the
    # notebook can be found and driven) and the browser skips rendering the cells off screen. ("none"
    # renders them all, so every redraw of a figure restyles the whole notebook: 30-45 ms more a move here.)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "contentVisibility"},
}

# ----------------------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def lab_server(root_dir: Path = BOOK, timeout_s: float = SERVER_START_S):
    """JupyterLab on 127.0.0.1 in a throw-away profile; yields ``(base_url, token)``."""
    with tempfile.TemporaryDirectory(prefix="lessons-lab-") as tmp:
        tmp = Path(tmp)
        for rel, value in SETTINGS.items():
            path = tmp / "settings" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        port, token = free_port(), secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LESSONS_STATIC", "LESSONS_BENCH"))}
        env.update(
            JUPYTER_CONFIG_DIR=str(tmp / "config"),
            JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
            IPYTHONDIR=str(tmp / "ipython"),
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "book" / "_ext"), os.environ.get("PYTHONPATH")])),
        )
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
            f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False",
            *(["--ServerApp.jpserver_extensions={'lab_nodelay': True}"] if NODELAY else []),
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # containers and CI run as root
        log = open(tmp / "server.log", "wb")  # noqa: SIM115 (closed below)
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root_dir)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{_tail(tmp / 'server.log')}")
                try:
                    with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"JupyterLab did not answer within {timeout_s:.0f} s:\n{_tail(tmp / 'server.log')}")
                time.sleep(0.3)
            yield base, token
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
            log.close()


def _tail(path: Path, n: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


# ------------------------------------------------------------------------------------- in the page

# Installed in the page once: find experiments, and time one move of a control.
PAGE_JS = r"""
() => {
  if (window.__lessons) return;
  const hashIn = (h, v) => {
    if (v === null || v === undefined) return h;
    if (typeof v === 'number') return (h * 31 + (Number.isFinite(v) ? Math.round(v * 1e6) : 7)) | 0;
    if (typeof v === 'string' || typeof v === 'boolean') {
      const s = String(v);
      for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
      return h;
    }
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      h = (h * 31 + v.length) | 0;
      const n = Math.min(v.length, 20000);
      for (let i = 0; i < n; i++) h = hashIn(h, v[i]);
      return h;
    }
    return h;
  };
  const TRACE_KEYS = ['type', 'visible', 'x', 'y', 'z', 'text', 'name'];
  const signature = (gd) => {
    if (!gd || !gd._fullData || !gd._fullLayout) return null;
    let h = gd._fullData.length;
    for (const t of gd._fullData) {
      for (const k of TRACE_KEYS) h = hashIn(h, t[k]);
      if (t.marker) { h = hashIn(h, t.marker.color); h = hashIn(h, t.marker.size); }
      if (t.line) h = hashIn(h, t.line.color);
    }
    const L = gd._fullLayout;
    h = hashIn(h, L.title && L.title.text);
    h = hashIn(h, JSON.stringify((L.annotations || []).map(a => [a.text, a.x, a.y])));
    h = hashIn(h, JSON.stringify((L.shapes || []).map(s => [s.x0, s.x1, s.y0, s.y1])));
    return h;
  };
  const plotOf = (box) => box.querySelector('.js-plotly-plot');
  // The open notebook only: a workspace may hold an earlier notebook's cells and widgets too.
  const root = () => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                       return (w && w.content && w.content.node) || document; };
  const drawn = (gd) => gd && gd._fullLayout && gd.querySelector('svg.main-svg');
  window.__lessons = {
    signature, plotOf, root,
    // Every explore() widget: a VBox whose first child is a row of sliders/dropdowns.
    find() {
      const boxes = [...root().querySelectorAll('.jp-Notebook .jp-OutputArea-output .widget-vbox')].filter(b => {
        const row = b.firstElementChild;
        return row && row.classList.contains('widget-hbox') &&
          row.querySelector('.widget-slider, .widget-dropdown') &&
          !b.parentElement.closest('.widget-vbox');
      });
      for (const old of document.querySelectorAll('[data-lessons-bench]')) old.removeAttribute('data-lessons-bench');
      const cells = [...root().querySelectorAll('.jp-Notebook .jp-Cell')];
      return boxes.map((b, i) => {
        b.setAttribute('data-lessons-bench', String(i));
        const row = b.firstElementChild;
        const sliders = [...row.querySelectorAll('.widget-slider')];
        const control = sliders.length ? sliders[0] : row.querySelector('.widget-dropdown');
        const label = control.querySelector('.widget-label');
        return {
          index: i,
          cell: cells.findIndex(c => c.contains(b)),
          kind: sliders.length ? 'slider' : 'dropdown',
          control: label ? label.textContent.trim() : '?',
          drawn: !!drawn(plotOf(b)),
        };
      });
    },
    position(i) {
      const b = root().querySelector(`[data-lessons-bench="${i}"]`);
      const row = b.firstElementChild;
      const handle = row.querySelector('.widget-slider .noUi-handle');
      if (handle) return [Number(handle.getAttribute('aria-valuenow')), Number(handle.getAttribute('aria-valuemax'))];
      const sel = row.querySelector('.widget-dropdown select');
      return [sel.selectedIndex, sel.options.length - 1];
    },
    // Arm the timer: the key press starts it; the first painted frame whose figure differs stops it.
    arm(i, timeoutMs) {
      const b = root().querySelector(`[data-lessons-bench="${i}"]`);
      const oldGd = plotOf(b), oldSig = signature(oldGd);
      let t0 = null, afterplots = 0;
      const onKey = () => { if (t0 === null) t0 = performance.now(); };
      const EVENTS = ['keydown', 'input', 'change'];  // a key on a slider; a dropdown's selection
      for (const e of EVENTS) document.addEventListener(e, onKey, true);
      if (oldGd && oldGd.on) oldGd.on('plotly_afterplot', () => { afterplots++; });
      this.pending = new Promise(resolve => {
        const started = performance.now();
        const finish = (result) => { for (const e of EVENTS) document.removeEventListener(e, onKey, true); resolve(result); };
        const tick = () => {
          const gd = plotOf(b);
          const now = performance.now();
          if (t0 !== null && drawn(gd)) {
            const sig = signature(gd);
            const changed = gd !== oldGd || sig !== oldSig;
            // same figure drawn again (a step that does not change the picture): count the redraw
            const redrawn = !changed && afterplots > 0 && now - t0 > 0;
            if (changed || redrawn) {
              // after the frame that shows the change has been painted
              const error = [...b.querySelectorAll('.lessons-explore-error')].some(e => e.textContent.trim() !== '');
              setTimeout(() => finish({ms: performance.now() - t0, changed, error}), 0);
              return;
            }
          }
          if (now - started > timeoutMs) { finish({ms: null, changed: false, error: false}); return; }
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      return true;
    },
    wait() { return this.pending; },
  };
}
"""

KERNEL_IDLE_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  if (!k || k.status !== 'idle') return false;
  return ![...w.content.node.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));
}"""

ERRORS_JS = """() => [...window.__lessons.root().querySelectorAll(
    '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"],' +
    '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(e => e.textContent.trim().slice(0, 400)).filter(t => t && !t.includes('Kernel is running over TCP'))"""


def open_and_run(browser, base: str, token: str, notebook: str, *, run_all_s: float = RUN_ALL_S):
    """Open ``notebook`` (relative to book/) in JupyterLab, run all cells, wait for an idle kernel.

    Returns ``(context, page, seconds, problems)``; the caller closes ``context``.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    loopback_only(context, problems)
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(f"{base}/lab/tree/{notebook}?reset&token={token}", wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_function(
        """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel
                     && w.sessionContext.session.kernel.status === 'idle' && w.content && w.content.widgets.length > 0; }""",
        timeout=90_000,
    )
    page.evaluate(PAGE_JS)
    start = time.perf_counter()
    ok = page.evaluate(
        """(ms) => Promise.race([
             window.jupyterapp.commands.execute('notebook:run-all-cells').then(() => true),
             new Promise(r => setTimeout(() => r(false), ms))])""",
        run_all_s * 1000,
    )
    if not ok:
        context.close()
        raise TimeoutError(f"{notebook}: Run All did not finish within {run_all_s:.0f} s")
    page.wait_for_function(KERNEL_IDLE_JS, timeout=run_all_s * 1000)
    seconds = time.perf_counter() - start
    return context, page, seconds, problems


def experiments_in(page, timeout_s: float = 30.0, cells=()) -> list[dict]:
    """The explore() widgets of the open notebook, once each has drawn its figure (or at the deadline).

    Widgets render a moment after their cell finished (the widget's front-end code loads first), so an empty
    list, or one shorter than ``cells``, is not an answer until the deadline. ``cells``: indices of the
    cells that hold experiments; each is scrolled into view first, since JupyterLab's default windowing
    renders no output that is off screen."""
    for i in cells:
        page.evaluate("i => { const c = window.__lessons.root().querySelectorAll('.jp-Cell')[i];"
                      " if (c) c.scrollIntoView({block: 'center'}); }", i)
        page.wait_for_timeout(400)
    deadline = time.monotonic() + timeout_s
    while True:
        found = page.evaluate("() => window.__lessons.find()")
        complete = found and len(found) >= len(cells)  # an output still being rendered is not in the list yet
        if (complete and all(e["drawn"] for e in found)) or time.monotonic() > deadline:
            return found
        page.wait_for_timeout(200)


def scroll_to(page, index: int) -> None:
    """Bring experiment ``index`` into view (``scrollIntoView``; playwright's scroll_into_view_if_needed
    waits for the box to be "visible", which an output JupyterLab has not rendered, off screen, never is)."""
    page.evaluate("i => window.__lessons.root().querySelector(`[data-lessons-bench=\"${i}\"]`)"
                  ".scrollIntoView({block: 'center'})", index)
    page.wait_for_timeout(300)


def move_once(page, index: int, kind: str, timeout_s: float = MOVE_S) -> dict:
    """Move experiment ``index``'s control one step; returns ``{ms, changed, error, position}``."""
    pos, last = page.evaluate("i => window.__lessons.position(i)", index)
    forward = pos < last
    box = page.locator(f'[data-lessons-bench="{index}"]')
    if kind == "slider":
        handle = box.locator(".widget-slider .noUi-handle").first
        handle.focus()
        page.evaluate("([i, ms]) => window.__lessons.arm(i, ms)", [index, timeout_s * 1000])
        page.keyboard.press("ArrowRight" if forward else "ArrowLeft")
    else:  # a closed <select> ignores arrow keys in headless Chromium: choose the next option instead
        select = box.locator(".widget-dropdown select").first
        select.focus()
        page.evaluate("([i, ms]) => window.__lessons.arm(i, ms)", [index, timeout_s * 1000])
        select.select_option(index=pos + 1 if forward else pos - 1)
    result = page.evaluate("() => window.__lessons.wait()")
    result["position"] = page.evaluate("i => window.__lessons.position(i)", index)[0]
    if result["position"] == pos:
        result["ms"] = None  # the control did not move: not a measurement
    return result


def titles(notebook: Path) -> dict[int, str]:
    """Cell index -> experiment title, from the explore(...) calls in the notebook's source."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    out = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "explore(" in cell.source:
            call = cell.source[cell.source.rfind("explore("):]  # its title=..., not a figure's
            m = re.search(r"(?<![\w.])title\s*=\s*(['\"])(.+?)\1", call)
            out[i] = m.group(2) if m else re.search(r"explore\((\w+)", call).group(1)
    return out


def measure_notebook(browser, base, token, path: Path, moves: int = MOVES) -> dict:
    rel = path.relative_to(BOOK).as_posix()
    context, page, seconds, problems = open_and_run(browser, base, token, rel)
    try:
        names = titles(path)
        results = []
        in_order = list(names.values())  # when the page's cell count differs from the file's (hidden cells)
        for k, exp in enumerate(experiments_in(page, cells=list(names))):
            scroll_to(page, exp["index"])
            times, unchanged, errors = [], 0, 0
            for _ in range(moves):
                r = move_once(page, exp["index"], exp["kind"])
                if r["ms"] is not None:
                    times.append(r["ms"])
                unchanged += not r["changed"]
                errors += r["error"]
                page.wait_for_timeout(150)  # let the kernel settle: one move at a time
            results.append({
                "experiment": names.get(exp["cell"]) or (in_order[k] if k < len(in_order) else f"cell {exp['cell']}"),
                "control": exp["control"], "kind": exp["kind"], "moves": len(times),
                "median_ms": round(statistics.median(times), 1) if times else None,
                "max_ms": round(max(times), 1) if times else None,
                "all_ms": [round(t, 1) for t in times], "unchanged": unchanged, "error_moves": errors,
            })  # fmt: skip
        errors = page.evaluate(ERRORS_JS)
        return {"notebook": path.name, "run_all_s": round(seconds, 1), "experiments": results,
                "errors": errors, "problems": problems}  # fmt: skip
    finally:
        with contextlib.suppress(Exception):  # stop the kernel so the next notebook has the CPUs
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        context.close()


def chosen_notebooks(patterns: list[str]) -> list[Path]:
    env = [p for p in os.environ.get(NOTEBOOKS_ENV, "").split(",") if p.strip()]
    patterns = patterns or env
    sys.path.insert(0, str(ROOT / "bench"))
    from run import toc_notebooks

    found = [p for p in toc_notebooks() if not patterns or any(s.strip() in str(p) for s in patterns)]
    if not found:
        raise SystemExit(f"lab_latency: no notebook of _toc.yml matches {patterns}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="*", help=f"substrings of notebook paths (default: ${NOTEBOOKS_ENV} or all)")
    parser.add_argument("--moves", type=int, default=MOVES, help="moves per experiment (default %(default)s)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the results")
    args = parser.parse_args(argv)
    notebooks = chosen_notebooks(args.patterns)
    started = time.perf_counter()
    records, failed = [], False
    with lab_server() as (base, token), chromium() as browser:
        for path in notebooks:
            try:
                record = measure_notebook(browser, base, token, path, args.moves)
            except Exception as exc:  # keep measuring the others
                record = {"notebook": path.name, "failed": f"{type(exc).__name__}: {str(exc)[:300]}", "experiments": []}
                failed = True
            records.append(record)
            print_record(record)
    report = {
        "written": time.strftime("%Y-%m-%d %H:%M"),
        "budget_ms": BUDGET_MS,
        "moves": args.moves,
        "seconds": round(time.perf_counter() - started, 1),
        "notebooks": records,
    }
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.json} ({report['seconds']:.0f} s)")
    return 1 if failed else 0


def table(report: dict) -> list[str]:
    """Markdown lines: the "live widgets in JupyterLab" table of ``bench/results.md``."""
    lines = [
        f"## Live widgets in JupyterLab (key press to redrawn figure, {report['moves']} moves of the first control; "
        f"budget {report['budget_ms']:.0f} ms median; measured {report['written']})",
        "",
        "| notebook | experiment | control | median ms | max ms | verdict |",
        "|---|---|---|---:|---:|---|",
    ]
    for nb in report["notebooks"]:
        if "failed" in nb:
            lines.append(f"| {nb['notebook']} | - | - | - | - | FAILED: {nb['failed'][:80]} |")
        for e in nb["experiments"]:
            med, worst = e["median_ms"], e["max_ms"]
            verdict = "no measurement" if med is None else ("ok" if med <= report["budget_ms"] else "OVER BUDGET")
            lines.append(f"| {nb['notebook']} | {e['experiment']} | {e['control']} | {med if med is not None else '-'} | "
                         f"{worst if worst is not None else '-'} | {verdict} |")  # fmt: skip
    return lines


def print_record(record: dict) -> None:
    if "failed" in record:
        print(f"{record['notebook']}: FAILED {record['failed']}", flush=True)
        return
    print(f"{record['notebook']}: Run All {record['run_all_s']} s", flush=True)
    for e in record["experiments"]:
        print(f"  {e['experiment']} [{e['control']}]: median {e['median_ms']} ms, max {e['max_ms']} ms "
              f"({e['moves']} moves, {e['unchanged']} unchanged)", flush=True)  # fmt: skip
    for problem in record["errors"] + record["problems"]:
        print(f"  ! {problem}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
