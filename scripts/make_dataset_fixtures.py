#!/usr/bin/env python3
"""make_dataset_fixtures.py - writes the small data set files of tests/data/datasets/.

Plain python3 (no numpy, no PIL): PNG and a tiny baseline JPEG are encoded here by hand. The
output is committed; tests/unit/test_dataset.c only reads it. Every pixel value encodes where it
came from, so that swapped rows and columns, wrong channel order or wrong item order are caught:

    IDX       item i (0..4), 4 rows x 3 cols, 1 channel:  40*i + 4*row + col
              labels 3, 0, 7, 1, 4
    CIFAR     item i of the concatenated files, 32x32x3 (HWC):
              (67*i + 5*row + 3*col + 101*ch) % 256, stored CHW as CIFAR does
              CIFAR-10 labels 6, 9 (cifar10_a.bin) and 2 (cifar10_b.bin)
              CIFAR-100 (coarse, fine) labels (11, 42), (3, 99)
    folder    classes ant, bird, cat (empty), dog; items in order:
              0 ant/10.png  3x4 RGB   60*k + 16*row + 4*col + ch
              1 ant/2.png   3x4 gray  same formula (ch = 0)
              2 bird/x.jpg  8x16 gray JPEG, left 8x8 block 60, right block 200 (exact: DC-only)
              3 dog/Y.PNG   3x4 RGBA  same formula
              ignored: bird/notes.txt, bird/.hidden.png, cat/.keep, .cache/z.png, README.txt
    lists     lists/ints.txt and lists/names.txt, paths relative to lists/

Run from anywhere: python3 scripts/make_dataset_fixtures.py
"""

import gzip
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "datasets")


def write(rel, data):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


# ---- IDX ----

def idx_files():
    n, rows, cols = 5, 4, 3
    pix = bytes(40 * i + 4 * r + c for i in range(n) for r in range(rows) for c in range(cols))
    images = struct.pack(">IIII", 0x803, n, rows, cols) + pix
    labels = struct.pack(">II", 0x801, n) + bytes([3, 0, 7, 1, 4])
    write("idx/images-idx3-ubyte", images)
    write("idx/labels-idx1-ubyte", labels)
    write("idx/images-idx3-ubyte.gz", gz(images))
    write("idx/labels-idx1-ubyte.gz", gz(labels))


# ---- CIFAR ----

def cifar_pixels(i):
    """CHW bytes of item i."""
    return bytes((67 * i + 5 * r + 3 * c + 101 * ch) % 256
                 for ch in range(3) for r in range(32) for c in range(32))


def cifar_files():
    write("cifar/cifar10_a.bin", bytes([6]) + cifar_pixels(0) + bytes([9]) + cifar_pixels(1))
    write("cifar/cifar10_b.bin", bytes([2]) + cifar_pixels(2))
    write("cifar/cifar100.bin", bytes([11, 42]) + cifar_pixels(0) + bytes([3, 99]) + cifar_pixels(1))


# ---- PNG ----

def png(width, height, channels, pixels):
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    stride = width * channels
    raw = b"".join(b"\x00" + pixels[y * stride:(y + 1) * stride] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def folder_pixels(k, rows, cols, channels):
    return bytes(60 * k + 16 * r + 4 * c + ch
                 for r in range(rows) for c in range(cols) for ch in range(channels))


# ---- JPEG: baseline, grayscale, every 8x8 block one flat value ----

def jpeg_flat_blocks(values, height=8):
    """A grayscale JPEG of len(values) 8x8 blocks side by side, block b filled with values[b].

    With a quantisation table of ones and no AC coefficients, the DC coefficient 8*(v-128) is
    stored exactly, so a decoder returns exactly v: a lossy format with exact test values."""
    width = 8 * len(values)
    # standard luminance DC table (JPEG Annex K.3)
    dc_counts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    dc_symbols = list(range(12))
    codes, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(dc_counts[length - 1]):
            codes[dc_symbols[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    # a one-symbol AC table: EOB (0x00) has the 1-bit code 0
    ac_counts = [1] + [0] * 15
    bits = []

    def put(value, length):
        bits.extend((value >> (length - 1 - b)) & 1 for b in range(length))

    prev = 0
    for v in values:
        dc = 8 * (v - 128)
        diff, prev = dc - prev, dc
        size = abs(diff).bit_length()
        put(*codes[size])
        if size:
            put(diff if diff > 0 else diff + (1 << size) - 1, size)
        put(0, 1)  # EOB
    bits.extend([1] * (-len(bits) % 8))
    data = bytearray()
    for b in range(0, len(bits), 8):
        byte = int("".join(map(str, bits[b:b + 8])), 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0)

    def segment(marker, body):
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    return (b"\xff\xd8"
            + segment(0xDB, b"\x00" + bytes([1] * 64))
            + segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + bytes([1, 0x11, 0]))
            + segment(0xC4, b"\x00" + bytes(dc_counts) + bytes(dc_symbols))
            + segment(0xC4, b"\x10" + bytes(ac_counts) + b"\x00")
            + segment(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
            + bytes(data) + b"\xff\xd9")


def folder_files():
    write("folder/ant/10.png", png(4, 3, 3, folder_pixels(0, 3, 4, 3)))
    write("folder/ant/2.png", png(4, 3, 1, folder_pixels(1, 3, 4, 1)))
    write("folder/bird/x.jpg", jpeg_flat_blocks([60, 200]))
    write("folder/dog/Y.PNG", png(4, 3, 4, folder_pixels(3, 3, 4, 4)))
    write("folder/bird/notes.txt", b"not an image: ignored\n")
    write("folder/bird/.hidden.png", png(4, 3, 1, bytes(12)))
    write("folder/cat/.keep", b"")  # git keeps no empty folders; cat is an empty class
    write("folder/.cache/z.png", png(4, 3, 1, bytes(12)))
    write("folder/README.txt", b"A file beside the class folders: ignored.\n")


def list_files():
    write("lists/ints.txt", b"# labels as integers; paths relative to this file's folder\n"
                            b"path,label\n"
                            b"../folder/dog/Y.PNG,5\n"
                            b"../folder/ant/2.png, 1\n"
                            b"\n"
                            b"../folder/bird/x.jpg,0\r\n")
    write("lists/names.txt", b"../folder/ant/10.png,zebra\n"
                             b"../folder/dog/Y.PNG,aardvark\n"
                             b"../folder/ant/2.png,zebra\n")


if __name__ == "__main__":
    idx_files()
    cifar_files()
    folder_files()
    list_files()
    print("wrote", os.path.normpath(ROOT))
