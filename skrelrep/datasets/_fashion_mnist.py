"""Fashion-MNIST from the Debian package ``dataset-fashion-mnist`` (gzip IDX files)."""

import gzip
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._base import APT_INSTALL, check_count, choose_rows, finish, not_installed

__all__ = ["load_fashion_mnist"]

DATA_HOME = Path("/usr/share/datasets/fashion-mnist")
INSTALL = f"{APT_INSTALL} dataset-fashion-mnist"
CLASS_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
_FILES = {"train": "train", "test": "t10k"}
_SIDE = 28


def _read_idx(path, magic, n_rows=None):
    """The items of an IDX file, all or the first ``n_rows``, as flat uint8 rows.

    An IDX header is a big-endian magic number (2049 for labels, 2051 for images),
    the item count and, for images, the height and width: 8 or 16 bytes in all.
    """
    header_size = 8 if magic == 2049 else 16
    with gzip.open(path, "rb") as f:
        header = np.frombuffer(f.read(header_size), dtype=">i4")
        if header.size * 4 != header_size or header[0] != magic:
            raise ValueError(f"{path} is not an IDX file of the expected kind.")
        n_items = int(header[1])
        item_size = 1 if magic == 2049 else _SIDE * _SIDE
        n_read = n_items if n_rows is None else min(n_rows, n_items)
        body = f.read(n_read * item_size)
    if len(body) != n_read * item_size:
        raise ValueError(f"{path} is truncated.")
    return np.frombuffer(body, dtype=np.uint8).reshape(n_read, item_size), n_items


def load_fashion_mnist(
    subset="train",
    *,
    n_samples=None,
    random_state=None,
    return_X_y=False,
    data_home=None,
):
    """Load Fashion-MNIST: 28 x 28 grey images of clothing in 10 classes.

    Reads the gzip IDX files of the Debian package ``dataset-fashion-mnist``
    (60,000 training and 10,000 test images; MIT licence). Install it with::

        apt-get install -y --no-install-recommends dataset-fashion-mnist

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        Which split to load.
    n_samples : int, default=None
        Keep this many images (at most the split's size); all by default.
    random_state : int, RandomState instance or None, default=None
        With ``n_samples``: ``None`` keeps the first images (and reads only those),
        otherwise a random subset, in file order, is drawn with this seed. The result
        is deterministic either way.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a bunch.
    data_home : str or path-like, default=None
        Folder holding the IDX files; by default the Debian package's
        ``/usr/share/datasets/fashion-mnist``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data``: float32 array of shape (n_samples, 784), pixel intensities scaled
        to ``[0, 1]``; ``images``: the same values as shape (n_samples, 28, 28);
        ``target``: int64 class indices; ``target_names``; ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    DataNotInstalledError
        If the files are missing; the message names the install command.

    Examples
    --------
    >>> from skrelrep.datasets import load_fashion_mnist
    >>> X, y = load_fashion_mnist("test", n_samples=500, return_X_y=True)
    >>> X.shape, X.dtype, float(X.max()) <= 1.0
    ((500, 784), dtype('float32'), True)
    """
    if subset not in _FILES:
        raise ValueError(f"subset must be 'train' or 'test'; got {subset!r}.")
    check_count(n_samples, "n_samples")
    folder = Path(DATA_HOME if data_home is None else data_home)
    prefix = _FILES[subset]
    images_path = folder / f"{prefix}-images-idx3-ubyte.gz"
    labels_path = folder / f"{prefix}-labels-idx1-ubyte.gz"
    for path in (images_path, labels_path):
        if not path.is_file():
            raise not_installed("Fashion-MNIST", INSTALL, f"{path} is missing")
    # Without a seed the subset is the first images: read no further than them.
    n_read = n_samples if random_state is None else None
    labels, n_total = _read_idx(labels_path, 2049, n_read)
    pixels, _ = _read_idx(images_path, 2051, n_read)
    if len(labels) != len(pixels):
        raise ValueError(f"{images_path} and {labels_path} hold different counts.")
    rows = choose_rows(len(labels), n_samples, random_state)
    data = pixels[rows].astype(np.float32) / np.float32(255)
    return finish(
        Bunch(
            data=data,
            images=data.reshape(-1, _SIDE, _SIDE),
            target=labels[rows, 0].astype(np.int64),
            target_names=list(CLASS_NAMES),
            DESCR=(
                f"Fashion-MNIST ({subset} split, {len(rows)} of {n_total} images), "
                f"read from {folder}. Xiao, Rasul and Vollgraf, 2017 (MIT licence)."
            ),
        ),
        return_X_y,
    )
