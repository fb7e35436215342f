"""The cache folder: where data sets live, the decoded .npz beside them, and the shipped sample."""

from __future__ import annotations

import gzip
import os
import sys
import sysconfig
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import platformdirs

import bp_tui
from bp_tui.data.idx import check_images, check_labels, check_pair
from bp_tui.data.sources import DOWNLOADABLE, IDX_FILES, check_name
from bp_tui.errors import DataError
from bp_tui.files import atomic_write
from bp_tui.paths import checked_folder

DECODED = "arrays.npz"
SAMPLE_FILE = "mnist-sample.npz"
Arrays = dict[str, np.ndarray]


def cache_root(override: str | Path | None = None) -> Path:
    """The cache root: ``--data-dir`` > $BP_TUI_DATA_DIR > the platform's user cache folder.

    A file there is refused (DataError), never taken for an empty cache."""
    env = os.environ.get("BP_TUI_DATA_DIR")
    root = Path(override or env or platformdirs.user_cache_dir("bp-tui")).expanduser()
    origin = "--data-dir" if override else "$BP_TUI_DATA_DIR" if env else "the cache folder"
    checked_folder(root, origin)
    if root.exists() and not root.is_dir():
        raise DataError(f"{origin} {root} is not a folder: name a folder for the data cache")
    return root


# Public name; modules use cache_root so that parameters may be called data_dir.
data_dir = cache_root


def dataset_folder(name: str, data_dir: str | Path | None = None) -> Path:
    """The subfolder holding one downloadable data set's IDX files and decoded cache."""
    check_name(name, DOWNLOADABLE)
    return cache_root(data_dir) / name


def find_idx(folder: Path, file: str) -> Path | None:
    """The cached IDX file, gzip-compressed by preference, or a raw copy a user unpacked there."""
    for candidate in (folder / f"{file}.gz", folder / file):
        if candidate.is_file():
            return candidate
    return None


def check_arrays(arrays: Arrays, name: str | Path) -> None:
    """The four arrays must be well-shaped uint8 images and digit labels, paired by count."""
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"t_{split}"]
        check_images(images, f"{name} ({split} images)")
        check_labels(labels, f"{name} ({split} labels)")
        check_pair(images, labels, f"{name} ({split})")


def read_arrays(path: Path) -> Arrays | None:
    """Load and check a decoded .npz; None when it is missing or damaged in any way."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in IDX_FILES}
        check_arrays(arrays, path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error, DataError):
        return None
    return arrays


def write_arrays(path: Path, arrays: Arrays) -> None:
    """Save the decoded arrays uncompressed, so loading them costs no decompression."""
    atomic_write(path, lambda f: np.savez(f, **arrays))


def sample_candidates() -> list[Path]:
    """Where the shipped sample may be: the source tree, then where pip puts data-files."""
    places = [Path(bp_tui.__file__).parent.parent / "assets", Path(sys.prefix) / "share" / "bp-tui"]
    user_data = sysconfig.get_path("data", sysconfig.get_preferred_scheme("user"))
    places.append(Path(user_data) / "share" / "bp-tui")
    return [place / SAMPLE_FILE for place in places]


def sample_path() -> Path | None:
    """The shipped sample file, or None when the installation lacks it."""
    return next((p for p in sample_candidates() if p.is_file()), None)


def is_cached(name: str, data_dir: str | Path | None = None) -> bool:
    """Whether ``name`` can be loaded without a download (cheap: looks at files, reads none)."""
    check_name(name)
    if name == "sample":
        return sample_path() is not None
    folder = dataset_folder(name, data_dir)
    if (folder / DECODED).is_file():
        return True
    return all(find_idx(folder, file) for file in IDX_FILES.values())


def train_size(name: str, data_dir: str | Path | None = None) -> int | None:
    """How many training images `name` has, read from a file's header (cheap: no images are
    read); None when its files cannot tell (a load would then say what is wrong)."""
    check_name(name)
    if name == "sample" or (dataset_folder(name, data_dir) / DECODED).is_file():
        path = sample_path() if name == "sample" else dataset_folder(name, data_dir) / DECODED
        try:
            with zipfile.ZipFile(path) as npz, npz.open("t_train.npy") as labels:
                version = np.lib.format.read_magic(labels)
                read = np.lib.format.read_array_header_1_0
                if version != (1, 0):
                    read = np.lib.format.read_array_header_2_0
                return read(labels)[0][0]
        except (OSError, ValueError, KeyError, IndexError, TypeError, zipfile.BadZipFile):
            return None
    labels = find_idx(dataset_folder(name, data_dir), IDX_FILES["t_train"])
    try:
        with (gzip.open if labels.suffix == ".gz" else open)(labels, "rb") as idx:
            header = idx.read(8)  # magic 0x801, then the count, big-endian
    except (OSError, AttributeError, EOFError, zlib.error):
        return None
    return int.from_bytes(header[4:8], "big") if header[:4] == b"\0\0\x08\x01" else None


@dataclass
class DatasetInfo:
    """What the cache holds for one downloadable data set."""

    name: str
    folder: Path
    cached: bool
    files: dict[str, int | None] = field(default_factory=dict)  # IDX file -> bytes, None if absent
    decoded: bool = False


@dataclass
class CacheInfo:
    """The cache root, each data set's state, and the shipped sample's path."""

    data_dir: Path
    datasets: list[DatasetInfo]
    sample: Path | None


def cache_info(data_dir: str | Path | None = None) -> CacheInfo:
    """Describe the cache for ``bp-tui data info``."""
    infos = []
    for name in DOWNLOADABLE:
        folder = dataset_folder(name, data_dir)
        files = {}
        for file in IDX_FILES.values():
            found = find_idx(folder, file)
            files[found.name if found else f"{file}.gz"] = found.stat().st_size if found else None
        decoded = (folder / DECODED).is_file()
        infos.append(DatasetInfo(name, folder, is_cached(name, data_dir), files, decoded))
    return CacheInfo(cache_root(data_dir), infos, sample_path())
