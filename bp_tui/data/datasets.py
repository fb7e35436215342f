"""Load a data set by name, choose the default one, and the book's ``load_mnist``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bp_tui.data.cache import (
    DECODED,
    Arrays,
    check_arrays,
    dataset_folder,
    find_idx,
    is_cached,
    read_arrays,
    sample_candidates,
    sample_path,
    write_arrays,
)
from bp_tui.data.idx import read_idx
from bp_tui.data.sources import IDX_FILES, LABELS, check_name
from bp_tui.errors import DataError


@dataclass
class Dataset:
    """A loaded data set: x are float32 (N, 784) in [0, 1], t are uint8 digit labels."""

    name: str
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    source: str

    @property
    def size_label(self) -> str:
        """E.g. "sample 10,000/2,000": name, training and test counts."""
        return f"{self.name} {len(self.t_train):,}/{len(self.t_test):,}"

    def image_bytes(self, split: str) -> np.ndarray | None:
        """The images of `split` ("train" or "test") as the uint8 (N, 784) rows x_<split> is
        made of (x == float32(byte) / 255, as to_float makes it) when the data set keeps
        them; None when it does not. The engine trains and evaluates on these."""
        return None


class ImageFiles(Dataset):
    """A data set read from its files: the images are kept as their bytes, and x_train and
    x_test (float32, 188 MB for MNIST's training images, 0.3 s to make) are made from them the
    first time something reads them. Assigning x_train or x_test replaces the bytes too."""

    def __init__(
        self,
        name: str,
        train_bytes: np.ndarray,
        t_train: np.ndarray,
        test_bytes: np.ndarray,
        t_test: np.ndarray,
        source: str,
    ) -> None:
        self._bytes = {"train": flat_rows(train_bytes), "test": flat_rows(test_bytes)}
        self._floats: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        super().__init__(name, None, t_train, None, t_test, source)  # type: ignore[arg-type]

    def image_bytes(self, split: str) -> np.ndarray | None:
        return self._bytes[split]

    def __repr__(self) -> str:  # without making the float copies to show them
        return (
            f"ImageFiles(name={self.name!r}, {len(self.t_train):,} train / "
            f"{len(self.t_test):,} test images, source={self.source!r})"
        )

    def __getstate__(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "_lock"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _float(self, split: str) -> np.ndarray:
        with self._lock:
            if split not in self._floats:
                self._floats[split] = to_float(self._bytes[split])
            return self._floats[split]

    def _set(self, split: str, value: np.ndarray | None) -> None:
        if value is not None:  # None: made from the bytes (the constructor's call)
            self._floats[split] = value
            self._bytes[split] = None

    x_train = property(  # type: ignore[assignment]
        lambda self: self._float("train"), lambda self, value: self._set("train", value)
    )
    x_test = property(  # type: ignore[assignment]
        lambda self: self._float("test"), lambda self, value: self._set("test", value)
    )


def ways_out(name: str) -> str:
    """The three ways to a loadable data set: download, import, or the shipped sample."""
    dataset = "" if name == "mnist" else f" --dataset {name}"
    return (
        f"run 'bp-tui data download{dataset}', or 'bp-tui data import DIR{dataset}' "
        "with the four IDX files, or use '--dataset sample'"
    )


def missing_message(name: str, folder: Path, reason: str = "") -> str:
    """The one-line error for a data set that is not cached, with the three ways out."""
    because = f" and {reason}" if reason else ""
    return f"{LABELS[name]} is not in the cache ({folder}){because}: {ways_out(name)}"


def load_arrays(name: str, data_dir: str | Path | None = None) -> tuple[Arrays, Path]:
    """The four uint8 arrays of ``name`` and the file they came from.

    Uses the decoded .npz when it is sound; otherwise parses the IDX files once and writes it.
    """
    check_name(name)
    if name == "sample":
        path = sample_path()
        if path is None:
            tried = ", ".join(str(p) for p in sample_candidates())
            raise DataError(f"the shipped MNIST sample is missing (looked in {tried})")
        arrays = read_arrays(path)
        if arrays is None:
            raise DataError(f"the shipped MNIST sample {path} is damaged: reinstall bp-tui")
        return arrays, path
    folder = dataset_folder(name, data_dir)
    decoded = folder / DECODED
    arrays = read_arrays(decoded)
    if arrays is not None:
        return arrays, decoded
    files = {key: find_idx(folder, file) for key, file in IDX_FILES.items()}
    if not all(files.values()):
        raise DataError(missing_message(name, folder))
    try:
        arrays = {key: read_idx(path) for key, path in files.items()}
        check_arrays(arrays, folder)
    except DataError as error:
        raise DataError(
            f"the cached {LABELS[name]} is damaged: {error}; {ways_out(name)}"
        ) from None
    try:
        write_arrays(decoded, arrays)
    except OSError:  # a read-only cache still works, it just parses the IDX files every time
        return arrays, folder
    return arrays, decoded


def flat_rows(images: np.ndarray) -> np.ndarray:
    """uint8 (N, ...) -> uint8 (N, 784), C-contiguous (a view when it already is)."""
    return np.ascontiguousarray(images.reshape(len(images), -1))


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N, ...) -> float32 (N, 784) in [0, 1]: float32(byte) / float32(255), in one pass
    into the one new array (full MNIST is 188 MB as float32)."""
    return np.divide(images.reshape(len(images), -1), 255.0, dtype=np.float32)


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """Load ``name`` ("sample", "mnist" or "fashion-mnist") for training."""
    arrays, source = load_arrays(name, data_dir)
    return ImageFiles(
        name=name,
        train_bytes=arrays["x_train"],
        t_train=arrays["t_train"],
        test_bytes=arrays["x_test"],
        t_test=arrays["t_test"],
        source=str(source),
    )


def resolve_dataset(name: str | None, data_dir: str | Path | None = None) -> tuple[str, str]:
    """The data set to use and a note saying why: MNIST when cached, else the shipped sample.

    The note is empty when the user named the data set. A --data-dir that does not exist,
    or that holds the IDX files themselves (not a cache), is refused: it would be the sample.
    """
    if data_dir is not None:
        check_cache_given(Path(data_dir))
    if name is not None:
        check_name(name)
        return name, ""  # the user chose: nothing to explain
    if is_cached("mnist", data_dir):
        return "mnist", f"using MNIST from the cache ({dataset_folder('mnist', data_dir)})"
    return "sample", (
        "using the shipped sample (10,000 train / 2,000 test): MNIST is not cached; "
        "'bp-tui data download' fetches it"
    )


def check_cache_given(folder: Path) -> None:
    """DataError for a --data-dir that is missing, or is a folder of IDX files, not a cache."""
    if not folder.exists():
        raise DataError(
            f"--data-dir {folder} does not exist: name the data cache's folder "
            f"('bp-tui data download --data-dir {folder}' makes one)"
        )
    if all(find_idx(folder, file) for file in IDX_FILES.values()):
        raise DataError(
            f"--data-dir {folder} holds the four IDX files, not a cache: "
            f"'bp-tui data import {folder}' copies them into the cache"
        )


def one_hot(labels: np.ndarray) -> np.ndarray:
    """Digit labels (N,) -> (N, 10) one-hot rows, float64 as the book's loader gives them."""
    out = np.zeros((len(labels), 10))  # the book's np.zeros((T.size, 10)): float64
    out[np.arange(len(labels)), labels] = 1.0
    return out


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    *,
    dataset: str = "mnist",
    data_dir: str | Path | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The book's loader: ``((x_train, t_train), (x_test, t_test))``, downloading when missing."""
    check_name(dataset)
    if dataset != "sample" and not is_cached(dataset, data_dir):
        from bp_tui.data.download import DownloadFailed, download_dataset

        try:
            download_dataset(dataset, data_dir)
        except DataError as err:
            why = f"{err.file}: {err.last_error}" if isinstance(err, DownloadFailed) else str(err)
            folder = dataset_folder(dataset, data_dir)
            reason = f"the download failed ({why})"
            raise DataError(missing_message(dataset, folder, reason)) from None
    arrays, _ = load_arrays(dataset, data_dir)

    def images(x: np.ndarray) -> np.ndarray:
        x = to_float(x) if normalize else x
        return x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, 28, 28)

    def labels(t: np.ndarray) -> np.ndarray:
        return one_hot(t) if one_hot_label else t

    return (
        (images(arrays["x_train"]), labels(arrays["t_train"])),
        (images(arrays["x_test"]), labels(arrays["t_test"])),
    )
