"""Data sets for bp-tui: the shipped MNIST sample, and MNIST / Fashion-MNIST from the cache."""

from bp_tui.data.cache import CacheInfo, DatasetInfo, cache_info, data_dir, is_cached
from bp_tui.data.datasets import Dataset, load_dataset, load_mnist, resolve_dataset
from bp_tui.data.download import download_dataset, import_dataset
from bp_tui.data.idx import read_idx
from bp_tui.data.sources import DATASETS

__all__ = [
    "DATASETS",
    "CacheInfo",
    "Dataset",
    "DatasetInfo",
    "cache_info",
    "data_dir",
    "download_dataset",
    "import_dataset",
    "is_cached",
    "load_dataset",
    "load_mnist",
    "read_idx",
    "resolve_dataset",
]
