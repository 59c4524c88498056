"""`make bench`: how long each notebook takes and how fast each experiment answers.

Runs every notebook of ``_toc.yml`` serially, as a reader's Restart & Run All would (a fresh kernel, the
book's static mode so every experiment's update function runs over its whole grid), and records:

- the wall time of each notebook (kernel start included), against the 60 s budget (30 s aim);
- for each experiment, the median and worst time of one update (the function plus serialising its
  figure), against the 100 ms budget;
- from-scratch kernels against their torch equivalents, from ``bench/kernels.py``.

Writes ``bench/results.md`` (and ``bench/results.json``) and prints the table. Usage:
``python bench/run.py [substring ...]`` to run only the notebooks whose path contains a substring.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_BUDGET_S, NOTEBOOK_AIM_S, UPDATE_BUDGET_MS = 60.0, 30.0, 100.0


def toc_notebooks() -> list[Path]:
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import toc  # the one reader of _toc.yml (book/_ext/toc.py)

    return toc.notebooks(ROOT)


def run_notebook(path: Path, log: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ.update({"LESSONS_STATIC": "1", "LESSONS_BENCH_LOG": str(log), "LESSONS_BENCH_NOTEBOOK": path.name})
    # The same per-cell limit as make book / make test: a hung kernel fails here within minutes, naming the cell.
    timeout = int(os.environ.get("CELL_TIMEOUT", "120"))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def verdict(value: float, budget: float, aim: float | None = None) -> str:
    if value > budget:
        return "OVER BUDGET"
    if aim is not None and value > aim:
        return "ok (above the aim)"
    return "ok"


def main(patterns: list[str]) -> int:
    notebooks = [p for p in toc_notebooks() if not patterns or any(s in str(p) for s in patterns)]
    rows, experiments, failed = [], [], False
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "experiments.jsonl"
        for path in notebooks:
            rel = path.relative_to(ROOT)
            try:
                seconds = run_notebook(path, log)
            except Exception as exc:  # keep measuring the others, report the failure
                print(f"{rel}: FAILED ({type(exc).__name__})", file=sys.stderr)
                rows.append({"notebook": str(rel), "seconds": None, "status": "FAILED"})
                failed = True
                continue
            status = verdict(seconds, NOTEBOOK_BUDGET_S, NOTEBOOK_AIM_S)
            rows.append({"notebook": str(rel), "seconds": round(seconds, 1), "status": status})
            print(f"{rel}: {seconds:.1f} s", flush=True)
        if log.exists():
            experiments = [json.loads(line) for line in log.read_text().splitlines()]
    kernels, training, gpt = [], [], []
    kernels_file = ROOT / "bench" / "kernels.py"
    if kernels_file.exists() and not patterns:
        sys.path.insert(0, str(kernels_file.parent))
        import kernels as kernel_bench

        kernels = kernel_bench.run()
        training = kernel_bench.digits_training() + kernel_bench.mnist1d_training() + kernel_bench.mnist1d_gru_training()
        gpt = kernel_bench.gpt_training()
    pages = book_pages() if not patterns else []
    live_widgets(patterns)
    write_report(rows, experiments, kernels, training, pages, gpt)
    return 1 if failed else 0


def kernel_verdict(k: dict) -> str:
    """A kernel row's budget: 2x by default, its own ratio where it names one, none (False) for comparisons."""
    budget = k.get("budget", True)
    if budget is False:
        return "for comparison"
    return verdict(k["ratio"], 2.0 if budget is True else budget)


def book_pages() -> list[dict]:
    """The static book in headless Chromium (``bench/book_pages.py``); empty, with a note, if it cannot run."""
    sys.path.insert(0, str(ROOT / "bench"))
    import book_pages as pages_bench

    try:
        rows = pages_bench.run()
    except FileNotFoundError as exc:  # no built book or no chromium: the rest of the report still stands
        print(f"static book not measured: {exc}", file=sys.stderr)
        return []
    pages_bench.OUT.write_text(json.dumps(rows, indent=1))
    return rows


def live_widgets(patterns: list[str]) -> None:
    """Live experiments in JupyterLab (``bench/lab_latency.py``, writes ``bench/lab_latency.json``)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import lab_latency

    try:
        lab_latency.main(list(patterns))
    except FileNotFoundError as exc:  # no chromium: the table shows the last measurement, if any
        print(f"live widgets not measured: {exc}", file=sys.stderr)


def write_report(rows, experiments, kernels, training=(), pages=(), gpt=()) -> None:
    import torch

    lines = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, torch "
        f"{torch.__version__} ({torch.get_num_threads()} threads); written by `make bench` on "
        f"{time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        f"## Notebooks (Restart & Run All, serial; budget {NOTEBOOK_BUDGET_S:.0f} s, aim {NOTEBOOK_AIM_S:.0f} s)",
        "",
        "| notebook | seconds | verdict |",
        "|---|---:|---|",
    ]
    lines += [f"| {r['notebook']} | {r['seconds'] if r['seconds'] is not None else '-'} | {r['status']} |" for r in rows]
    done = [r["seconds"] for r in rows if r["seconds"] is not None]
    lines += [f"| **total** | {sum(done):.1f} | {verdict(sum(done), 600)} (book budget 600 s) |", ""]
    lines += [
        f"## Experiments (one update = the function plus serialising its figure; budget {UPDATE_BUDGET_MS:.0f} ms median)",
        "",
        "| notebook | experiment | updates | median ms | worst ms | verdict |",
        "|---|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {e['notebook']} | {e['experiment']} | {e['updates']} | {e['median_ms']:.1f} | {e['max_ms']:.1f} | "
        f"{verdict(e['median_ms'], UPDATE_BUDGET_MS)} |"
        for e in experiments
    ]
    if kernels:
        lines += ["", "## From scratch against the library (CPU, median of repeated runs; budget: within 2x)", "",
                  "| computation | from scratch ms | library ms (torch or tokenizers) | ratio | verdict |",
                  "|---|---:|---:|---:|---|"]
        lines += [f"| {k['name']} | {k['scratch_ms']:.2f} | {k['torch_ms']:.2f} | {k['ratio']:.2f}x | "
                  f"{kernel_verdict(k)} |" for k in kernels]
    if training:
        lines += ["", "## Training to an accuracy goal (test split)", "",
                  "| run | seconds of training | epochs | test accuracy | verdict |", "|---|---:|---:|---:|---|"]
        lines += [f"| {t['name']} | {t['seconds']:.2f} | {t['epochs']} | {t['accuracy']:.3f} | "
                  f"{verdict(t['seconds'], t['budget_s'])} (budget {t['budget_s']:.0f} s) |" for t in training]
    if gpt:
        lines += ["", "## The book's GPT on a laptop CPU (goal: held-out loss at most 1.6 nats/char in 60 s)", "",
                  "| run | steps | tokens/s | GFLOP/s | share of the matmul peak | held-out nats/char | "
                  "generate 63 tokens: no cache / cache | verdict |", "|---|---:|---:|---:|---:|---:|---|---|"]
        lines += [f"| {g['name']} | {g['steps']} | {g['tokens_per_s']:,.0f} | {g['gflops']:.1f} | "
                  f"{g['share_of_peak']:.0%} of {g['peak_gflops']:.0f} | {g['val_loss']:.3f} | "
                  f"{g['generate_ms_no_cache']:.0f} ms / {g['generate_ms_cache']:.0f} ms | "
                  f"{'ok' if g['val_loss'] <= g['goal_loss'] else 'OVER'} |" for g in gpt]
    if pages:
        sys.path.insert(0, str(ROOT / "bench"))
        import book_pages as pages_bench

        lines += ["", *pages_bench.table(list(pages))]
    lab_json = ROOT / "bench" / "lab_latency.json"
    lab = json.loads(lab_json.read_text()) if lab_json.exists() else None
    if lab:
        sys.path.insert(0, str(ROOT / "bench"))
        import lab_latency

        lines += ["", *lab_latency.table(lab)]
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results.md").write_text(text)
    results = {"notebooks": rows, "experiments": experiments, "kernels": kernels, "training": list(training),
               "gpt": list(gpt), "book_pages": list(pages), "live_widgets": lab}
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=1))
    print("\n" + text)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
