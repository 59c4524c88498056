"""Test settings shared by the library's tests.

- No network: any attempt to connect to a non-loopback address fails the test that made it, so the
  dataset loaders are proven to work offline.
- One torch thread per pytest-xdist worker, so parallel workers do not oversubscribe the cores.
- The book's static mode, as during the build.
"""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

os.environ.setdefault("LESSONS_STATIC", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["LESSONS_THREADS"] = "1"
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass

_real_connect = socket.socket.connect


def _is_loopback(address) -> bool:
    if not isinstance(address, tuple):  # unix sockets
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if not _is_loopback(address):
        raise OSError(f"network access attempted during tests: {address!r} (the book must work offline)")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    yield
