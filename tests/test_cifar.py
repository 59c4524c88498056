"""The CIFAR-10 reader on small batch files the tests write (the real files are never downloaded)."""

import pickle

import numpy as np
import pytest

from lessons_lib.data.cifar import CIFAR10_ENV, load_cifar10, read_cifar_batch, write_cifar_batch


def _folder(tmp_path, n=4):
    rng = np.random.default_rng(0)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n)
        write_cifar_batch(tmp_path / name, images, labels)
        written[name] = (images, labels)
    return written


def test_the_batch_layout_is_red_then_green_then_blue_row_by_row(tmp_path):
    row = np.zeros(3072, dtype=np.uint8)
    row[0], row[1024 + 33], row[2048 + 1023] = 10, 20, 30  # red (0, 0), green (1, 1), blue (31, 31)
    with open(tmp_path / "b", "wb") as f:  # written by hand, as the official files are
        pickle.dump({b"data": row[None], b"labels": [7]}, f, protocol=2)
    images, labels = read_cifar_batch(tmp_path / "b")
    assert images.shape == (1, 3, 32, 32) and images.dtype == np.uint8 and labels.tolist() == [7]
    assert images[0, 0, 0, 0] == 10 and images[0, 1, 1, 1] == 20 and images[0, 2, 31, 31] == 30
    assert images.sum() == 60


def test_load_reads_the_five_training_batches_or_the_test_batch(tmp_path, monkeypatch):
    written = _folder(tmp_path)
    X, y = load_cifar10(tmp_path, "train")
    assert X.shape == (20, 3, 32, 32) and y.dtype == np.int64
    np.testing.assert_array_equal(X[4:8], written["data_batch_2"][0])
    monkeypatch.setenv(CIFAR10_ENV, str(tmp_path))
    X_test, y_test = load_cifar10(kind="test")
    np.testing.assert_array_equal(X_test, written["test_batch"][0])
    np.testing.assert_array_equal(y_test, written["test_batch"][1])


def test_missing_files_and_no_folder_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(CIFAR10_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match=f"{CIFAR10_ENV} is not set. This book never downloads CIFAR-10"):
        load_cifar10()
    with pytest.raises(FileNotFoundError, match="lacks data_batch_1, data_batch_2"):
        load_cifar10(tmp_path)
    with pytest.raises(ValueError, match="kind is 'val'; expected 'train' or 'test'"):
        load_cifar10(tmp_path, "val")


class Payload:  # what a malicious pickle would carry
    def __reduce__(self):
        return (print, ("this ran",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path, capsys):
    with open(tmp_path / "evil", "wb") as f:
        pickle.dump({b"data": Payload(), b"labels": []}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"asks for (builtins|__builtin__).print, which a CIFAR batch never"):
        read_cifar_batch(tmp_path / "evil")
    assert "this ran" not in capsys.readouterr().out


def test_bad_contents_are_named(tmp_path):
    with open(tmp_path / "small", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f, protocol=2)
    with pytest.raises(ValueError, match=r"has data uint8 \(2, 100\) and 2 labels; expected uint8 \(n, 3072\)"):
        read_cifar_batch(tmp_path / "small")
    with pytest.raises(ValueError, match=r"write_cifar_batch: images are float64"):
        write_cifar_batch(tmp_path / "x", np.zeros((1, 3, 32, 32)), [0])
