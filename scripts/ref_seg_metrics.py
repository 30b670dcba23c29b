#!/usr/bin/python3
"""ref_seg_metrics.py - an independent reference for src/segment/seg_metrics.c.

Computes the segmentation metrics and the uncertainty-quality figures from first principles
with numpy only, on seeded random and hand-made cases, and writes them with their inputs to
tests/data/segment/metrics_ref.txt, which tests/unit/test_seg_metrics.c reads back:

  - confusion matrix by np.bincount over truth * C + pred, pixels with the ignore truth left out;
  - per-class IoU = TP / (TP + FP + FN), Dice = 2 TP / (2 TP + FP + FN), both averaged over the
    classes present in truth or prediction (0 when none), mIoU_fg the same without class 0,
    pixel accuracy = trace / total;
  - boundary band: a pixel whose (2b+1) x (2b+1) window (clipped to the image) holds two
    different truth values, the ignore label being a value of its own, by explicit shifted
    max/min filters (O(H W b^2)); boundary mIoU = mIoU of the matrix of the band's scored pixels;
  - AUROC exactly by the Mann-Whitney rank statistic with average ranks for ties (wrong pixels
    = positives, higher uncertainty = more suspect);
  - AP exactly: distinct uncertainty values from high to low, each a tied group, AP = sum over
    groups of precision at the group's end * positives in the group / all positives;
  - risk at coverage c: error rate of the c * N least uncertain pixels, the group where the share
    ends contributing pro rata.
Undefined figures are -1 (AUROC without positives or negatives, AP without positives).

File format (whitespace-separated tokens, one keyword per line):
  seg NAME classes C ignore I boundary B images N
  image H W / truth v... / pred v...                (N times)
  counts v... (C*C) / bcounts v... (C*C, when B > 0)
  scores miou X miou_fg X dice X pixel_accuracy X boundary_miou X n_present N
  iou v... (C values, -1 for an absent class)
  end
  unc NAME bins K max M n N tol T
  u v... (float32, %.9g round-trips) / wrong v... (0 right, 1 wrong, 2 ignored)
  auroc X aupr X
  risk c X c X ...
  end
Run: /usr/bin/python3 scripts/ref_seg_metrics.py   (from the repository root)
"""
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "segment", "metrics_ref.txt")
COVERAGES = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]


# ---- segmentation metrics ----------------------------------------------------------------------

def confusion(truth, pred, classes, ignore):
    t = truth.astype(np.int64).ravel()
    p = pred.astype(np.int64).ravel()
    keep = t != ignore
    t, p = t[keep], p[keep]
    assert (t < classes).all() and (p < classes).all()
    return np.bincount(t * classes + p, minlength=classes * classes).reshape(classes, classes)


def band(truth, b):
    """1 where the clipped (2b+1)^2 window holds two truth values (explicit shifted filters)."""
    h, w = truth.shape
    t = truth.astype(np.int64)
    hi = np.full((h + 2 * b, w + 2 * b), -1, np.int64)
    lo = np.full((h + 2 * b, w + 2 * b), 10 ** 6, np.int64)
    hi[b:b + h, b:b + w] = t
    lo[b:b + h, b:b + w] = t
    mx = np.full((h, w), -1, np.int64)
    mn = np.full((h, w), 10 ** 6, np.int64)
    for dy in range(-b, b + 1):
        for dx in range(-b, b + 1):
            mx = np.maximum(mx, hi[b + dy:b + dy + h, b + dx:b + dx + w])
            mn = np.minimum(mn, lo[b + dy:b + dy + h, b + dx:b + dx + w])
    return mx != mn


def scores(m):
    m = m.astype(np.float64)
    tp = np.diag(m)
    row, col = m.sum(1), m.sum(0)
    present = (row + col) > 0
    iou = np.full(m.shape[0], -1.0)
    iou[present] = tp[present] / (row + col - tp)[present]
    dice = np.where(present, 2 * tp / np.maximum(row + col, 1), 0.0)
    n = int(present.sum())
    fg = present.copy()
    fg[0] = False
    return dict(
        miou=float(iou[present].mean()) if n else 0.0,
        miou_fg=float(iou[fg].mean()) if fg.any() else 0.0,
        dice=float(dice[present].mean()) if n else 0.0,
        pixel_accuracy=float(tp.sum() / m.sum()) if m.sum() else 0.0,
        n_present=n,
        iou=iou,
    )


def write_seg(f, name, classes, ignore, b, images):
    total = np.zeros((classes, classes), np.int64)
    btotal = np.zeros((classes, classes), np.int64)
    f.write("seg %s classes %d ignore %d boundary %d images %d\n" % (name, classes, ignore, b, len(images)))
    for truth, pred in images:
        h, w = truth.shape
        f.write("image %d %d\n" % (h, w))
        f.write("truth " + " ".join(map(str, truth.ravel())) + "\n")
        f.write("pred " + " ".join(map(str, pred.ravel())) + "\n")
        total += confusion(truth, pred, classes, ignore)
        if b > 0:
            bd = band(truth, b)
            btotal += confusion(truth[bd], pred[bd], classes, ignore)
    s = scores(total)
    f.write("counts " + " ".join(map(str, total.ravel())) + "\n")
    bm = -1.0
    if b > 0:
        f.write("bcounts " + " ".join(map(str, btotal.ravel())) + "\n")
        bm = scores(btotal)["miou"]
    f.write("scores miou %.17g miou_fg %.17g dice %.17g pixel_accuracy %.17g boundary_miou %.17g n_present %d\n"
            % (s["miou"], s["miou_fg"], s["dice"], s["pixel_accuracy"], bm, s["n_present"]))
    f.write("iou " + " ".join("%.17g" % v for v in s["iou"]) + "\n")
    f.write("end\n")


# ---- uncertainty quality -------------------------------------------------------------------------

def average_ranks(x):
    """1-based ranks of x, ties given the mean of the ranks they span."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    ranks = np.empty(len(x), np.float64)
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def auroc(u, wrong):
    pos, neg = int(wrong.sum()), int((~wrong).sum())
    if pos == 0 or neg == 0:
        return -1.0
    r = average_ranks(u.astype(np.float64))
    return float((r[wrong].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def groups(u, wrong):
    """Distinct values ascending with the pixel and positive counts of each."""
    vals, inv = np.unique(u, return_inverse=True)
    n = np.bincount(inv, minlength=len(vals)).astype(np.float64)
    p = np.bincount(inv, weights=wrong.astype(np.float64), minlength=len(vals))
    return vals, n, p


def average_precision(u, wrong):
    pos = int(wrong.sum())
    if pos == 0:
        return -1.0
    _, n, p = groups(u, wrong)
    tp = np.cumsum(p[::-1])
    seen = np.cumsum(n[::-1])
    return float(np.sum((tp / seen) * (p[::-1] / pos)))


def risk(u, wrong, c):
    _, n, p = groups(u, wrong)
    target = c * len(u)
    taken = errors = 0.0
    for k in range(len(n)):
        if taken >= target:
            break
        if taken + n[k] <= target:
            taken += n[k]
            errors += p[k]
        else:
            errors += (target - taken) / n[k] * p[k]
            taken = target
    return errors / target


def write_unc(f, name, bins, maxv, u, wrong3, tol):
    u = np.asarray(u, np.float32)
    wrong3 = np.asarray(wrong3, np.int64)
    keep = wrong3 != 2
    uu, ww = u[keep], wrong3[keep] == 1
    f.write("unc %s bins %d max %.17g n %d tol %g\n" % (name, bins, maxv, len(u), tol))
    f.write("u " + " ".join("%.9g" % v for v in u) + "\n")
    f.write("wrong " + " ".join(map(str, wrong3)) + "\n")
    f.write("auroc %.17g aupr %.17g\n" % (auroc(uu, ww), average_precision(uu, ww)))
    f.write("risk " + " ".join("%g %.17g" % (c, risk(uu, ww, c)) for c in COVERAGES) + "\n")
    f.write("end\n")


# ---- the cases ---------------------------------------------------------------------------------

def blocky(rng, h, w, classes, cell):
    """Random class regions: a coarse random grid upsampled to h x w."""
    g = rng.integers(0, classes, size=((h + cell - 1) // cell, (w + cell - 1) // cell))
    return np.kron(g, np.ones((cell, cell), np.int64))[:h, :w].astype(np.uint8)


def noisy(rng, truth, classes, rate):
    pred = truth.copy()
    flip = rng.random(truth.shape) < rate
    pred[flip] = rng.integers(0, classes, size=int(flip.sum()))
    return pred


def main():
    rng = np.random.default_rng(20240611)
    f = open(OUT, "w")
    f.write("# metrics_ref.txt - written by scripts/ref_seg_metrics.py (see its docstring for the format)\n")

    # seeded random: blocky truths with ignored patches, noisy predictions, several images
    imgs = []
    for (h, w) in [(20, 24), (17, 9), (32, 32)]:
        t = blocky(rng, h, w, 5, 4)
        p = noisy(rng, t, 5, 0.2)
        ig = rng.random(t.shape) < 0.05
        t[ig] = 255
        p[ig & (rng.random(t.shape) < 0.5)] = 200  # predictions at ignored pixels are never read
        imgs.append((t, p))
    for b in (1, 2, 3, 7):
        write_seg(f, "random_b%d" % b, 5, 255, b, imgs)
    write_seg(f, "random_noboundary", 5, 255, 0, imgs)
    # many classes, fine regions
    t = blocky(rng, 40, 40, 23, 3)
    write_seg(f, "random_23classes", 23, 255, 3, [(t, noisy(rng, t, 23, 0.3))])
    # one image at a time of the noisy set, boundary wider than the image
    write_seg(f, "random_b50", 5, 255, 50, imgs[1:2])

    # hand-made: class 5 absent everywhere, class 4 only predicted, class 3 only in truth
    t = np.array([[0, 0, 1, 1], [0, 2, 2, 1], [3, 3, 2, 1]], np.uint8)
    p = np.array([[0, 4, 1, 1], [0, 2, 1, 1], [2, 0, 2, 4]], np.uint8)
    write_seg(f, "absent_and_predicted_only", 6, 255, 1, [(t, p)])
    # an ignore label other than 255, ignored regions next to classes
    t = np.array([[0, 0, 9, 9, 1], [0, 0, 9, 1, 1], [2, 2, 2, 1, 1], [2, 9, 9, 9, 1]], np.uint8)
    p = np.array([[0, 1, 7, 0, 1], [0, 0, 3, 1, 1], [2, 2, 1, 1, 0], [2, 8, 9, 5, 1]], np.uint8)
    write_seg(f, "ignore_9", 3, 9, 1, [(t, p)])
    # all correct and all wrong images, together and alone
    t = blocky(rng, 12, 12, 4, 3)
    allright = (t, t.copy())
    allwrong = (t, ((t + 1) % 4).astype(np.uint8))
    write_seg(f, "all_correct", 4, 255, 2, [allright])
    write_seg(f, "all_wrong", 4, 255, 2, [allwrong])
    write_seg(f, "correct_plus_wrong", 4, 255, 2, [allright, allwrong])
    # background only: no foreground class, no boundary
    z = np.zeros((6, 7), np.uint8)
    write_seg(f, "background_only", 3, 255, 2, [(z, z.copy())])
    # everything ignored: an empty matrix
    write_seg(f, "all_ignored", 3, 255, 1, [(np.full((4, 4), 255, np.uint8), np.zeros((4, 4), np.uint8))])
    # lines: 1 x W and H x 1 images
    t1 = np.array([[0, 0, 1, 1, 1, 2, 0]], np.uint8)
    t2 = t1.T.copy()
    write_seg(f, "lines", 3, 255, 1, [(t1, noisy(rng, t1, 3, 0.4)), (t2, noisy(rng, t2, 3, 0.4))])
    # one class
    o = np.zeros((3, 5), np.uint8)
    o[1, 2] = 255
    write_seg(f, "one_class", 1, 255, 1, [(o, np.zeros((3, 5), np.uint8))])

    # uncertainty: values on the 2^16 grid (bin k holds exactly k / 65536) -> exact figures
    K = 65536
    n = 1500
    k = rng.integers(0, 40, size=n)                          # few values: many ties
    w = (rng.random(n) < 0.15 + 0.6 * k / 40).astype(np.int64)  # more errors where more uncertain
    w[rng.random(n) < 0.05] = 2
    write_unc(f, "grid_ties", K, 1.0, k / K, w, 1e-9)
    k = rng.integers(0, K, size=n)
    w = (rng.random(n) < k / K).astype(np.int64)
    write_unc(f, "grid_wide", K, 1.0, k / K, w, 1e-9)
    # hand-made: two values, all tied, perfect and inverted detectors
    write_unc(f, "tiny", K, 1.0, np.array([0, 1, 1, 2, 3, 3, 3, 5]) / K, [0, 0, 1, 0, 1, 0, 1, 1], 1e-12)
    write_unc(f, "all_tied", K, 1.0, np.full(10, 7.0 / K), [0, 1, 0, 1, 1, 0, 0, 0, 2, 1], 1e-12)
    write_unc(f, "perfect", K, 1.0, np.array([1, 2, 3, 10, 11, 12]) / K, [0, 0, 0, 1, 1, 1], 1e-12)
    write_unc(f, "inverted", K, 1.0, np.array([1, 2, 3, 10, 11, 12]) / K, [1, 1, 1, 0, 0, 0], 1e-12)
    write_unc(f, "all_correct", K, 1.0, np.array([1, 2, 3]) / K, [0, 0, 0], 1e-12)
    write_unc(f, "all_wrong", K, 1.0, np.array([1, 2, 2]) / K, [1, 1, 1], 1e-12)
    # a maximum of 4 (a power of two: the grid stays exact): entropies up to log 23 ~ 3.1
    k = rng.integers(0, K, size=500)
    write_unc(f, "grid_max4", K, 4.0, k * 4.0 / K, (rng.random(500) < 0.3).astype(np.int64), 1e-9)
    # continuous values (float32): the binned figures within 1e-3 of the exact ones
    u = rng.random(3000).astype(np.float32)
    w = (rng.random(3000) < 0.1 + 0.5 * u).astype(np.int64)
    write_unc(f, "continuous", K, 1.0, u, w, 1e-3)
    f.close()
    size = os.path.getsize(OUT)
    print("wrote %s (%d bytes)" % (os.path.relpath(OUT), size))
    if size > 200000:
        sys.exit("reference file too large")


if __name__ == "__main__":
    main()
