"""Fetch MNIST / Fashion-MNIST from their mirrors, or import IDX files from a local folder."""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

from bp_tui.data.cache import (
    DECODED,
    check_arrays,
    dataset_folder,
    find_idx,
    read_arrays,
    write_arrays,
)
from bp_tui.data.idx import GZIP_MAGIC, parse_idx, read_idx, read_idx_bytes
from bp_tui.data.sources import (
    DOWNLOADABLE,
    GZ_CHECKSUMS,
    IDX_FILES,
    LABELS,
    MIRRORS,
    RAW_SHA256,
    check_name,
)
from bp_tui.errors import DataError
from bp_tui.files import atomic_write, temp_file

Progress = Callable[[str, int, int], None]
CHUNK = 1 << 16
TIMEOUT = 30.0


class DownloadFailed(DataError):
    """Every mirror failed for one file; ``file`` and ``last_error`` say which and why."""

    def __init__(self, message: str, file: str, last_error: str) -> None:
        super().__init__(message)
        self.file = file
        self.last_error = last_error


class _Rejected(Exception):
    """A mirror answered, but with a file we cannot accept."""


def _digest(data: bytes, algorithm: str) -> str:
    return hashlib.new(algorithm, data).hexdigest()


def _cached_ok(path: Path, checksum: str, raw_sha256: str | None) -> bool:
    """A cached .gz is fine if it is the mirrors' file, or (imported) holds the right content."""
    algorithm, expected = checksum.split(":", 1)
    blob = path.read_bytes()
    if _digest(blob, algorithm) == expected:
        return True
    if raw_sha256 is None:
        return False
    try:  # bounded: a cached gzip bomb is not decompressed past its header's size
        return _digest(read_idx_bytes(path), "sha256") == raw_sha256
    except DataError:
        return False


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(2) == GZIP_MAGIC


def _fetch(
    url: str, out: BinaryIO, file: str, algorithm: str, progress: Progress | None, timeout: float
) -> str:
    """Stream ``url`` into ``out``; return the hex digest of what arrived."""
    import urllib.request  # here: 25 ms of imports that only a download needs

    hasher = hashlib.new(algorithm)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        if progress:
            progress(file, 0, total)
        while chunk := response.read(CHUNK):
            out.write(chunk)
            hasher.update(chunk)
            done += len(chunk)
            if progress:
                progress(file, done, total)
    if total and done != total:
        raise _Rejected(f"truncated ({done:,} of {total:,} bytes)")
    return hasher.hexdigest()


def _describe(err: BaseException) -> str:
    import http.client

    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    if isinstance(err, TimeoutError):
        return "timed out"
    if isinstance(err, http.client.IncompleteRead):
        return f"truncated ({len(err.partial):,} bytes, {err.expected:,} more expected)"
    return str(err) or type(err).__name__


def _ways_out(name: str) -> str:
    flag = "" if name == "mnist" else f" --dataset {name}"
    return f"import the files with 'bp-tui data import DIR{flag}', or use '--dataset sample'"


def _download_file(
    name: str,
    file: str,
    dest: Path,
    mirrors: tuple[str, ...],
    checksum: str,
    progress: Progress | None,
    timeout: float,
) -> None:
    """Try each mirror in turn; only a whole, verified file is renamed to ``dest``."""
    import http.client

    algorithm, expected = checksum.split(":", 1)
    last_error = "no mirror given"
    for mirror in mirrors:
        url = f"{mirror.rstrip('/')}/{file}"
        out, part = temp_file(dest, ".part")
        try:
            with out:
                digest = _fetch(url, out, file, algorithm, progress, timeout)
            if digest != expected:
                raise _Rejected(f"wrong {algorithm} checksum {digest}")
            os.replace(part, dest)
            return
        except (
            _Rejected,
            urllib.error.URLError,
            http.client.HTTPException,
            OSError,
            ValueError,
        ) as err:
            last_error = f"{url}: {_describe(err)}"
        finally:
            part.unlink(missing_ok=True)
    raise DownloadFailed(
        f"could not download {file} for {LABELS[name]} from {len(mirrors)} mirror(s), "
        f"last error {last_error}; {_ways_out(name)}",
        file,
        last_error,
    )


def download_dataset(
    name: str,
    data_dir: str | Path | None = None,
    mirrors: Iterable[str] | None = None,
    progress: Progress | None = None,
    *,
    checksums: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,
) -> Path:
    """Download the four .gz files of ``name`` into the cache and build the decoded cache.

    ``checksums`` maps each .gz name to "algorithm:hexdigest" (default: the mirrors' files);
    files already cached and valid are skipped. Returns the data set's folder.
    """
    check_name(name, DOWNLOADABLE)
    mirrors = tuple(mirrors) if mirrors is not None else MIRRORS[name]
    checksums = checksums if checksums is not None else GZ_CHECKSUMS[name]
    folder = dataset_folder(name, data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot create the cache folder {folder}: {err.strerror or err}") from None
    fetched = False
    for file in IDX_FILES.values():
        gz = f"{file}.gz"
        dest = folder / gz
        if dest.is_file() and _cached_ok(dest, checksums[gz], RAW_SHA256.get(name, {}).get(file)):
            if progress:
                size = dest.stat().st_size
                progress(gz, size, size)
            continue
        _download_file(name, gz, dest, mirrors, checksums[gz], progress, timeout)
        fetched = True
    if fetched or read_arrays(folder / DECODED) is None:
        arrays = {key: read_idx(folder / f"{file}.gz") for key, file in IDX_FILES.items()}
        check_arrays(arrays, folder)
        write_arrays(folder / DECODED, arrays)
    return folder


def import_dataset(
    src_dir: str | Path,
    name: str = "mnist",
    data_dir: str | Path | None = None,
    *,
    checksums: Mapping[str, str] | None = None,
) -> Path:
    """Copy the four IDX files (gz or raw) from ``src_dir`` into the cache, verified first.

    ``checksums`` maps each file name (no .gz) to the sha256 of its uncompressed content;
    the default checks MNIST against the README's table and Fashion-MNIST by structure only.
    Nothing in the cache changes unless all four files pass. Returns the data set's folder.
    """
    check_name(name, DOWNLOADABLE)
    checksums = checksums if checksums is not None else RAW_SHA256.get(name, {})
    dataset_folder(name, data_dir)  # a cache that cannot be: said before the files are read
    src = Path(src_dir).expanduser()
    if not src.is_dir():
        raise DataError(f"{src}: no such folder (expected the four IDX files of {LABELS[name]})")
    blobs: dict[str, bytes] = {}
    arrays = {}
    for key, file in IDX_FILES.items():
        path = find_idx(src, file)
        if path is None:
            raise DataError(f"{src} has no {file}.gz or {file} (canonical IDX file names)")
        raw = read_idx_bytes(path)  # bounded by its header: a gzip bomb stops there
        arrays[key] = parse_idx(raw, path)
        expected = checksums.get(file)
        if expected and _digest(raw, "sha256") != expected:
            raise DataError(
                f"{path}: content does not match {LABELS[name]}'s sha256 (a different or damaged file)"
            )
        # Keep a gzip source byte for byte, so it still matches the mirrors' checksums.
        try:
            blob = path.read_bytes() if _is_gzip(path) else gzip.compress(raw, 6, mtime=0)
        except OSError as err:
            raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
        blobs[file] = blob
    check_arrays(arrays, src)
    folder = dataset_folder(name, data_dir)
    try:
        for file, blob in blobs.items():
            atomic_write(folder / f"{file}.gz", lambda f, blob=blob: f.write(blob))
        write_arrays(folder / DECODED, arrays)
    except OSError as err:
        raise DataError(
            f"cannot write to the cache folder {folder}: {err.strerror or err}"
        ) from None
    return folder
