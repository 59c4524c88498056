"""The build tooling in book/_ext and the nbval plugin in book/conftest.py, on small files the tests write."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
sys.path.insert(0, str(BOOK / "_ext"))
import execute  # noqa: E402  (build tooling, not part of lessons_lib)
import install_torch  # noqa: E402

pytest_plugins = ["pytester"]


# ------------------------------------------------------------------------------------ install_torch


def fake_pip_report(monkeypatch, requires_dist):
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        report = {"install": [{"metadata": {"name": "torch", "requires_dist": requires_dist}}]}
        return SimpleNamespace(stdout=json.dumps(report), returncode=0)

    monkeypatch.setattr(install_torch.subprocess, "run", run)
    return calls


def test_a_build_that_needs_nvidia_packages_is_the_cuda_build(monkeypatch):
    calls = fake_pip_report(monkeypatch, ["filelock", 'nvidia-cublas-cu12==12.1; python_version >= "3"'])
    assert install_torch.wants_cuda_packages("torch==2.13.0")
    assert "--dry-run" in calls[0] and "--report" in calls[0] and calls[0][-1] == "torch==2.13.0"


def test_nvidia_packages_this_machine_would_not_install_do_not_count(monkeypatch):
    fake_pip_report(monkeypatch, ['nvidia-cublas-cu12; python_version < "3"', "sympy"])
    assert not install_torch.wants_cuda_packages("torch==2.13.0")
    fake_pip_report(monkeypatch, None)  # a wheel without dependencies
    assert not install_torch.wants_cuda_packages("torch==2.13.0")


@pytest.mark.parametrize(
    ("build", "gpu", "cuda_wheel", "expected"),
    [
        ("auto", False, True, ("torch==2.13.0", "--index-url", install_torch.CPU_INDEX)),
        ("auto", False, False, ("torch==2.13.0",)),  # the index already serves a CPU build (macOS, a mirror)
        ("auto", True, True, ("torch==2.13.0",)),  # a GPU: the default index's CUDA build
        ("cuda", False, True, ("torch==2.13.0",)),
        ("skip", False, True, None),
    ],
)
def test_the_build_fits_the_machine(monkeypatch, build, gpu, cuda_wheel, expected):
    installed = []
    monkeypatch.setenv("TORCH_BUILD", build)
    monkeypatch.setattr(install_torch, "has_nvidia_gpu", lambda: gpu)
    monkeypatch.setattr(install_torch, "wants_cuda_packages", lambda requirement: cuda_wheel)
    monkeypatch.setattr(install_torch, "pip_install", lambda *args: installed.append(args))
    assert install_torch.main("2.13.0") == 0
    assert installed == ([] if expected is None else [expected])


def test_an_unknown_build_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("TORCH_BUILD", "rocm")
    assert install_torch.main("2.13.0") == 2
    assert "TORCH_BUILD is 'rocm'; expected one of auto, cpu, cuda, skip" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ execute


def notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title")]
                                  + [nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def test_failing_cell_names_the_cell_nbclient_quotes(tmp_path):
    path = notebook(tmp_path / "a.ipynb", "x = 1", "y = 1 / 0", "z = 2")
    traceback = ("An error occurred while executing the following cell:\n------------------\ny = 1 / 0\n"
                 "------------------\n\nZeroDivisionError: division by zero")
    assert execute.failing_cell(path, traceback) == "cell 2"
    assert execute.failing_cell(path, "a timeout, no cell quoted") == "a cell"
    assert execute.failing_cell(path, None) == "a cell"


def test_import_refuses_a_notebook_nbval_did_not_execute(tmp_path, monkeypatch, capsys):
    done = notebook(tmp_path / "book" / "done.ipynb", "1")
    missing = notebook(tmp_path / "book" / "missing.ipynb", "2")
    executed = tmp_path / "_build" / "executed"
    notebook(executed / "book" / "done.ipynb", "1")
    monkeypatch.setattr(execute, "ROOT", tmp_path)
    monkeypatch.setattr(execute, "CACHE", tmp_path / "_build" / ".jupyter_cache")
    monkeypatch.setattr(execute, "notebooks", lambda: [done, missing])
    assert execute.import_executed(executed) == 1
    assert "book/missing.ipynb" in capsys.readouterr().out
    notebook(executed / "book" / "missing.ipynb", "2")
    assert execute.import_executed(executed) == 0
    assert "cached 2 notebooks" in capsys.readouterr().out


# ------------------------------------------------------------------------------ the nbval plugin


def test_the_nbval_plugin_keeps_what_passed_with_its_outputs(pytester, tmp_path):
    pytester.makeconftest((BOOK / "conftest.py").read_text())
    notebook(pytester.path / "good.ipynb", "print('hi')", "6 * 7")
    notebook(pytester.path / "bad.ipynb", "raise ValueError('no')")
    out = tmp_path / "executed"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider", "-q",
         "good.ipynb", "bad.ipynb"],
        cwd=pytester.path, capture_output=True, text=True, timeout=240,
        env={**{k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}, "LESSONS_EXECUTED_DIR": str(out)},
    )
    assert result.returncode == 1, result.stdout[-2000:]  # the failing notebook still fails the run
    kept = nbformat.read(out / "good.ipynb", as_version=4)
    assert kept.cells[1].outputs[0]["text"] == "hi\n"
    assert kept.cells[2].outputs[0]["data"]["text/plain"] == "42"
    assert not (out / "bad.ipynb").exists(), "a notebook with a failing cell is never put in the book"
    times = json.loads((out / "times-main.json").read_text())
    assert set(times) == {"good.ipynb"} and times["good.ipynb"] >= 0


# --------------------------------------------------------------------------------- lab_nodelay


def test_lab_nodelay_turns_nagle_off_on_every_kernel_websocket(monkeypatch):
    import asyncio

    import lab_nodelay
    from jupyter_server.services.kernels.websocket import KernelWebsocketHandler

    opened = []

    async def original_open(self, kernel_id):
        opened.append(kernel_id)

    monkeypatch.setattr(KernelWebsocketHandler, "open", original_open)
    monkeypatch.setattr(KernelWebsocketHandler, "_lessons_nodelay", False, raising=False)
    app = SimpleNamespace(log=SimpleNamespace(info=lambda *a: None))
    lab_nodelay._load_jupyter_server_extension(app)
    lab_nodelay._load_jupyter_server_extension(app)  # loading twice wraps once
    calls = []
    handler = SimpleNamespace(set_nodelay=calls.append)
    asyncio.run(KernelWebsocketHandler.open(handler, "k1"))
    assert calls == [True] and opened == ["k1"]
    assert lab_nodelay._jupyter_server_extension_points() == [{"module": "lab_nodelay"}]
