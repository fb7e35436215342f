"""The IDX reader: good files decode, every kind of bad file is one clear DataError."""

import gzip

import numpy as np
import pytest

from bp_tui.data import read_idx
from bp_tui.data.idx import check_images, check_labels, check_pair, gunzip_if_needed, parse_idx
from bp_tui.errors import DataError
from tests.idx_fixtures import idx_bytes

IMAGES = np.arange(3 * 28 * 28, dtype=np.uint32).reshape(3, 28, 28).astype(np.uint8)
LABELS = np.array([7, 0, 9], dtype=np.uint8)


@pytest.fixture
def write(tmp_path):
    def write(name: str, data: bytes):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


def error_of(path) -> str:
    with pytest.raises(DataError) as caught:
        read_idx(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    return message


@pytest.mark.parametrize("array", [IMAGES, LABELS], ids=["images", "labels"])
def test_raw_and_gzip_files_decode(write, array):
    data = idx_bytes(array)
    for path in (write("raw-idx", data), write("file.gz", gzip.compress(data))):
        out = read_idx(path)
        assert out.dtype == np.uint8 and out.shape == array.shape
        np.testing.assert_array_equal(out, array)
        out[0] = 1  # an ordinary writable array


def test_gzip_is_detected_by_magic_not_by_name(write):
    assert read_idx(write("no-suffix", gzip.compress(idx_bytes(LABELS)))).tolist() == [7, 0, 9]
    assert read_idx(write("raw.gz", idx_bytes(LABELS))).tolist() == [7, 0, 9]


def test_truncated_data(write):
    data = idx_bytes(IMAGES)
    message = error_of(write("short", data[:-100]))
    assert "truncated (expected 2,352 bytes of data, found 2,252)" in message


def test_truncated_header(write):
    assert "truncated header" in error_of(write("short", idx_bytes(IMAGES)[:10]))
    assert "too short" in error_of(write("tiny", b"\x00\x00"))


def test_wrong_magic(write):
    assert "wrong magic 0x504b0304" in error_of(write("zip", b"PK\x03\x04" + bytes(100)))


def test_wrong_type_byte(write):
    message = error_of(write("floats", idx_bytes(LABELS, type_byte=0x0D)))
    assert "0x0d" in message and "uint8" in message


def test_wrong_number_of_dimensions(write):
    assert "number of dimensions" in error_of(write("nodims", b"\x00\x00\x08\x00"))


def test_trailing_bytes(write):
    message = error_of(write("long", idx_bytes(LABELS) + b"extra"))
    assert "wrong size (5 trailing bytes" in message


def test_corrupt_gzip(write):
    good = gzip.compress(idx_bytes(IMAGES))
    flipped = good[:20] + bytes(b ^ 0xFF for b in good[20:40]) + good[40:]
    for path in (write("cut.gz", good[: len(good) // 2]), write("flipped.gz", flipped)):
        assert "corrupt gzip" in error_of(path)


def test_missing_file(tmp_path):
    assert "no such file" in error_of(tmp_path / "absent.gz")


def test_every_prefix_is_a_clean_error():
    """No cut of a file may leak an IndexError or ValueError from the decoding."""
    data = idx_bytes(IMAGES[:1])
    for cut in range(len(data)):
        with pytest.raises(DataError):
            parse_idx(data[:cut], "cut")
    gz = gzip.compress(data)
    for cut in range(len(gz)):
        with pytest.raises(DataError):
            parse_idx(gunzip_if_needed(gz[:cut], "cut.gz"), "cut.gz")


def test_shape_and_label_checks():
    check_images(IMAGES, "ok")
    check_labels(LABELS, "ok")
    check_pair(IMAGES, LABELS, "ok")
    with pytest.raises(DataError, match=r"shape \(N, 28, 28\)"):
        check_images(IMAGES.reshape(3, 784), "flat")
    with pytest.raises(DataError, match="label 10 is outside 0..9"):
        check_labels(np.array([1, 10], dtype=np.uint8), "bad")
    with pytest.raises(DataError, match=r"shape \(N,\)"):
        check_labels(LABELS.reshape(3, 1), "2d")
    with pytest.raises(DataError, match="3 images but 2 labels"):
        check_pair(IMAGES, LABELS[:2], "pair")
