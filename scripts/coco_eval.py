"""coco_eval.py - detection post-processing and COCO-style mAP in numpy, for the shipped detector.

    nms(boxes, scores, iou)                      greedy NMS, indices kept (by descending score)
    postprocess(out, score_thr, iou, max_det)    one image's YOLOv8-layout output [4 + C, A] ->
                                                 boxes x0,y0,x1,y1, scores, labels (per-class NMS)
    coco_map(dets, gts, num_classes)             {"map": mAP@[.5:.95], "map50": mAP@.5,
                                                  "map75": ..., "per_class": [...]}

The metric follows the COCO evaluation (pycocotools) without area ranges: per class and IoU
threshold t in 0.50:0.05:0.95, each image's detections are taken in descending score (at most
max_det per image), and the detections of all images are sorted by score; each detection matches
the unmatched ground-truth box of its image and class with the highest IoU >= t (true positive)
or is a false positive. AP is the 101-point interpolated area under the precision envelope;
mAP averages over thresholds and over the classes that have ground truth. Boxes are corners in
continuous pixel coordinates, so IoU uses widths x1 - x0 (no +1).

Run directly for a self-check on hand-made cases.
"""

import numpy as np

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def box_iou(a, b):
    """IoU matrix [len(a), len(b)] of corner boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ix0 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy0 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix1 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes, scores, iou=0.6):
    order = np.argsort(-scores, kind="stable")
    boxes = boxes[order]
    ious = box_iou(boxes, boxes)
    keep = []
    suppressed = np.zeros(len(order), bool)
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(order[i])
        suppressed |= ious[i] > iou
    return np.asarray(keep, np.int64)


def postprocess(out, score_thr=0.001, iou=0.6, max_det=100, pre_nms=1000):
    """Decodes one image's [4 + C, A] output (cx, cy, w, h, class scores): every (anchor, class)
    with score > score_thr is a candidate; per-class NMS; the best max_det are kept."""
    out = np.asarray(out, np.float32)
    cxcywh, scores = out[:4].T, out[4:].T  # [A, 4], [A, C]
    a_idx, c_idx = np.nonzero(scores > score_thr)
    s = scores[a_idx, c_idx]
    if len(s) > pre_nms:
        top = np.argsort(-s, kind="stable")[:pre_nms]
        a_idx, c_idx, s = a_idx[top], c_idx[top], s[top]
    b = cxcywh[a_idx]
    boxes = np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2,
                      b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], 1)
    keep = []
    for c in np.unique(c_idx):
        idx = np.nonzero(c_idx == c)[0]
        keep.extend(idx[nms(boxes[idx], s[idx], iou)])
    keep = np.asarray(keep, np.int64)
    keep = keep[np.argsort(-s[keep], kind="stable")][:max_det]
    return boxes[keep], s[keep], c_idx[keep]


def average_precision(tp, scores, npos):
    """101-point interpolated AP of detections (tp flags) sorted here by descending score."""
    if npos == 0:
        return float("nan")
    if len(tp) == 0:
        return 0.0
    order = np.argsort(-scores, kind="mergesort")
    tp = tp[order].astype(np.float64)
    ctp, cfp = np.cumsum(tp), np.cumsum(1 - tp)
    recall = ctp / npos
    precision = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # the envelope
    idx = np.searchsorted(recall, RECALL_POINTS, side="left")
    return float(np.mean(np.where(idx < len(precision), precision[np.minimum(idx, len(precision) - 1)], 0.0)))


def coco_map(dets, gts, num_classes, max_det=100):
    """dets: per image (boxes [k,4], scores [k], labels [k]); gts: per image (boxes [m,4], labels [m])."""
    ap = np.full((num_classes, len(IOU_THRESHOLDS)), np.nan)
    for c in range(num_classes):
        npos = sum(int((gl == c).sum()) for _, gl in gts)
        all_scores, all_tp = [], [[] for _ in IOU_THRESHOLDS]
        for (db, ds, dl), (gb, gl) in zip(dets, gts):
            o = np.argsort(-ds, kind="mergesort")[:max_det]
            db, ds, dl = db[o], ds[o], dl[o]
            d = dl == c
            db, ds = db[d], ds[d]
            g = gb[gl == c]
            if len(ds) == 0:
                continue
            all_scores.append(ds)
            ious = box_iou(db, g)
            for ti, t in enumerate(IOU_THRESHOLDS):
                matched = np.zeros(len(g), bool)
                tp = np.zeros(len(ds), bool)
                for k in range(len(ds)):  # already in descending score
                    if len(g) == 0:
                        break
                    cand = np.where(matched, -1.0, ious[k])
                    j = int(np.argmax(cand))
                    if cand[j] >= t:
                        matched[j] = True
                        tp[k] = True
                all_tp[ti].append(tp)
        scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
        for ti in range(len(IOU_THRESHOLDS)):
            tp = np.concatenate(all_tp[ti]) if all_tp[ti] else np.zeros(0, bool)
            ap[c, ti] = average_precision(tp, scores, npos)
    valid = ~np.isnan(ap[:, 0])
    return {"map": float(np.mean(ap[valid])), "map50": float(np.mean(ap[valid, 0])),
            "map75": float(np.mean(ap[valid, 5])), "per_class": np.nanmean(ap, 1).tolist(),
            "per_class50": ap[:, 0].tolist()}


if __name__ == "__main__":
    g = (np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32), np.array([0, 1]))
    # perfect detections: AP 1
    perfect = (g[0], np.array([0.9, 0.8]), g[1])
    r = coco_map([perfect], [g], 2)
    assert abs(r["map"] - 1) < 1e-9 and abs(r["map50"] - 1) < 1e-9, r
    # a box shifted by 2 px: IoU 8*10/(120) = 0.667 -> TP at t <= 0.65 only (4 of 10 thresholds)
    shifted = (np.array([[2, 0, 12, 10], [20, 20, 30, 30]], np.float32), np.array([0.9, 0.8]), g[1])
    r = coco_map([shifted], [g], 2)
    assert abs(r["per_class"][0] - 0.4) < 1e-9 and abs(r["per_class"][1] - 1) < 1e-9, r
    # a false positive above the true one: precision 1/2 at recall 1 -> AP 0.5
    fp = (np.array([[40, 40, 50, 50], [0, 0, 10, 10]], np.float32), np.array([0.9, 0.8]), np.array([0, 0]))
    r = coco_map([fp], [(g[0][:1], g[1][:1])], 1)
    assert abs(r["map"] - 0.5) < 1e-9, r
    # missed object: recall 1/2 -> AP = 51/101
    r = coco_map([(g[0][:1], np.array([0.5]), np.array([0]))], [(np.concatenate([g[0][:1], g[0][1:] + 40]),
                                                                   np.array([0, 0]))], 1)
    assert abs(r["map"] - 51 / 101) < 1e-9, r
    # duplicates are false positives
    dup = (np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32), np.array([0.9, 0.8]), np.array([0, 0]))
    r = coco_map([dup], [(g[0][:1], g[1][:1])], 1)
    assert abs(r["map"] - 1) < 1e-9, r  # the duplicate comes after full recall: envelope keeps 1
    # NMS and postprocess
    b = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [30, 30, 40, 40]], np.float32)
    assert nms(b, np.array([0.5, 0.9, 0.3])).tolist() == [1, 2]
    out = np.zeros((4 + 2, 3), np.float32)
    out[:4] = np.array([[5, 5, 10, 10], [6, 5, 10, 10], [35, 35, 10, 10]], np.float32).T
    out[4:] = np.array([[0.5, 0.0], [0.9, 0.0], [0.0, 0.3]], np.float32).T
    bx, sc, lb = postprocess(out)
    assert lb.tolist() == [0, 1] and np.allclose(sc, [0.9, 0.3]) and np.allclose(bx[0], [1, 0, 11, 10]), (bx, sc, lb)
    print("coco_eval self-check passed")
