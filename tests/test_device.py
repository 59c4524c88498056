import numpy as np
import pytest
import torch

from lessons_lib import device as dev


def test_auto_picks_an_available_device(monkeypatch):
    monkeypatch.delenv(dev.DEVICE_ENV, raising=False)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if dev._mps_available(torch) else "cpu")
    assert dev.get_device().type == expected


def test_env_override_cpu(monkeypatch):
    monkeypatch.setenv(dev.DEVICE_ENV, "CPU")
    assert dev.get_device() == torch.device("cpu")


def test_unknown_device_lists_valid_choices(monkeypatch):
    monkeypatch.setenv(dev.DEVICE_ENV, "tpu")
    with pytest.raises(ValueError, match=r"LESSONS_DEVICE is 'tpu'; expected one of auto, cpu, cuda, cuda:N, mps"):
        dev.get_device()
    with pytest.raises(ValueError, match=r"get_device\(name=...\) is 'gpu'"):
        dev.get_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_requested_without_cuda_is_an_error():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        dev.get_device("cuda")


def test_seed_everything_makes_runs_repeatable():
    rng1 = dev.seed_everything(7)
    a = (np.random.rand(3), torch.rand(3), rng1.random(3))
    rng2 = dev.seed_everything(7)
    b = (np.random.rand(3), torch.rand(3), rng2.random(3))
    np.testing.assert_array_equal(a[0], b[0])
    assert torch.equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    dev.seed_everything(8)
    assert not np.array_equal(np.random.rand(3), a[0])


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="seed_everything: seed is"):
        dev.seed_everything(bad)


def test_thread_policy(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv(dev.THREADS_ENV, "1")
        assert dev.set_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv(dev.THREADS_ENV, "many")
        with pytest.raises(ValueError, match="LESSONS_THREADS is 'many'; expected a positive integer"):
            dev.set_threads()
        with pytest.raises(ValueError, match=r"set_threads\(n\) is 0"):
            dev.set_threads(0)
    finally:
        torch.set_num_threads(before)


def test_to_device_casts_floats_and_keeps_labels():
    x, y = dev.to_device(np.zeros((2, 3)), np.array([1, 2]), device="cpu")
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and x.device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_policy_places_tensors_on_cuda(monkeypatch):
    monkeypatch.delenv(dev.DEVICE_ENV, raising=False)
    x = dev.to_device(np.ones((4, 4)))
    assert x.device.type == "cuda"
    assert torch.allclose((x @ x).cpu(), torch.full((4, 4), 4.0))


def test_thread_policy_also_limits_blas(monkeypatch):
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    try:
        monkeypatch.setenv(dev.THREADS_ENV, "1")
        dev.set_threads()
        pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
        assert pools and all(p["num_threads"] == 1 for p in pools)
    finally:
        torch.set_num_threads(before)
        from threadpoolctl import threadpool_limits

        threadpool_limits(before)
