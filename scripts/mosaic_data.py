"""mosaic_data.py - the mosaic data sets of the shipped detector and segmenter, made by our own C
generator (`build/tta data mosaic`, src/data/mosaic.c) and read back into numpy.

    make_mosaics("train", seed=1, count=40000, size=64) -> directory under build/mosaics/
    load_mosaics(directory) -> dict(images [N,P,P] uint8, masks [N,P,P] uint8,
                                    boxes [list of float32 [k,4] x0,y0,x1,y1], labels [list of int64 [k]])

A data set is generated once and reused while its annotations.json says it was made with the same
split, seed, count and options (the generator is deterministic, so reuse is exact). Boxes come
back as corners in continuous pixel coordinates (SPEC.md: pixel column j spans [j, j+1]); labels
are Fashion-MNIST classes 0..9 (the COCO category_id minus 1; masks hold class + 1, 0 = background).

PNG decoding uses PIL (Debian python3-pil). Run directly for a summary of one data set:
    /usr/bin/python3 scripts/mosaic_data.py test 3 1000 64
"""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TTA = os.path.join(ROOT, "build", "tta")

CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

# The generator options the shipped models were trained and evaluated with (the CLI defaults).
SIZE = 64
OPTIONS = {"min_items": 1, "max_items": 5, "min_scale": 0.75, "max_scale": 1.5, "threshold": 30,
           "noise": 0, "max_overlap": 0.25}


def ensure_tta():
    """Builds build/tta with make if it is missing."""
    if not os.access(TTA, os.X_OK):
        subprocess.run(["make", "-C", ROOT, "build/tta"], check=True, stdout=subprocess.DEVNULL)


def command(split, seed, count, size, out_dir, options=OPTIONS):
    cmd = [TTA, "data", "mosaic", "--split", split, "--seed", str(seed), "--count", str(count),
           "--size", str(size), "-o", out_dir, "-q"]
    for k, v in options.items():
        cmd += ["--" + k.replace("_", "-"), str(v)]
    return cmd


def make_mosaics(split, seed, count, size=SIZE, options=OPTIONS, root=None, log=print):
    """Generates (or reuses) a data set; returns its directory."""
    root = root or os.path.join(ROOT, "build", "mosaics")
    out = os.path.join(root, "%s_s%d_n%d_p%d" % (split, seed, count, size))
    ann = os.path.join(out, "annotations.json")
    if os.path.exists(ann):
        with open(ann) as f:
            info = json.load(f)["info"]
        want = dict(split=split, seed=seed, count=count, size=size, **options)
        if all(info.get(k) == v for k, v in want.items()):
            return out
    ensure_tta()
    cmd = command(split, seed, count, size, out, options)
    log("  " + " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def load_mosaics(out_dir):
    with open(os.path.join(out_dir, "annotations.json")) as f:
        coco = json.load(f)
    n = len(coco["images"])
    size = coco["info"]["size"]
    images = np.zeros((n, size, size), np.uint8)
    masks = np.zeros((n, size, size), np.uint8)
    for im in coco["images"]:
        i = im["id"]
        images[i] = np.asarray(Image.open(os.path.join(out_dir, "images", im["file_name"])))
        masks[i] = np.asarray(Image.open(os.path.join(out_dir, "masks", im["file_name"])))
    boxes = [[] for _ in range(n)]
    labels = [[] for _ in range(n)]
    for a in coco["annotations"]:
        x, y, w, h = a["bbox"]
        boxes[a["image_id"]].append([x, y, x + w, y + h])
        labels[a["image_id"]].append(a["category_id"] - 1)
    boxes = [np.asarray(b, np.float32).reshape(-1, 4) for b in boxes]
    labels = [np.asarray(lb, np.int64) for lb in labels]
    return {"images": images, "masks": masks, "boxes": boxes, "labels": labels, "info": coco["info"],
            "dir": out_dir}


if __name__ == "__main__":
    split, seed, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    d = load_mosaics(make_mosaics(split, seed, count, size))
    k = np.array([len(b) for b in d["boxes"]])
    print("%s: %d images of %dx%d, %d items (per image: %s), foreground %.3f"
          % (d["dir"], len(k), size, size, k.sum(), np.bincount(k).tolist(), (d["masks"] > 0).mean()))
