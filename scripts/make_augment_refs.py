#!/usr/bin/python3
"""make_augment_refs.py - reference values for the rotation, scaling and resizing transforms and
for the dense-map inverse of a rotation, computed by an independent implementation (SciPy's
ndimage, and plain NumPy where SciPy has no equivalent: Keys bicubic and antialiased shrinking).

Writes tests/data/augment/{rotate,scale,resize,invert}.txt. The unit tests only read these files;
run this script again (with /usr/bin/python3 and python3-scipy) only when a convention changes.

File format (read by tests/unit/test_augment.c):
    # comment
    image VIEW            apply VIEW (policy text) to the test image ...
    size H W C            ... of H x W x C, value(r, c, ch) = test_value(r, c, ch)
    <H lines of W*C numbers>
    dense S VIEW          invert a dense map at stride S produced for VIEW ...
    size H W              ... on an H x W image; the view's map is map_value(i, j) of h x w
    map h w               (map size of both the view and the original frame)
    <h lines of w numbers, x where the mask says invalid>

Conventions (SPEC section 3; see src/augment/resample.c): pixel (r, c) has its centre at
continuous (c + 0.5, r + 0.5); scipy's index coordinates are those minus 0.5. Rotation is
counter-clockwise about the image centre (scipy.ndimage.rotate, checked below against
numpy.rot90). Border modes: constant -> scipy 'grid-constant', edge -> 'nearest', reflect ->
'reflect', wrap -> 'grid-wrap'.
"""
import os
import sys

import numpy as np
import scipy
import scipy.ndimage as nd

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "augment")
MODES = {"constant": "grid-constant", "edge": "nearest", "reflect": "reflect", "wrap": "grid-wrap"}


def test_value(r, c, ch):
    """The test image: rough on purpose, so interpolation errors show (same formula in C)."""
    if ch == 0:
        return ((r * 13 + c * 7) % 17) * 15.0
    return ((r * 5 + c * 11) % 19) * 13.0


def map_value(i, j):
    return ((i * 7 + j * 3) % 11) * 10.0 + i


def test_image(h, w, ch):
    img = np.zeros((h, w, ch))
    for r in range(h):
        for c in range(w):
            for k in range(ch):
                img[r, c, k] = test_value(r, c, k)
    return img


def per_channel(fn, img):
    return np.stack([fn(img[:, :, k]) for k in range(img.shape[2])], axis=2)


def keys(t, a=-0.5):
    t = np.abs(t)
    return np.where(t < 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                    np.where(t < 2, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, 0.0))


def tri(t):
    return np.maximum(0.0, 1.0 - np.abs(t))


def extend_index(k, n, mode):
    if mode == "edge":
        return min(max(k, 0), n - 1)
    if mode == "wrap":
        return k % n
    if mode == "reflect":
        k %= 2 * n
        return k if k < n else 2 * n - 1 - k
    return k if 0 <= k < n else None


def axis_matrix(n_out, n_in, a, b, kernel, radius, mode):
    """Weights W (n_out x n_in) and the weight left outside (constant mode) of the 1-D resampling
    that samples input coordinate x = a * (o + 0.5) + b at output o; antialiased (kernel
    stretched by |a|) when |a| > 1."""
    stretch = max(1.0, abs(a))
    W = np.zeros((n_out, n_in))
    out_w = np.zeros(n_out)
    for o in range(n_out):
        u = a * (o + 0.5) + b - 0.5
        taps = np.arange(int(np.floor(u - radius * stretch)), int(np.ceil(u + radius * stretch)) + 1)
        wt = kernel((taps - u) / stretch)
        wt = wt / wt.sum()
        for t, x in zip(taps, wt):
            k = extend_index(int(t), n_in, mode)
            if k is None:
                out_w[o] += x
            else:
                W[o, k] += x
    return W, out_w


def separable(img, out_h, out_w, ay, by, ax, bx, kernel, radius, mode, fill=0.0):
    Wy, oy = axis_matrix(out_h, img.shape[0], ay, by, kernel, radius, mode)
    Wx, ox = axis_matrix(out_w, img.shape[1], ax, bx, kernel, radius, mode)
    inside = np.outer(Wy.sum(1), Wx.sum(1))
    return per_channel(lambda ch: Wy @ ch @ Wx.T + fill * (1 - inside), img)


def rotate_bicubic(img, deg, mode):
    """Keys bicubic rotation, pixel by pixel, for the cases scipy cannot do (its order 3 is a
    B-spline)."""
    h, w, _ = img.shape
    t = np.deg2rad(deg)
    c, s = np.cos(t), np.sin(t)
    cx, cy = w / 2, h / 2
    out = np.zeros_like(img)
    for i in range(h):
        for j in range(w):
            xo, yo = j + 0.5 - cx, i + 0.5 - cy
            x = cx + c * xo - s * yo - 0.5
            y = cy + s * xo + c * yo - 0.5
            x0, y0 = int(np.floor(x)), int(np.floor(y))
            acc = np.zeros(img.shape[2])
            for ty in range(y0 - 1, y0 + 3):
                for tx in range(x0 - 1, x0 + 3):
                    wgt = keys(x - tx) * keys(y - ty)
                    acc += wgt * img[extend_index(ty, h, mode), extend_index(tx, w, mode)]
            out[i, j] = acc
    return out


def write_image_case(f, view, out):
    h, w, ch = out.shape
    f.write("image %s\nsize %d %d %d\n" % (view, h, w, ch))
    for r in range(h):
        f.write(" ".join("%.3f" % v for v in out[r].reshape(-1)) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    header = "# generated by scripts/make_augment_refs.py (scipy %s, numpy %s); do not edit\n" % (
        scipy.__version__, np.__version__)

    # the direction convention: rotate(90) is numpy.rot90 (counter-clockwise)
    sq = test_image(6, 6, 1)[:, :, 0]
    assert np.allclose(nd.rotate(sq, 90, reshape=False, order=1, mode="nearest"), np.rot90(sq))

    img2 = test_image(7, 10, 2)  # the first case of each file checks channels are kept apart
    img = img2[:, :, :1]
    with open(os.path.join(OUT, "rotate.txt"), "w") as f:
        f.write(header)
        f.write("# scipy.ndimage.rotate(reshape=False); bicubic by NumPy (Keys, a = -0.5)\n")
        for deg, interp, border, fill in [(10, "bilinear", "edge", None), (-10, "bilinear", "edge", None),
                                          (33, "bilinear", "constant", 0.25), (25, "bilinear", "reflect", None),
                                          (40, "bilinear", "wrap", None), (17, "nearest", "edge", None),
                                          (-23, "nearest", "constant", None)]:
            order = 0 if interp == "nearest" else 1
            cval = (fill or 0.0) * 1.0  # float images: full scale is 1
            out = per_channel(lambda ch: nd.rotate(ch, deg, reshape=False, order=order, mode=MODES[border],
                                                   cval=cval), img2 if deg == 10 else img)
            view = "rotate(%g, %s, %s%s)" % (deg, interp, border, ", fill=%g" % fill if fill else "")
            write_image_case(f, view, out)
        write_image_case(f, "rotate(10, bicubic, edge)", rotate_bicubic(img, 10, "edge"))
        write_image_case(f, "rotate(-35, bicubic, reflect)", rotate_bicubic(img, -35, "reflect"))

    with open(os.path.join(OUT, "scale.txt"), "w") as f:
        f.write(header)
        f.write("# zoom about the centre, same size: scipy.ndimage.affine_transform when enlarging,\n"
                "# NumPy separable antialiased weights when shrinking\n")
        h, w = img.shape[:2]
        for s, border, fill in [(1.3, "constant", None), (1.7, "edge", None), (1.25, "reflect", None)]:
            cy, cx = (h - 1) / 2, (w - 1) / 2
            out = per_channel(lambda ch: nd.affine_transform(ch, np.diag([1 / s, 1 / s]),
                                                             offset=[cy - cy / s, cx - cx / s], order=1,
                                                             mode=MODES[border], cval=0.0), img2 if s == 1.3 else img)
            write_image_case(f, "scale(%g, bilinear, %s)" % (s, border), out)
        for s, border, fill in [(0.8, "constant", 0.5), (0.6, "edge", None)]:
            a = 1 / s
            out = separable(img, h, w, a, h / 2 - a * h / 2, a, w / 2 - a * w / 2, tri, 1, border, fill or 0.0)
            write_image_case(f, "scale(%g, bilinear, %s%s)" % (s, border, ", fill=%g" % fill if fill else ""), out)

    with open(os.path.join(OUT, "resize.txt"), "w") as f:
        f.write(header)
        f.write("# enlarging: scipy.ndimage.zoom(grid_mode=True, mode='nearest'); shrinking (antialiased)\n"
                "# and bicubic: NumPy separable weights\n")
        h, w = img.shape[:2]
        out = per_channel(lambda ch: nd.zoom(ch, (11 / h, 17 / w), order=1, mode="nearest", grid_mode=True), img2)
        assert out.shape[:2] == (11, 17)
        write_image_case(f, "resize(11, 17)", out)
        write_image_case(f, "resize(5, 7)", separable(img, 5, 7, h / 5, 0, w / 7, 0, tri, 1, "edge"))
        write_image_case(f, "resize(4, 3)", separable(img, 4, 3, h / 4, 0, w / 3, 0, tri, 1, "edge"))
        write_image_case(f, "resize(9, 13, bicubic)", separable(img, 9, 13, h / 9, 0, w / 13, 0, keys, 2, "edge"))
        write_image_case(f, "resize(5, 4, bicubic)", separable(img, 5, 4, h / 5, 0, w / 4, 0, keys, 2, "edge"))

    with open(os.path.join(OUT, "invert.txt"), "w") as f:
        f.write(header)
        f.write("# dense-map inverse of a rotation: each original-frame map pixel centre p is rotated\n"
                "# into the view (q = c + R (p - c)), the view map is sampled there with\n"
                "# scipy.ndimage.map_coordinates(order=1, mode='nearest'); x marks p rotated out of\n"
                "# the image (invalid)\n")
        for H, W, S, deg in [(7, 10, 1, 10), (10, 12, 2, -20), (7, 10, 1, 90)]:
            mh, mw = -(-H // S), -(-W // S)
            M = np.array([[map_value(i, j) for j in range(mw)] for i in range(mh)])
            t = np.deg2rad(deg)
            c, s = np.cos(t), np.sin(t)
            f.write("dense %d rotate(%g, bilinear, edge)\nsize %d %d\nmap %d %d\n" % (S, deg, H, W, mh, mw))
            for i in range(mh):
                row = []
                for j in range(mw):
                    px, py = S * (j + 0.5) - W / 2, S * (i + 0.5) - H / 2
                    qx, qy = W / 2 + c * px + s * py, H / 2 - s * px + c * py
                    if qx < -1e-9 or qy < -1e-9 or qx > W + 1e-9 or qy > H + 1e-9:
                        row.append("x")
                        continue
                    v = nd.map_coordinates(M, [[qy / S - 0.5], [qx / S - 0.5]], order=1, mode="nearest")[0]
                    row.append("%.3f" % v)
                f.write(" ".join(row) + "\n")
    for name in ("rotate", "scale", "resize", "invert"):
        print("%s.txt: %d bytes" % (name, os.path.getsize(os.path.join(OUT, name + ".txt"))), file=sys.stderr)


if __name__ == "__main__":
    main()
