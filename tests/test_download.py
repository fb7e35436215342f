"""Download from mirrors (a local HTTP server stands in for them) and import from a folder."""

import argparse
import gzip
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import bp_tui.cli.data_commands as data_commands
import bp_tui.data
import bp_tui.data.download as download
from bp_tui.data import data_dir, download_dataset, import_dataset, load_dataset, load_mnist
from bp_tui.data.cache import DECODED, read_arrays
from bp_tui.data.sources import IDX_FILES
from bp_tui.errors import DataError
from tests.idx_fixtures import (
    assert_same_arrays,
    gz_checksums,
    idx_bytes,
    raw_checksums,
    synthetic_arrays,
    write_idx_files,
)

GZ_FILES = [f"{file}.gz" for file in IDX_FILES.values()]


class Handler(SimpleHTTPRequestHandler):
    """Static files, plus /truncated/ (promises more bytes than it sends) and /slow/."""

    requests: list[str]

    def do_GET(self):
        self.requests.append(self.path)
        if self.path.startswith("/slow/"):
            self.release.wait(30)  # no answer until the client has given up (and the test ends)
            return
        if self.path.startswith("/truncated/"):
            body = (Path(self.directory) / "good" / self.path.split("/")[-1]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def arrays():
    return synthetic_arrays(50, 20)


@pytest.fixture
def mirror(tmp_path, arrays, monkeypatch):
    """A server on 127.0.0.1: /good/ the right files, /bad/ other files, /missing/ nothing."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    root = tmp_path / "www"
    write_idx_files(root / "good", arrays)
    write_idx_files(root / "bad", synthetic_arrays(50, 20, seed=1))
    release = threading.Event()
    handler = type("H", (Handler,), {"requests": [], "release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=root))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield argparse.Namespace(
        url=lambda folder: f"{base}/{folder}/",
        checksums=gz_checksums(root / "good"),
        good=root / "good",
        requests=handler.requests,
    )
    release.set()
    server.shutdown()
    server.server_close()


def cache_files(name="mnist"):
    folder = data_dir() / name
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def load_dataset_arrays():
    return read_arrays(data_dir() / "mnist" / DECODED)


def timeout_for(*folders: str) -> float:
    """A second where a mirror never answers (the time-out is what the test is about);
    otherwise long enough that no answer under load is taken for a time-out."""
    return 1.0 if "slow" in folders else 30.0


def download_error(mirror, *folders, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        download_dataset(
            "mnist", mirrors=[mirror.url(f) for f in folders], checksums=mirror.checksums, **kwargs
        )
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- download -------------------------------------------------------------------------------------


def test_download_success(mirror, arrays):
    seen = {}
    folder = download_dataset(
        "mnist",
        mirrors=[mirror.url("good")],
        checksums=mirror.checksums,
        progress=lambda file, done, total: seen.__setitem__(file, (done, total)),
    )
    assert folder == data_dir() / "mnist"
    assert cache_files() == sorted([*GZ_FILES, DECODED])
    for gz in GZ_FILES:
        assert (folder / gz).read_bytes() == (mirror.good / gz).read_bytes()
        size = (folder / gz).stat().st_size
        assert seen[gz] == (size, size)
    assert_same_arrays(read_arrays(folder / DECODED), arrays)
    assert load_dataset("mnist").size_label == "mnist 50/20"


@pytest.mark.parametrize("first", ["missing", "bad", "truncated", "slow"])
def test_a_failing_mirror_falls_through_to_the_next(mirror, arrays, first):
    download_dataset(
        "mnist",
        mirrors=[mirror.url(first), mirror.url("good")],
        checksums=mirror.checksums,
        timeout=timeout_for(first),
    )
    assert cache_files() == sorted([*GZ_FILES, DECODED])
    assert_same_arrays(load_dataset_arrays(), arrays)
    assert sum(r.startswith(f"/{first}/") for r in mirror.requests) == 4


@pytest.mark.parametrize(
    ("folders", "why"),
    [
        (["missing"], "HTTP 404"),
        (["missing", "bad"], "wrong sha256 checksum"),
        (["bad", "truncated"], "truncated"),
        (["slow"], "timed out"),
    ],
)
def test_all_mirrors_failing_leaves_nothing(mirror, folders, why):
    message = download_error(mirror, *folders, timeout=timeout_for(*folders))
    assert message.startswith("could not download train-images-idx3-ubyte.gz for MNIST")
    assert why in message and mirror.url(folders[-1]) in message, message
    assert "bp-tui data import DIR" in message and "--dataset sample" in message
    assert cache_files() == []  # no .gz, no .part, no decoded cache


def test_unreachable_mirror(mirror):
    with pytest.raises(DataError, match="could not download .* http://127.0.0.1:9/"):
        download_dataset("mnist", mirrors=["http://127.0.0.1:9/"], checksums=mirror.checksums)
    assert cache_files() == []


def test_valid_cached_files_are_skipped(mirror):
    download_dataset("mnist", mirrors=[mirror.url("good")], checksums=mirror.checksums)
    count = len(mirror.requests)
    download_dataset("mnist", mirrors=[], checksums=mirror.checksums)  # no mirror needed
    assert len(mirror.requests) == count


def test_a_damaged_cached_file_is_fetched_again(mirror, arrays):
    download_dataset("mnist", mirrors=[mirror.url("good")], checksums=mirror.checksums)
    labels = data_dir() / "mnist" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(b"junk")
    count = len(mirror.requests)
    download_dataset("mnist", mirrors=[mirror.url("good")], checksums=mirror.checksums)
    assert mirror.requests[count:] == ["/good/t10k-labels-idx1-ubyte.gz"]
    assert labels.read_bytes() == (mirror.good / labels.name).read_bytes()
    assert_same_arrays(load_dataset_arrays(), arrays)


def test_fashion_mnist_uses_md5(mirror):
    md5 = gz_checksums(mirror.good, "md5")
    folder = download_dataset("fashion-mnist", mirrors=[mirror.url("good")], checksums=md5)
    assert folder == data_dir() / "fashion-mnist" and (folder / DECODED).is_file()
    assert cache_files("mnist") == []


def test_load_mnist_downloads_from_the_mirrors(mirror, arrays, monkeypatch):
    monkeypatch.setitem(download.MIRRORS, "mnist", (mirror.url("good"),))
    monkeypatch.setitem(download.GZ_CHECKSUMS, "mnist", mirror.checksums)
    (x, t), _ = load_mnist(normalize=False)
    np.testing.assert_array_equal(t, arrays["t_train"])

    (data_dir() / "mnist" / DECODED).unlink()
    for gz in GZ_FILES:
        (data_dir() / "mnist" / gz).unlink()
    monkeypatch.setitem(download.MIRRORS, "mnist", (mirror.url("missing"),))
    with pytest.raises(DataError) as caught:
        load_mnist()
    message = str(caught.value)
    assert message.startswith("MNIST is not in the cache") and "HTTP 404" in message
    assert "bp-tui data import DIR" in message and "\n" not in message


# --- import ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_import_folder(tmp_path, arrays, gz):
    src = tmp_path / "src"
    write_idx_files(src, arrays, gz=gz)
    folder = import_dataset(src, "mnist", checksums=raw_checksums(arrays))
    assert cache_files() == sorted([*GZ_FILES, DECODED])
    for key, file in IDX_FILES.items():
        cached = (folder / f"{file}.gz").read_bytes()
        assert gzip.decompress(cached) == idx_bytes(arrays[key])
        if gz:  # a gzip source is kept byte for byte, so it still matches the mirrors' sums
            assert cached == (src / f"{file}.gz").read_bytes()
    assert_same_arrays(load_dataset_arrays(), arrays)


def test_import_mixed_folder_into_fashion_mnist(tmp_path, arrays):
    src = tmp_path / "src"
    write_idx_files(src, arrays, gz=False)
    raw = src / "t10k-images-idx3-ubyte"
    (src / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw.read_bytes()))
    raw.unlink()
    import_dataset(src, "fashion-mnist")  # structure only: no checksum table
    assert load_dataset("fashion-mnist").size_label == "fashion-mnist 50/20"


def test_import_of_non_mnist_content_is_refused(tmp_path, arrays):
    write_idx_files(tmp_path / "src", arrays)
    with pytest.raises(DataError, match="does not match MNIST's sha256"):
        import_dataset(tmp_path / "src")
    assert cache_files() == []


def test_import_missing_folder_or_file(tmp_path, arrays):
    with pytest.raises(DataError, match=f"{tmp_path / 'nope'}: no such folder"):
        import_dataset(tmp_path / "nope")
    write_idx_files(tmp_path / "src", arrays)
    (tmp_path / "src" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(
        DataError, match="has no t10k-labels-idx1-ubyte.gz or t10k-labels-idx1-ubyte"
    ):
        import_dataset(tmp_path / "src", checksums=raw_checksums(arrays))
    assert cache_files() == []


@pytest.mark.parametrize("damage", ["truncated", "count mismatch"])
def test_import_of_a_corrupt_file_changes_nothing(tmp_path, arrays, damage):
    old = synthetic_arrays(30, 10, seed=5)
    write_idx_files(tmp_path / "old", old)
    import_dataset(tmp_path / "old", "fashion-mnist")
    folder = data_dir() / "fashion-mnist"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    src = tmp_path / "src"
    write_idx_files(src, arrays, gz=False)
    labels = src / "train-labels-idx1-ubyte"
    if damage == "truncated":
        labels.write_bytes(labels.read_bytes()[:-3])
        expected = "truncated"
    else:
        labels.write_bytes(idx_bytes(arrays["t_train"][:40]))
        expected = "50 images but 40 labels"
    with pytest.raises(DataError, match=expected):
        import_dataset(src, "fashion-mnist")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_import_sample_is_refused(tmp_path):
    with pytest.raises(DataError, match="choose one of mnist, fashion-mnist"):
        import_dataset(tmp_path, "sample")


# --- `bp-tui data download | import` ----------------------------------------------------------------


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="bp-tui")
    parser.add_argument("--dataset", default=argparse.SUPPRESS)
    register = data_commands.register
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_download_shows_progress(mirror, monkeypatch, capsys):
    real = download.download_dataset

    def local(name, data_dir=None, progress=None):
        return real(name, data_dir, [mirror.url("good")], progress, checksums=mirror.checksums)

    monkeypatch.setattr(bp_tui.data, "download_dataset", local)  # the command imports it when run
    assert run_cli(["data", "download", "--data-dir", str(data_dir() / "x")]) == 0
    out = capsys.readouterr().out
    assert "train-images-idx3-ubyte.gz" in out and "MNIST is ready in" in out
    assert (data_dir() / "x" / "mnist" / DECODED).is_file()


def test_cli_download_refuses_the_sample():
    with pytest.raises(DataError, match="the sample ships with bp-tui"):
        run_cli(["--dataset", "sample", "data", "download"])


def test_cli_import(tmp_path, arrays, capsys):
    write_idx_files(tmp_path / "src", arrays)
    assert run_cli(["data", "import", str(tmp_path / "src"), "--dataset", "fashion-mnist"]) == 0
    assert "imported Fashion-MNIST" in capsys.readouterr().out
    assert cache_files("fashion-mnist") == sorted([*GZ_FILES, DECODED])
    with pytest.raises(DataError, match="no such folder"):
        run_cli(["data", "import", str(tmp_path / "nope")])
