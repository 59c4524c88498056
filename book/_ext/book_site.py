"""The built book as a site: its pages in reading order, a loopback server, and how Chromium reads it offline.

Shared by the browser test (``tests/browser/test_book.py``) and the page benchmark (``bench/book_pages.py``);
the pages come from ``toc.py``, the one reader of ``_toc.yml``. Build tooling, like ``book_assets``: not
part of ``lessons_lib``, and Sphinx does not load it as an extension.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import toc  # noqa: E402  (the one reader of _toc.yml: book/_ext/toc.py)

ROOT = Path(__file__).resolve().parents[2]

# Debian's chromium, driven by the playwright package; the host rules leave only 127.0.0.1 resolvable.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


@contextlib.contextmanager
def chromium():
    """Debian's headless chromium through playwright, with :data:`LAUNCH_ARGS`; yields the browser.

    Raises FileNotFoundError when chromium is not installed. Playwright's sync API allows one of these
    at a time in a process, so the browser tests share one (tests/browser/conftest.py)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def loopback_only(target, problems: list[str] | None = None) -> None:
    """Abort every request of a playwright page or context that is not to 127.0.0.1 (data: and blob: URLs
    pass); each blocked URL is appended to ``problems`` when given."""

    def route(r):
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname == "127.0.0.1":
            r.continue_()
        else:
            if problems is not None:
                problems.append(f"external request blocked: {url}")
            r.abort()

    target.route("**/*", route)


def toc_pages(root: Path = ROOT) -> list[str]:
    """Every page of the table of contents, as paths of built HTML files relative to ``_build/html``."""
    return [f"{page}.html" for page in toc.pages(root)]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
