"""Execute the book's notebooks once, in parallel, into the jupyter-cache that the HTML build reads.

Jupyter Book 1 executes notebooks one at a time (``sphinx -j`` falls back to a serial read), so the
Makefile fills the cache itself and then builds with ``execute_notebooks: cache``:

``python book/_ext/execute.py run [--timeout S]``
    ``make book``: clear the cache and execute every notebook of ``_toc.yml`` with jupyter-cache's
    local-parallel executor (one process per core; the Makefile sets one torch thread each). Every cell
    has a timeout, so a hung kernel fails within ``S`` seconds instead of eating the build.
``python book/_ext/execute.py import DIR``
    ``make test``: nbval has just executed every notebook once and its plugin (``book/conftest.py``) wrote
    the executed copies under ``DIR``; clear the cache and put those in, so the build re-executes nothing.

Either way a notebook that failed or is missing fails the command, naming the notebook and the cell.
The cache is always cleared first: it does not notice changes in lessons_lib and could publish stale
outputs otherwise.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from toc import ROOT, notebooks  # noqa: E402

CACHE = ROOT / "_build" / ".jupyter_cache"


def _fresh_cache():
    from jupyter_cache import get_cache

    shutil.rmtree(CACHE, ignore_errors=True)
    return get_cache(str(CACHE))


def failing_cell(path: Path, traceback: str) -> str:
    """'cell N' for the code cell whose source nbclient quotes in its error, else 'a cell'."""
    quoted = re.search(r"executing the following cell:\n-+\n(.*?)\n-+\n", traceback or "", re.S)
    if quoted:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.source.strip() == quoted.group(1).strip():
                return f"cell {i}"
    return "a cell"


def run(timeout: int) -> int:
    from jupyter_cache.executors import load_executor

    cache = _fresh_cache()
    paths = notebooks()
    for path in paths:
        cache.add_nb_to_project(str(path))
    start = time.perf_counter()
    result = load_executor("local-parallel", cache=cache).run_and_cache(timeout=timeout)
    print(f"executed {len(result.succeeded)} of {len(paths)} notebooks in {time.perf_counter() - start:.0f} s "
          f"(parallel, {timeout} s limit per cell)")
    for uri in result.errored:
        record = cache.get_project_record(uri)
        path = Path(uri)
        lines = (record.traceback or "").strip().splitlines()
        print(f"\n=== {path.relative_to(ROOT)} failed in {failing_cell(path, record.traceback)}:")
        print("\n".join(lines[-25:]))
    return 1 if result.errored or len(result.succeeded) != len(paths) else 0


def import_executed(directory: Path) -> int:
    cache = _fresh_cache()
    missing = []
    for path in notebooks():
        executed = directory / path.relative_to(ROOT)
        if not executed.is_file():
            missing.append(str(path.relative_to(ROOT)))
            continue
        cache.cache_notebook_file(str(executed), uri=str(path), check_validity=False, overwrite=True)
    if missing:
        print("these notebooks were not executed (or failed) under nbval, so the book has no outputs for them:\n  "
              + "\n  ".join(missing))
        return 1
    print(f"cached {len(notebooks())} notebooks executed by nbval: the book build re-executes nothing")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute every notebook in parallel into the cache")
    p_run.add_argument("--timeout", type=int, default=120, help="seconds allowed for one cell (default 120)")
    p_imp = sub.add_parser("import", help="cache the notebooks that nbval executed")
    p_imp.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    return run(args.timeout) if args.command == "run" else import_executed(args.directory)


if __name__ == "__main__":
    sys.exit(main())
