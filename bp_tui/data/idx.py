"""Read IDX files (the MNIST format), gzip-compressed or raw, and check what they hold."""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from bp_tui.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"
UINT8 = 0x08
IMAGE_SHAPE = (28, 28)


def gunzip_if_needed(blob: bytes, name: str | Path) -> bytes:
    """Decompress ``blob`` when it starts with the gzip magic bytes, else return it unchanged.

    Unbounded: for bytes already checked; a file is read with read_idx_bytes."""
    if not blob.startswith(GZIP_MAGIC):
        return blob
    try:
        return gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{name}: not gzip or corrupt gzip ({err})") from None


def parse_idx(raw: bytes, name: str | Path) -> np.ndarray:
    """Decode uncompressed IDX bytes; every defect becomes a DataError naming ``name``."""
    if len(raw) < 4:
        raise DataError(f"{name}: too short for an IDX header ({len(raw)} bytes)")
    if raw[0:2] != b"\x00\x00":
        raise DataError(f"{name}: wrong magic 0x{raw[:4].hex()} (not an IDX or gzip file)")
    if raw[2] != UINT8:
        raise DataError(
            f"{name}: unsupported data type byte 0x{raw[2]:02x} (only 0x08, uint8, is supported)"
        )
    ndim = raw[3]
    if not 1 <= ndim <= 4:
        raise DataError(f"{name}: wrong number of dimensions ({ndim}, expected 1 to 4)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name}: truncated header ({len(raw)} of {header} bytes)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(dims)
    found = len(raw) - header
    if found < expected:
        raise DataError(f"{name}: truncated (expected {expected:,} bytes of data, found {found:,})")
    if found > expected:
        raise DataError(
            f"{name}: wrong size ({found - expected:,} trailing bytes after "
            f"{expected:,} bytes of data for dimensions {dims})"
        )
    # Copy so callers get an ordinary writable array, not a view of the bytes.
    return np.frombuffer(raw, np.uint8, expected, header).reshape(dims).copy()


# The most data one IDX file may declare: 2^28 bytes, five times MNIST's 47 MB of training images.
# A header claiming more is refused before anything is read.
MAX_DATA_BYTES = 1 << 28
CHUNK = 1 << 20


def _read_up_to(stream, n: int) -> bytes:
    """Up to n bytes of stream, read in bounded chunks (fewer only at the end of the stream)."""
    parts, left = [], n
    while left > 0:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_idx_bytes(path: str | Path) -> bytes:
    """The uncompressed IDX bytes of a file, gzip-compressed or raw (detected by magic bytes).

    Never reads or decompresses more than the header declares, plus one byte to see that the
    file holds more: a gzip bomb is refused after the header's size, not after gigabytes.
    """
    path = Path(path)
    try:
        file = path.open("rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    with file:
        try:
            gz = file.read(2) == GZIP_MAGIC
            file.seek(0)
        except OSError as err:
            raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
        stream = gzip.GzipFile(fileobj=file, mode="rb") if gz else file
        try:
            return _read_declared(stream, path, gz, file)
        except (OSError, EOFError, zlib.error) as err:
            if gz:
                raise DataError(f"{path}: not gzip or corrupt gzip ({err})") from None
            raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None


def _read_declared(stream, path: Path, gz: bool, file) -> bytes:
    head = _read_up_to(stream, 4)
    if len(head) < 4 or head[0:2] != b"\x00\x00" or head[2] != UINT8 or not 1 <= head[3] <= 4:
        return head  # parse_idx names the defect
    head += _read_up_to(stream, 4 * head[3])
    if len(head) < 4 + 4 * head[3]:
        return head
    dims = tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(head[3]))
    expected = math.prod(dims)
    if expected > MAX_DATA_BYTES:
        raise DataError(
            f"{path}: its header declares {expected:,} bytes of data for dimensions {dims}, "
            f"more than the {MAX_DATA_BYTES:,} bp-tui reads (not an MNIST file)"
        )
    body = _read_up_to(stream, expected + 1)
    if len(body) > expected:
        if gz:
            raise DataError(
                f"{path}: wrong size (more than the {expected:,} bytes of data its header "
                f"declares for dimensions {dims}; not decompressed further)"
            )
        trailing = os.fstat(file.fileno()).st_size - len(head) - expected
        raise DataError(
            f"{path}: wrong size ({trailing:,} trailing bytes after {expected:,} bytes of data "
            f"for dimensions {dims})"
        )
    return head + body


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip detected by its magic bytes) into a uint8 array."""
    return parse_idx(read_idx_bytes(path), path)


def check_images(images: np.ndarray, name: str | Path) -> None:
    """Images must be a non-empty uint8 stack of shape (N, 28, 28)."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            f"{name}: expected uint8 images of shape (N, 28, 28), "
            f"found {images.dtype} {images.shape}"
        )
    if images.shape[0] == 0:
        raise DataError(f"{name}: holds no images")


def check_labels(labels: np.ndarray, name: str | Path) -> None:
    """Labels must be a non-empty uint8 vector of digits 0..9."""
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{name}: expected uint8 labels of shape (N,), found {labels.dtype} {labels.shape}"
        )
    if labels.size == 0:
        raise DataError(f"{name}: holds no labels")
    if labels.max() > 9:
        raise DataError(f"{name}: label {int(labels.max())} is outside 0..9")


def check_pair(images: np.ndarray, labels: np.ndarray, name: str | Path) -> None:
    """An image file and its label file must describe the same number of examples."""
    if len(images) != len(labels):
        raise DataError(f"{name}: {len(images):,} images but {len(labels):,} labels")
