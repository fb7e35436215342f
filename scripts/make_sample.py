"""Make assets/mnist-sample.npz: a stratified subset of real MNIST (10,000 train / 2,000 test).

Usage: python scripts/make_sample.py [--source DIR] [--out PATH]

DIR holds the four MNIST IDX files (gz or raw); their uncompressed content is checked against
the known sha256 sums, so the sample can only be made from the real data set.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from bp_tui.data.cache import check_arrays, find_idx
from bp_tui.data.idx import gunzip_if_needed, parse_idx
from bp_tui.data.sources import IDX_FILES, RAW_SHA256

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"train": 10_000, "test": 2_000}
SEED = 20_160_924  # fixed, so the script always picks the same images


def quotas(labels: np.ndarray, n: int) -> np.ndarray:
    """Per-class counts summing to ``n`` in the proportions of ``labels`` (largest remainder)."""
    share = np.bincount(labels, minlength=10) * n / len(labels)
    counts = np.floor(share).astype(int)
    extra = np.argsort(counts - share, kind="stable")[: n - counts.sum()]
    counts[extra] += 1
    return counts


def stratified(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` examples, each class drawn at random in its share; kept in file order."""
    picks = [
        rng.choice(np.flatnonzero(labels == digit), size=count, replace=False)
        for digit, count in enumerate(quotas(labels, n))
    ]
    return np.sort(np.concatenate(picks))


def read_mnist(source: Path) -> dict[str, np.ndarray]:
    """The four arrays of real MNIST from ``source``, verified by content checksum."""
    arrays = {}
    for key, file in IDX_FILES.items():
        path = find_idx(source, file)
        if path is None:
            raise SystemExit(f"{source} has no {file}.gz or {file}")
        raw = gunzip_if_needed(path.read_bytes(), path)
        if hashlib.sha256(raw).hexdigest() != RAW_SHA256["mnist"][file]:
            raise SystemExit(f"{path}: not the real MNIST file (sha256 differs)")
        arrays[key] = parse_idx(raw, path)
    check_arrays(arrays, source)
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "mnist-sample.npz")
    args = parser.parse_args()

    full = read_mnist(args.source)
    rng = np.random.default_rng(SEED)
    sample = {}
    for split, n in SIZES.items():
        keep = stratified(full[f"t_{split}"], n, rng)
        sample[f"x_{split}"] = full[f"x_{split}"][keep]
        sample[f"t_{split}"] = full[f"t_{split}"][keep]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as f:  # a file object: numpy then adds no .npz suffix
        np.savez_compressed(f, **sample)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    for split in SIZES:
        counts = np.bincount(sample[f"t_{split}"], minlength=10)
        print(f"  {split}: {len(sample[f't_{split}']):,} images, per class {counts.tolist()}")


if __name__ == "__main__":
    main()
