"""write_idx, read_idx and load_mnist on small IDX files, plain and gzipped, plus the error cases.

The bytes that write_idx produces are compared with an encoder written here independently (struct), and
read_idx is also tested on a file spelled out byte by byte, so the two library functions cannot agree on a
shared mistake unnoticed.
"""

import gzip
import struct

import numpy as np
import pytest

from lessons_lib.data.mnist import load_mnist, read_idx, write_idx

CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file written independently of the reader: header with struct, data big-endian."""
    code = CODES[array.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype", list(CODES))
@pytest.mark.parametrize("gz", [False, True])
def test_write_idx_bytes_and_roundtrip_every_dtype(tmp_path, dtype, gz):
    rng = np.random.default_rng(0)
    a = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    path = write_idx(tmp_path / ("a.idx.gz" if gz else "a.idx"), a)
    raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    assert raw == idx_bytes(a), "write_idx agrees byte for byte with the independent encoder"
    assert raw[2] == CODES[dtype] and raw[3] == 3
    b = read_idx(path)
    assert b.shape == (3, 4, 5) and b.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable


def test_write_idx_takes_big_endian_and_strided_arrays(tmp_path):
    a = np.arange(12, dtype=">i4").reshape(3, 4)[:, ::2]  # big-endian, not contiguous
    b = read_idx(write_idx(tmp_path / "s.idx", a))
    np.testing.assert_array_equal(a, b)
    assert b.dtype == np.dtype("int32")
    # 1 and 2 as int16, spelled out: the same bytes as test_known_bytes_by_hand below, with 2 for -2
    assert write_idx(tmp_path / "h.idx", np.array([1, 2], np.int16)).read_bytes() == bytes(
        [0, 0, 0x0B, 1, 0, 0, 0, 2, 0x00, 0x01, 0x00, 0x02])


@pytest.mark.parametrize("dtype", [np.int64, np.uint16, np.float16, np.bool_, np.complex64])
def test_write_idx_rejects_dtypes_that_idx_cannot_hold(tmp_path, dtype):
    with pytest.raises(ValueError, match=rf"write_idx: array has dtype {np.dtype(dtype)}, which IDX cannot store; "
                                         r"expected one of uint8, int8, int16, int32, float32, float64"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype))
    assert not (tmp_path / "x.idx").exists(), "nothing is written on a bad dtype"


def test_known_bytes_by_hand(tmp_path):
    # int16 values 1 and -2 in a 1-D file of length 2, spelled out byte by byte
    raw = bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x00, 0x01, 0xFF, 0xFE])
    (tmp_path / "h.idx").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "h.idx"), [1, -2])


def test_empty_array(tmp_path):
    assert read_idx(write_idx(tmp_path / "e", np.zeros((0, 3), np.uint8))).shape == (0, 3)


def test_bad_magic(tmp_path):
    p = tmp_path / "bad.idx"
    p.write_bytes(b"\x01\x00\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match=r"bad\.idx.*magic"):
        read_idx(p)


def test_unknown_dtype(tmp_path):
    p = tmp_path / "code.idx"
    p.write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match=r"code\.idx.*unknown dtype code 0x07"):
        read_idx(p)


@pytest.mark.parametrize("cut", [2, 6, 15])
def test_truncated(tmp_path, cut):
    p = tmp_path / "short.idx"
    p.write_bytes(idx_bytes(np.arange(12, dtype=np.int32).reshape(3, 4))[:-cut] if cut > 6 else b"\x00\x00\x08\x02\x00\x00"[:cut])
    with pytest.raises(ValueError, match=r"short\.idx.*truncated"):
        read_idx(p)


def test_trailing_bytes(tmp_path):
    p = tmp_path / "long.idx"
    p.write_bytes(idx_bytes(np.arange(4, dtype=np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match="after the data"):
        read_idx(p)


def test_load_mnist_plain_and_gz(tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, size=5).astype(np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", imgs)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    X, y = load_mnist(tmp_path, "t10k")
    np.testing.assert_array_equal(X, imgs)
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.int64


def test_load_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*never downloads"):
        load_mnist(tmp_path, "train")


def test_load_mnist_bad_kind_and_mismatch(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        load_mnist(tmp_path, "test")
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        load_mnist(tmp_path, "train")
