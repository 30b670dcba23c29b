#!/usr/bin/env python3
"""make_serve_images.py - writes Fashion-MNIST test images as 28 x 28 gray PNGs, for the server's
smoke test (tests/data/serve/, committed: images 0..7 of the test split) and its load test
(scripts/bench.sh writes more into build/). Plain python3 (gzip, zlib, struct), no packages.

    python3 scripts/make_serve_images.py OUT_DIR FIRST COUNT
"""
import gzip
import os
import struct
import sys
import zlib

IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def png(width, height, rows):
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + r for r in rows)  # filter type 0 on every row
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    out, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with gzip.open(IMAGES, "rb") as f:
        magic, n, h, w = struct.unpack(">IIII", f.read(16))
        assert magic == 2051 and first + count <= n, "not an IDX image file, or too few images"
        f.read(first * h * w)
        os.makedirs(out, exist_ok=True)
        for i in range(first, first + count):
            px = f.read(h * w)
            rows = [px[y * w:(y + 1) * w] for y in range(h)]
            with open(os.path.join(out, "%05d.png" % i), "wb") as g:
                g.write(png(w, h, rows))


if __name__ == "__main__":
    main()
