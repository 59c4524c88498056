"""Restart & Run All of the whole book, serially, several times in a row: the kernel-hang check.

A serial nbclient run of the 16 notebooks once hung forever on chapter 10 under ipykernel 7 (kernel idle,
client waiting). With ipykernel 6 pinned this runs the book ``N`` times (default 3) the way a reader's
front end would, one fresh kernel per notebook, with the book's per-cell timeout, and reports each run's
notebook times and any cell that failed or timed out. Usage: ``python bench/serial.py [N]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, run_notebook, toc_notebooks  # noqa: E402


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 3
    import ipykernel

    print(f"ipykernel {ipykernel.__version__}: {runs} serial runs of {len(toc_notebooks())} notebooks")
    failures = 0
    for run in range(1, runs + 1):
        start = time.perf_counter()
        times = []
        with tempfile.TemporaryDirectory() as tmp:
            for path in toc_notebooks():
                try:
                    times.append((path.name, run_notebook(path, Path(tmp) / "log.jsonl")))
                except Exception as exc:  # a timeout (hang) or a failing cell: report and go on
                    failures += 1
                    print(f"run {run}: {path.relative_to(ROOT)} FAILED: {type(exc).__name__}: {str(exc)[:300]}")
        slowest = max(times, key=lambda t: t[1]) if times else ("-", 0.0)
        print(f"run {run}: {len(times)} notebooks in {time.perf_counter() - start:.0f} s "
              f"(slowest {slowest[0]} {slowest[1]:.1f} s)", flush=True)
    print("no hang, no failure" if not failures else f"{failures} notebook runs failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
