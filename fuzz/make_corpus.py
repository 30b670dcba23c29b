#!/usr/bin/env python3
"""make_corpus.py - rebuilds fuzz/corpus/<target>/ from the project's own small files.

Run from the repository root when the test data change (the corpus is committed, so `make fuzz`
needs no Python). Every seed stays under 100 KB. Seeds are named after their source file.
"""
import glob
import gzip
import os
import re
import shutil
import struct
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # unicode_escape on test strings with regex escapes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
LIMIT = 100 * 1024


def seed(target, name, data):
    if len(data) > LIMIT:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, re.sub(r"[^A-Za-z0-9_.-]", "_", name)), "wb") as f:
        f.write(data)


def files(*patterns):
    for p in patterns:
        for f in sorted(glob.glob(os.path.join(ROOT, p), recursive=True)):
            if os.path.isfile(f) and os.path.getsize(f) <= LIMIT:
                yield f, os.path.relpath(f, ROOT)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    for f, rel in files("tests/data/models/*.onnx", "tests/data/hostile/*.onnx", "tests/data/cases/*/model.onnx"):
        seed("model", rel, read(f))
    for f, rel in files("tests/data/*.npy", "tests/data/hostile/*.npy", "tests/data/cases/*/*/*.pb"):
        seed("tensor", rel, read(f))
    for f, rel in list(files("models/refs/*/test_data_set_0/*.pb"))[:6]:
        if os.path.getsize(f) <= 20 * 1024:
            seed("tensor", rel, read(f))
    for f, rel in files("tests/data/datasets/folder/**/*.png", "tests/data/datasets/folder/**/*.jpg",
                        "tests/data/datasets/folder/**/*.PNG", "tests/data/hostile/*.png"):
        seed("image", rel, read(f))
    for f, rel in files("tests/data/detect/json/*.json", "tests/data/detect/cocoeval/*.json"):
        if os.path.getsize(f) <= 16 * 1024:
            seed("coco", rel, read(f))
    # policies: the hostile ones and the policy strings of the unit and CLI tests
    for f, rel in files("tests/data/hostile/policy_*.txt"):
        if "9450" not in rel:  # open: > 10 s under ASan (tests/data/fuzz/open/README.md)
            seed("policy", rel, read(f))
    ops = r"\b(hflip|vflip|transpose|rot90|rotate|scale|resize|crop|shift|brightness|contrast|identity)\b"
    texts = set()
    for f, _ in files("tests/unit/test_policy.c", "tests/unit/test_augment.c", "tests/cli/*.sh"):
        for s in re.findall(r'"((?:[^"\\\n]|\\.)*)"', read(f).decode("utf-8", "replace")):
            if re.search(ops, s) and "%" not in s.replace("%)", "").replace("%,", "").replace("%;", ""):
                texts.add(s.encode().decode("unicode_escape").encode())
    for i, t in enumerate(sorted(texts)[:80]):
        seed("policy", "test_strings_%02d.txt" % i, t)
    # data sets: byte 0 kind, byte 1 range index, bytes 2-3 len(A), A, B (see fuzz_dataset.c)
    def ds(name, kind, a, b, rng=0):
        seed("dataset", name, bytes([kind, rng]) + struct.pack("<H", len(a)) + a + b)
    d = os.path.join(ROOT, "tests/data/datasets")
    ds("idx", 0, read(f"{d}/idx/images-idx3-ubyte"), read(f"{d}/idx/labels-idx1-ubyte"))
    ds("idx_gz", 0, read(f"{d}/idx/images-idx3-ubyte.gz"), read(f"{d}/idx/labels-idx1-ubyte.gz"), 1)
    ds("cifar10", 1, read(f"{d}/cifar/cifar10_b.bin"), b"", 2)
    ds("cifar10_gz", 1, gzip.compress(read(f"{d}/cifar/cifar10_b.bin"), mtime=0), b"")
    ds("cifar100", 2, read(f"{d}/cifar/cifar100.bin")[:3074], b"", 3)
    png = read(f"{d}/folder/ant/2.png")
    ds("list_ints", 3, b"path,label\nimg.png,1\nimg.png, 0\n", png)
    ds("list_names", 3, b"img.png,zebra\nimg.png,aardvark\n", png, 4)
    ds("list_missing", 3, b"# comment\nnope.png,1\nimg.png,0\n", read(f"{d}/folder/bird/x.jpg"))
    # server request bodies: byte 0 picks the Content-Type (0 JSON, 1 PNG, 2 none, 3 multipart,
    # 4 form; see fuzz_serve_request.c), then the body
    b64 = __import__("base64").b64encode
    png0, png1 = read(os.path.join(ROOT, "tests/data/serve/00000.png")), read(os.path.join(ROOT, "tests/data/serve/00001.png"))
    req = {
        "json_one": b'\0{"image": "' + b64(png0) + b'", "top": 2}',
        "json_two": b'\0{"images": ["' + b64(png0) + b'", "' + b64(png1) + b'"], "min_score": 0.5, "maps": true}',
        "json_truncated": b'\0{"image": "Zm9v',
        "json_dup": b'\0{"image": "Zg==", "image": "Zg=="}',
        "raw_png": b"\1" + png1,
        "raw_png_truncated": b"\1" + read(os.path.join(ROOT, "tests/data/serve/00002.png"))[:60],
        "raw_jpeg": b"\2" + read(f"{d}/folder/bird/x.jpg"),
        "multipart": b"\3--x\r\nContent-Disposition: form-data\r\n",
        "query_top": b"\4top=3",
        "base64_lines": b"\0Zm9vYmFy\r\nZm9v",
    }
    for name, body in req.items():
        seed("serve_request", name, body)


if __name__ == "__main__":
    main()
