"""Loading data sets: the cache folder, the decoded .npz, load_mnist, defaults and the sample."""

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import platformdirs
import pytest

import bp_tui.data.cache as cache
import bp_tui.data.datasets as datasets
from bp_tui.cli.data_commands import register
from bp_tui.data import (
    DATASETS,
    Dataset,
    cache_info,
    data_dir,
    is_cached,
    load_dataset,
    load_mnist,
    resolve_dataset,
)
from bp_tui.data.cache import DECODED
from bp_tui.errors import DataError
from tests.idx_fixtures import synthetic_arrays, write_idx_files

# Class counts of the full MNIST splits (from the data README), for the stratification check.
MNIST_TRAIN = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture
def arrays():
    return synthetic_arrays(50, 20)


@pytest.fixture
def mnist_dir(arrays):
    """A cache holding synthetic MNIST as four .gz files, nothing decoded yet."""
    folder = data_dir() / "mnist"
    write_idx_files(folder, arrays)
    return folder


def one_line_error(call, *args, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- the cache folder ---------------------------------------------------------------------------


def test_data_dir_precedence(tmp_path, monkeypatch):
    assert data_dir(tmp_path / "opt") == tmp_path / "opt"
    assert data_dir(str(tmp_path / "opt")) == tmp_path / "opt"
    assert data_dir() == data_dir(None) == Path(os.environ["BP_TUI_DATA_DIR"])
    monkeypatch.delenv("BP_TUI_DATA_DIR")
    assert data_dir() == Path(platformdirs.user_cache_dir("bp-tui"))
    assert data_dir(tmp_path) == tmp_path


def test_load_from_idx_files_writes_the_decoded_cache(mnist_dir, arrays):
    assert is_cached("mnist") and not (mnist_dir / DECODED).exists()
    ds = load_dataset("mnist")
    assert isinstance(ds, Dataset) and ds.name == "mnist"
    assert ds.size_label == "mnist 50/20"
    assert ds.source == str(mnist_dir / DECODED)
    assert ds.x_train.dtype == np.float32 and ds.x_train.shape == (50, 784)
    assert ds.x_test.shape == (20, 784) and 0.0 <= ds.x_train.min() <= ds.x_train.max() <= 1.0
    np.testing.assert_allclose(ds.x_train * 255, arrays["x_train"].reshape(50, 784), atol=1e-4)
    np.testing.assert_array_equal(ds.t_test, arrays["t_test"])
    with np.load(mnist_dir / DECODED, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["t_test", "t_train", "x_test", "x_train"]
        assert {npz[k].dtype for k in npz.files} == {np.dtype(np.uint8)}
    assert not [p for p in mnist_dir.iterdir() if p.name.endswith(".tmp")]


def test_second_load_uses_the_decoded_cache(mnist_dir, arrays, monkeypatch):
    load_dataset("mnist")

    def no_parsing(path):
        raise AssertionError(f"parsed {path} again")

    monkeypatch.setattr(datasets, "read_idx", no_parsing)
    for gz in mnist_dir.glob("*.gz"):
        gz.unlink()
    assert is_cached("mnist")
    (x, t), _ = load_mnist(normalize=False)
    np.testing.assert_array_equal(x.reshape(50, 28, 28), arrays["x_train"])


@pytest.mark.parametrize("damage", ["garbage", "cut", "missing key", "wrong dtype", "pickled"])
def test_corrupt_decoded_cache_is_rebuilt(mnist_dir, arrays, damage):
    load_dataset("mnist")
    decoded = mnist_dir / DECODED
    if damage == "garbage":
        decoded.write_bytes(b"not a zip file at all")
    elif damage == "cut":
        decoded.write_bytes(decoded.read_bytes()[:5000])
    else:
        bad = dict(arrays)
        if damage == "missing key":
            del bad["t_test"]
        elif damage == "wrong dtype":
            bad["x_train"] = bad["x_train"].astype(np.float64)
        else:
            bad["t_train"] = np.array([object()] * 50, dtype=object)
        np.savez(decoded, **bad)
    ds = load_dataset("mnist")
    np.testing.assert_array_equal(ds.t_train, arrays["t_train"])
    assert cache.read_arrays(decoded) is not None  # rewritten soundly


def test_raw_idx_files_in_the_cache_also_load(arrays):
    write_idx_files(data_dir() / "fashion-mnist", arrays, gz=False)
    assert is_cached("fashion-mnist") and not is_cached("mnist")
    assert load_dataset("fashion-mnist").size_label == "fashion-mnist 50/20"


def test_data_dir_argument_beats_the_environment(tmp_path, arrays):
    write_idx_files(tmp_path / "other" / "mnist", arrays)
    assert not is_cached("mnist")
    assert is_cached("mnist", data_dir=tmp_path / "other")
    assert load_dataset("mnist", data_dir=str(tmp_path / "other")).size_label == "mnist 50/20"


def test_inconsistent_cached_files_are_a_clean_error(arrays):
    bad = dict(arrays, t_train=arrays["t_train"][:49])
    write_idx_files(data_dir() / "mnist", bad)
    assert "50 images but 49 labels" in one_line_error(load_dataset, "mnist")
    bad = dict(arrays, t_test=np.full(20, 12, dtype=np.uint8))
    write_idx_files(data_dir() / "mnist", bad)
    assert "label 12 is outside 0..9" in one_line_error(load_dataset, "mnist")


# --- load_mnist ----------------------------------------------------------------------------------


def test_load_mnist_book_shapes(mnist_dir, arrays):
    (x_train, t_train), (x_test, t_test) = load_mnist()
    assert x_train.shape == (50, 784) and x_train.dtype == np.float32
    assert x_test.shape == (20, 784) and float(x_train.max()) <= 1.0
    assert t_train.shape == (50,) and np.issubdtype(t_train.dtype, np.integer)
    np.testing.assert_array_equal(t_train, arrays["t_train"])

    (x_train, _), (x_test, _) = load_mnist(normalize=False, flatten=False)
    assert x_train.shape == (50, 1, 28, 28) and x_train.dtype == np.uint8
    np.testing.assert_array_equal(x_test[:, 0], arrays["x_test"])

    (x_train, t_train), (_, t_test) = load_mnist(flatten=False, one_hot_label=True)
    assert x_train.dtype == np.float32 and x_train.shape == (50, 1, 28, 28)
    assert t_train.shape == (50, 10) and t_test.shape == (20, 10)
    assert set(np.unique(t_train)) == {0.0, 1.0}
    np.testing.assert_array_equal(t_train.sum(axis=1), 1)
    np.testing.assert_array_equal(t_train.argmax(axis=1), arrays["t_train"])


def test_load_mnist_other_datasets(arrays):
    write_idx_files(data_dir() / "fashion-mnist", arrays)
    (x, _), _ = load_mnist(dataset="fashion-mnist")
    assert x.shape == (50, 784)
    (x, t), (x_test, _) = load_mnist(dataset="sample", one_hot_label=True)
    assert x.shape == (10_000, 784) and t.shape == (10_000, 10) and x_test.shape == (2_000, 784)


def test_load_mnist_downloads_when_missing(arrays, monkeypatch):
    import bp_tui.data.download as download

    calls = []

    def fake_download(name, data_dir=None, **kwargs):
        calls.append(name)
        write_idx_files(cache.dataset_folder(name, data_dir), arrays)

    monkeypatch.setattr(download, "download_dataset", fake_download)
    (x, _), _ = load_mnist()
    assert calls == ["mnist"] and x.shape == (50, 784)
    load_mnist()
    assert calls == ["mnist"]  # cached now


def test_load_mnist_failed_download_names_the_ways_out(monkeypatch):
    import bp_tui.data.download as download

    def failing(name, data_dir=None, **kwargs):
        raise download.DownloadFailed("long text", "train-images-idx3-ubyte.gz", "HTTP 403")

    monkeypatch.setattr(download, "download_dataset", failing)
    message = one_line_error(load_mnist)
    assert message.startswith("MNIST is not in the cache (")
    assert "train-images-idx3-ubyte.gz: HTTP 403" in message
    for way_out in ("bp-tui data download", "bp-tui data import DIR", "--dataset sample"):
        assert way_out in message


# --- names, defaults and messages ----------------------------------------------------------------


def test_unknown_dataset_lists_the_valid_names():
    assert DATASETS == ("sample", "mnist", "fashion-mnist")
    messages = [
        one_line_error(load_dataset, "cifar"),
        one_line_error(is_cached, "cifar"),
        one_line_error(resolve_dataset, "cifar"),
        one_line_error(load_mnist, dataset="cifar"),
    ]
    for message in messages:
        assert message == "unknown data set 'cifar': choose one of sample, mnist, fashion-mnist"


def test_missing_cache_message():
    folder = data_dir() / "mnist"
    message = one_line_error(load_dataset, "mnist")
    assert message == (
        f"MNIST is not in the cache ({folder}): run 'bp-tui data download', or "
        "'bp-tui data import DIR' with the four IDX files, or use '--dataset sample'"
    )
    message = one_line_error(load_dataset, "fashion-mnist")
    assert "bp-tui data download --dataset fashion-mnist" in message
    assert message.startswith("Fashion-MNIST is not in the cache")


def test_resolve_dataset_default(mnist_dir):
    name, note = resolve_dataset(None)
    assert name == "mnist" and str(mnist_dir) in note
    assert resolve_dataset("fashion-mnist") == ("fashion-mnist", "")
    assert resolve_dataset("sample") == ("sample", "")


def test_resolve_dataset_falls_back_to_the_sample():
    name, note = resolve_dataset(None)
    assert name == "sample"
    assert "shipped sample (10,000 train / 2,000 test)" in note
    assert "MNIST is not cached" in note and "bp-tui data download" in note
    assert resolve_dataset("mnist") == ("mnist", "")  # named: no note, load_dataset explains


def test_cache_info(mnist_dir):
    load_dataset("mnist")
    info = cache_info()
    assert info.data_dir == data_dir()
    mnist, fashion = info.datasets
    assert (mnist.name, mnist.cached, mnist.decoded, mnist.folder) == (
        "mnist",
        True,
        True,
        mnist_dir,
    )
    assert all(size and size > 0 for size in mnist.files.values()) and len(mnist.files) == 4
    assert (fashion.cached, fashion.decoded) == (False, False)
    assert set(fashion.files.values()) == {None}
    assert info.sample is not None and info.sample.name == "mnist-sample.npz"


# --- the shipped sample --------------------------------------------------------------------------


def test_sample_is_stratified_real_mnist():
    ds = load_dataset("sample")
    assert ds.size_label == "sample 10,000/2,000"
    assert ds.x_train.shape == (10_000, 784) and ds.x_test.shape == (2_000, 784)
    assert ds.x_train.dtype == np.float32 and 0.0 == ds.x_train.min() and ds.x_train.max() == 1.0
    for labels, full in ((ds.t_train, MNIST_TRAIN), (ds.t_test, MNIST_TEST)):
        counts = np.bincount(labels, minlength=10)
        assert len(counts) == 10 and counts.min() > 0
        expected = np.array(full) * len(labels) / sum(full)
        assert np.all(np.abs(counts - expected) <= 1), counts


def test_sample_file_is_plain_uint8():
    path = cache.sample_path()
    assert path == cache.sample_candidates()[0] and path.stat().st_size < 3_000_000
    with np.load(path, allow_pickle=False) as npz:
        assert {npz[k].dtype for k in npz.files} == {np.dtype(np.uint8)}
        assert npz["x_train"].shape == (10_000, 28, 28) and npz["t_test"].shape == (2_000,)


def test_sample_is_also_found_where_pip_installs_data_files():
    places = [p.parent for p in cache.sample_candidates()]
    assert Path(sys.prefix) / "share" / "bp-tui" in places


def test_missing_sample(monkeypatch, tmp_path):
    monkeypatch.setattr(cache, "sample_candidates", lambda: [tmp_path / "nowhere.npz"])
    monkeypatch.setattr(datasets, "sample_candidates", lambda: [tmp_path / "nowhere.npz"])
    assert not is_cached("sample")
    assert "shipped MNIST sample is missing" in one_line_error(load_dataset, "sample")


# --- `bp-tui data info` --------------------------------------------------------------------------


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="bp-tui")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_info(mnist_dir, capsys):
    assert run_cli(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "$BP_TUI_DATA_DIR" in out and "mnist" in out and "fashion-mnist" in out
    assert "not cached" in out and "default data set: mnist" in out


def test_cli_info_with_data_dir(tmp_path, capsys):
    assert run_cli(["data", "info", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"cache folder: {tmp_path} (--data-dir)" in out
    assert "default data set: sample" in out


def test_a_loaded_data_set_keeps_its_bytes_and_makes_floats_on_first_use():
    from bp_tui.data.datasets import load_arrays, to_float

    data = load_dataset("sample")
    arrays, _ = load_arrays("sample")
    train = data.image_bytes("train")
    assert train.dtype == np.uint8 and train.shape == (len(data.t_train), 784)
    assert train.flags.c_contiguous
    assert data._floats == {}  # nothing made yet: the float32 copies wait for a reader
    assert data.size_label == "sample 10,000/2,000"
    assert "10,000 train" in repr(data)
    assert data._floats == {}
    # The floats are the bytes / 255 in float32 exactly, as the two-pass conversion made them.
    two_pass = arrays["x_test"].reshape(len(arrays["x_test"]), -1).astype(np.float32)
    two_pass /= 255.0
    np.testing.assert_array_equal(data.x_test, two_pass)
    np.testing.assert_array_equal(to_float(arrays["x_test"]), two_pass)
    assert data.x_test is data.x_test  # made once
    every_byte = np.arange(256, dtype=np.uint8)
    assert np.array_equal(to_float(every_byte[:, None]).ravel(), every_byte / np.float32(255))
    # Replacing the images drops the bytes: they would no longer say what x is.
    data.x_train = data.x_train[:5]
    assert data.image_bytes("train") is None and len(data.x_train) == 5
    assert data.image_bytes("test") is not None
    assert isinstance(data, Dataset)


def test_a_loaded_data_set_pickles_with_its_bytes():
    import pickle

    data = load_dataset("sample")
    again = pickle.loads(pickle.dumps(data))
    np.testing.assert_array_equal(again.image_bytes("test"), data.image_bytes("test"))
    np.testing.assert_array_equal(again.x_test, data.x_test)
