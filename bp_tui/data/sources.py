"""Where the data sets come from and the checksums that prove a file is the real one."""

from __future__ import annotations

from bp_tui.errors import DataError

DATASETS = ("sample", "mnist", "fashion-mnist")
DOWNLOADABLE = ("mnist", "fashion-mnist")
LABELS = {"sample": "the MNIST sample", "mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}

# Array name -> canonical IDX file name (without .gz), in download order.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "t_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "t_test": "t10k-labels-idx1-ubyte",
}

MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}

# Checksums of the .gz files as the mirrors serve them, as "algorithm:hexdigest".
GZ_CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "sha256:"
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "sha256:"
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "sha256:"
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "sha256:"
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
    },
}

# sha256 of the uncompressed MNIST files: gzip wrappers differ between copies, the content does not.
RAW_SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
}


def check_name(name: str, allowed: tuple[str, ...] = DATASETS) -> None:
    """Reject a data set name that is not one of ``allowed``."""
    if name not in allowed:
        what = "unknown data set" if name not in DATASETS else "not possible with data set"
        raise DataError(f"{what} {name!r}: choose one of {', '.join(allowed)}")
