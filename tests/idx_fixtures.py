"""Tiny synthetic IDX files for the data tests: MNIST's format, a few dozen images."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np

from bp_tui.data.sources import IDX_FILES


def idx_bytes(array: np.ndarray, type_byte: int = 0x08) -> bytes:
    """Encode a uint8 array as an uncompressed IDX file."""
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return bytes([0, 0, type_byte, array.ndim]) + dims + array.astype(np.uint8).tobytes()


def synthetic_arrays(n_train: int = 50, n_test: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    """Random uint8 images and labels covering all ten digits."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        arrays[f"x_{split}"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"t_{split}"] = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    return arrays


def write_idx_files(folder: Path, arrays: dict[str, np.ndarray], gz: bool = True) -> None:
    """Write the four arrays under their canonical IDX names, gzip-compressed or raw."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, file in IDX_FILES.items():
        data = idx_bytes(arrays[key])
        if gz:
            (folder / f"{file}.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / file).write_bytes(data)


def gz_checksums(folder: Path, algorithm: str = "sha256") -> dict[str, str]:
    """The "algorithm:hex" table of the .gz files in ``folder``, as download_dataset takes it."""
    return {
        f"{file}.gz": f"{algorithm}:"
        + hashlib.new(algorithm, (folder / f"{file}.gz").read_bytes()).hexdigest()
        for file in IDX_FILES.values()
    }


def raw_checksums(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """sha256 of each uncompressed IDX file, as import_dataset takes it."""
    return {
        file: hashlib.sha256(idx_bytes(arrays[key])).hexdigest() for key, file in IDX_FILES.items()
    }


def assert_same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    for key in IDX_FILES:
        np.testing.assert_array_equal(a[key], b[key])
