"""fashion_data.py - Fashion-MNIST loading with the project's fixed split.

Reads the gzipped IDX files of the Debian package dataset-fashion-mnist and returns uint8 images
[N, 28, 28] and uint8 labels [N]. The split is the same everywhere in the project (issue 6):

    train      = training images 0..54999
    validation = training images 55000..59999 (never trained on; policy search uses it)
    test       = the 10,000 test images (t10k)

Only numpy is needed. Run it directly to print the split sizes and class counts.
"""

import gzip
import os
import struct

import numpy as np

DATA_DIR = os.environ.get("TTA_FASHION_DIR", "/usr/share/datasets/fashion-mnist")

CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

TRAIN_END = 55000  # training images [0, TRAIN_END) are train, [TRAIN_END, 60000) validation
SPLIT_TEXT = "train:0-54999,val:55000-59999,test:t10k"

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "t10k": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx(path):
    """Reads one (optionally gzipped) IDX file of unsigned bytes into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError("%s: too short for an IDX header" % path)
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("%s: not an IDX file of unsigned bytes (magic %02x %02x)"
                         % (path, zero, dtype_code))
    dims = struct.unpack(">%dI" % ndim, data[4:4 + 4 * ndim])
    body = data[4 + 4 * ndim:]
    count = int(np.prod(dims)) if ndim else 1
    if len(body) != count:
        raise ValueError("%s: expected %d data bytes, found %d" % (path, count, len(body)))
    return np.frombuffer(body, dtype=np.uint8).reshape(dims).copy()


def _load(part, data_dir):
    img_name, lab_name = _FILES[part]
    images = read_idx(os.path.join(data_dir, img_name))
    labels = read_idx(os.path.join(data_dir, lab_name))
    if images.shape[0] != labels.shape[0]:
        raise ValueError("%s: %d images but %d labels" % (part, images.shape[0], labels.shape[0]))
    return images, labels


def load_split(split, data_dir=DATA_DIR):
    """Returns (images uint8 [N,28,28], labels uint8 [N]) for split 'train', 'val' or 'test'."""
    if split in ("train", "val"):
        images, labels = _load("train", data_dir)
        if images.shape[0] != 60000:
            raise ValueError("expected 60000 training images, found %d" % images.shape[0])
        sl = slice(0, TRAIN_END) if split == "train" else slice(TRAIN_END, None)
        return images[sl].copy(), labels[sl].copy()
    if split == "test":
        return _load("t10k", data_dir)
    raise ValueError("unknown split %r (train, val or test)" % split)


def load_all(data_dir=DATA_DIR):
    """Returns {'train': (x, y), 'val': (x, y), 'test': (x, y)}."""
    tr_x, tr_y = _load("train", data_dir)
    te_x, te_y = _load("t10k", data_dir)
    return {
        "train": (tr_x[:TRAIN_END].copy(), tr_y[:TRAIN_END].copy()),
        "val": (tr_x[TRAIN_END:].copy(), tr_y[TRAIN_END:].copy()),
        "test": (te_x, te_y),
    }


if __name__ == "__main__":
    for name, (x, y) in load_all().items():
        counts = np.bincount(y, minlength=10)
        print("%-5s images %s labels %s  per class %s" % (name, x.shape, y.shape, counts.tolist()))
