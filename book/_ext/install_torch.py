"""Install the pinned torch build that fits this machine: CPU unless an NVIDIA GPU is present.

On Linux, PyPI's ``torch`` wheel is the CUDA build and pulls several GB of nvidia-* packages; a laptop
without an NVIDIA GPU wants PyTorch's CPU wheel instead. ``make install`` runs this before the rest of
``requirements.txt``:

- ``TORCH_BUILD=auto`` (default): ``cuda`` when ``nvidia-smi`` or the NVIDIA driver is found, else ``cpu``;
- ``TORCH_BUILD=cpu``: ask pip what the configured index would install; if that build depends on nvidia-*
  packages (PyPI on Linux), install from ``TORCH_CPU_INDEX`` (PyTorch's CPU index) instead; if the index
  already serves a CPU build (macOS, Windows, a local mirror), install it as it is;
- ``TORCH_BUILD=cuda``: install from the configured index (PyPI's Linux wheel is the CUDA build);
- ``TORCH_BUILD=skip``: leave torch alone (you installed the build you want yourself).

Usage: ``python book/_ext/install_torch.py VERSION`` with the venv's python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

try:
    from packaging.requirements import Requirement
except ImportError:  # a fresh venv has pip's own copy
    from pip._vendor.packaging.requirements import Requirement

CPU_INDEX = os.environ.get("TORCH_CPU_INDEX", "https://download.pytorch.org/whl/cpu")
BUILDS = ("auto", "cpu", "cuda", "skip")


def has_nvidia_gpu() -> bool:
    return shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia/version").exists()


def wants_cuda_packages(requirement: str) -> bool:
    """True when the configured index's build of ``requirement`` depends on nvidia-* packages (metadata only)."""
    report = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps", "--ignore-installed",
         "--report", "-", requirement],
        capture_output=True, text=True, check=True,
    )
    items = json.loads(report.stdout)["install"]
    requires = [Requirement(r) for item in items for r in item["metadata"].get("requires_dist") or []]
    return any(r.name.lower().startswith("nvidia-") and (r.marker is None or r.marker.evaluate()) for r in requires)


def pip_install(*args: str) -> None:
    print("pip install", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args], check=True)


def main(version: str) -> int:
    build = os.environ.get("TORCH_BUILD", "auto").strip().lower()
    if build not in BUILDS:
        print(f"install_torch: TORCH_BUILD is {build!r}; expected one of {', '.join(BUILDS)}", file=sys.stderr)
        return 2
    if build == "skip":
        return 0
    if build == "auto":
        build = "cuda" if has_nvidia_gpu() else "cpu"
    requirement = f"torch=={version}"
    if build == "cpu" and wants_cuda_packages(requirement):
        print(f"no NVIDIA GPU: taking torch {version} from the CPU index ({CPU_INDEX}), not the CUDA build")
        pip_install(requirement, "--index-url", CPU_INDEX)
    else:
        pip_install(requirement)
    from importlib.metadata import version as installed  # not `import torch`: numpy is not installed yet

    print(f"torch {installed('torch')} installed (a '+cpu' suffix marks PyTorch's CPU wheel)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: install_torch.py VERSION")
    sys.exit(main(sys.argv[1]))
