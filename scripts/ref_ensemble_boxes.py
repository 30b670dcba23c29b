#!/usr/bin/python3
"""ref_ensemble_boxes.py - an independent reference for tta_fuse_boxes (src/detect/fuse*.c).

Transliterates ensemble-boxes (Roman Solovyev, https://github.com/ZFTurbo/Weighted-Boxes-Fusion,
MIT licence; package ensemble-boxes 1.0.9) in numpy, step for step:
  - weighted_boxes_fusion, prefilter_boxes, get_weighted_box, find_matching_box_fast
      <- ensemble_boxes/ensemble_boxes_wbf.py (1.0.9; the same code as commit 0e813bb6, where
         find_matching_box_fast was still called find_matching_box_quickly)
  - nms_method, prepare_boxes, cpu_soft_nms_float (method 1 linear, 2 Gaussian soft-NMS),
    nms_float_fast (method 3 hard NMS)
      <- ensemble_boxes/ensemble_boxes_nms.py (commit 29739431, numba decorators dropped)
  - non_maximum_weighted and its prefilter_boxes / get_weighted_box / find_matching_box
      <- ensemble_boxes/ensemble_boxes_nmw.py (commit 29739431)
and writes reference vectors to tests/data/detect/fuse/cases.txt, which tests/unit/test_fuse.c
checks tta_fuse_boxes against.

Coordinates: upstream works on [0, 1] and clips to it; tta works in pixels and does not clip.
The scenes here are boxes inside a 100 x 100 image: the script feeds upstream's functions the
corners divided by 100 (clipping then changes nothing) and writes the results times 100, so the
vectors also check that pixel coordinates give the same boxes as normalised ones.

What tta adds that upstream has not, marked "tta:" below: the fused box's view (that of its
cluster's best box) and support (distinct views among the boxes fused into it, or suppressed
by it; for soft-NMS those later boxes whose IoU with it exceeded iou_thr when it was picked),
skip_thr for NMS and soft-NMS (drops raw scores below it before anything else), max_det, and
the output order (score descending; no ties occur in these cases).

Option values are rounded to float32 first, as tta_fuse_options stores them. Inputs are
float32-exact (scores float32, corners multiples of 1/64). Cases whose scores tie are redrawn:
upstream's argsort is not stable.

Usage: /usr/bin/python3 scripts/ref_ensemble_boxes.py [OUT_FILE]   (numpy only; fixed seed)
"""
import os
import sys
import warnings

import numpy as np

IMG = 100.0  # the scenes' image side; upstream sees corners / IMG


def f32(x):
    return float(np.float32(x))


# ---------------------------------------------------------------- ensemble_boxes_wbf.py (1.0.9)

def bb_intersection_over_union(A, B):
    xA = max(A[0], B[0])
    yA = max(A[1], B[1])
    xB = min(A[2], B[2])
    yB = min(A[3], B[3])
    interArea = max(0, xB - xA) * max(0, yB - yA)
    if interArea == 0:
        return 0.0
    boxAArea = (A[2] - A[0]) * (A[3] - A[1])
    boxBArea = (B[2] - B[0]) * (B[3] - B[1])
    return interArea / float(boxAArea + boxBArea - interArea)


def _check_box(x1, y1, x2, y2):
    """The box data checks of prefilter_boxes (wbf and nmw): swap, clip to [0, 1]."""
    if x2 < x1:
        warnings.warn('X2 < X1 value in box. Swap them.')
        x1, x2 = x2, x1
    if y2 < y1:
        warnings.warn('Y2 < Y1 value in box. Swap them.')
        y1, y2 = y2, y1
    x1 = min(max(x1, 0), 1)
    x2 = min(max(x2, 0), 1)
    y1 = min(max(y1, 0), 1)
    y2 = min(max(y2, 0), 1)
    return x1, y1, x2, y2


def wbf_prefilter_boxes(boxes, scores, labels, weights, thr):
    new_boxes = dict()
    for t in range(len(boxes)):
        assert len(boxes[t]) == len(scores[t]) == len(labels[t])
        for j in range(len(boxes[t])):
            score = scores[t][j]
            if score < thr:
                continue
            label = int(labels[t][j])
            x1, y1, x2, y2 = _check_box(*[float(v) for v in boxes[t][j]])
            if (x2 - x1) * (y2 - y1) == 0.0:
                warnings.warn('Zero area box skipped')
                continue
            # [label, score, weight, model index, x1, y1, x2, y2]
            b = [int(label), float(score) * weights[t], weights[t], t, x1, y1, x2, y2]
            new_boxes.setdefault(label, []).append(b)
    for k in new_boxes:
        current = np.array(new_boxes[k])
        new_boxes[k] = current[current[:, 1].argsort()[::-1]]
    return new_boxes


def wbf_get_weighted_box(boxes, conf_type='avg'):
    box = np.zeros(8, dtype=np.float32)  # upstream's float32 accumulator, kept
    conf = 0
    conf_list = []
    w = 0
    for b in boxes:
        box[4:] += (b[1] * b[4:])
        conf += b[1]
        conf_list.append(b[1])
        w += b[2]
    box[0] = boxes[0][0]
    if conf_type in ('avg', 'box_and_model_avg', 'absent_model_aware_avg'):
        box[1] = conf / len(boxes)
    elif conf_type == 'max':
        box[1] = np.array(conf_list).max()
    box[2] = w
    box[3] = -1
    box[4:] /= conf
    return box


def find_matching_box_fast(boxes_list, new_box, match_iou):
    def bb_iou_array(boxes, nb):
        xA = np.maximum(boxes[:, 0], nb[0])
        yA = np.maximum(boxes[:, 1], nb[1])
        xB = np.minimum(boxes[:, 2], nb[2])
        yB = np.minimum(boxes[:, 3], nb[3])
        interArea = np.maximum(xB - xA, 0) * np.maximum(yB - yA, 0)
        boxAArea = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        boxBArea = (nb[2] - nb[0]) * (nb[3] - nb[1])
        return interArea / (boxAArea + boxBArea - interArea)

    if boxes_list.shape[0] == 0:
        return -1, match_iou
    ious = bb_iou_array(boxes_list[:, 4:], new_box[4:])
    ious[boxes_list[:, 0] != new_box[0]] = -1
    best_idx = np.argmax(ious)
    best_iou = ious[best_idx]
    if best_iou <= match_iou:
        best_iou = match_iou
        best_idx = -1
    return best_idx, best_iou


def weighted_boxes_fusion(boxes_list, scores_list, labels_list, weights=None, iou_thr=0.55, skip_box_thr=0.0,
                          conf_type='avg', allows_overflow=False):
    """Returns boxes, scores, labels and (tta) views, supports."""
    if weights is None:
        weights = np.ones(len(boxes_list))
    assert len(weights) == len(boxes_list)
    weights = np.array(weights)
    assert conf_type in ['avg', 'max', 'box_and_model_avg', 'absent_model_aware_avg']

    filtered_boxes = wbf_prefilter_boxes(boxes_list, scores_list, labels_list, weights, skip_box_thr)
    if len(filtered_boxes) == 0:
        return np.zeros((0, 4)), np.zeros((0,)), np.zeros((0,)), np.zeros((0,)), np.zeros((0,))

    overall_boxes = []
    extra = []  # tta: (view, support) per fused box, in overall_boxes' row order
    for label in filtered_boxes:
        boxes = filtered_boxes[label]
        new_boxes = []
        weighted_boxes = np.empty((0, 8))
        for j in range(0, len(boxes)):
            index, best_iou = find_matching_box_fast(weighted_boxes, boxes[j], iou_thr)
            if index != -1:
                new_boxes[index].append(boxes[j])
                weighted_boxes[index] = wbf_get_weighted_box(new_boxes[index], conf_type)
            else:
                new_boxes.append([boxes[j].copy()])
                weighted_boxes = np.vstack((weighted_boxes, boxes[j].copy()))
        for i in range(len(new_boxes)):
            clustered_boxes = new_boxes[i]
            if conf_type == 'box_and_model_avg':
                clustered_boxes = np.array(clustered_boxes)
                weighted_boxes[i, 1] = weighted_boxes[i, 1] * len(clustered_boxes) / weighted_boxes[i, 2]
                _, idx = np.unique(clustered_boxes[:, 3], return_index=True)
                weighted_boxes[i, 1] = weighted_boxes[i, 1] * clustered_boxes[idx, 2].sum() / weights.sum()
            elif conf_type == 'absent_model_aware_avg':
                clustered_boxes = np.array(clustered_boxes)
                models = np.unique(clustered_boxes[:, 3]).astype(int)
                mask = np.ones(len(weights), dtype=bool)
                mask[models] = False
                weighted_boxes[i, 1] = weighted_boxes[i, 1] * len(clustered_boxes) / (
                    weighted_boxes[i, 2] + weights[mask].sum())
            elif conf_type == 'max':
                weighted_boxes[i, 1] = weighted_boxes[i, 1] / weights.max()
            elif not allows_overflow:
                weighted_boxes[i, 1] = weighted_boxes[i, 1] * min(len(weights), len(clustered_boxes)) / weights.sum()
            else:
                weighted_boxes[i, 1] = weighted_boxes[i, 1] * len(clustered_boxes) / weights.sum()
            # tta: the view of the cluster's first (best) box, distinct views in the cluster
            members = np.array(new_boxes[i])
            extra.append((int(members[0, 3]), len(np.unique(members[:, 3]))))
        overall_boxes.append(weighted_boxes)
    overall_boxes = np.concatenate(overall_boxes, axis=0)
    extra = np.array(extra)
    order = overall_boxes[:, 1].argsort()[::-1]
    overall_boxes = overall_boxes[order]
    extra = extra[order]
    return overall_boxes[:, 4:], overall_boxes[:, 1], overall_boxes[:, 0], extra[:, 0], extra[:, 1]


# ---------------------------------------------------------------- ensemble_boxes_nms.py

def prepare_boxes(boxes, scores, labels, views):
    result_boxes = boxes.copy()
    result_boxes[result_boxes < 0] = 0
    result_boxes[result_boxes > 1] = 1
    boxes1 = result_boxes.copy()
    result_boxes[:, 0] = np.min(boxes1[:, [0, 2]], axis=1)
    result_boxes[:, 2] = np.max(boxes1[:, [0, 2]], axis=1)
    result_boxes[:, 1] = np.min(boxes1[:, [1, 3]], axis=1)
    result_boxes[:, 3] = np.max(boxes1[:, [1, 3]], axis=1)
    area = (result_boxes[:, 2] - result_boxes[:, 0]) * (result_boxes[:, 3] - result_boxes[:, 1])
    keep = area > 0  # upstream removes area == 0
    return result_boxes[keep], scores[keep], labels[keep], views[keep]


def cpu_soft_nms_float(dets, sc, Nt, sigma, thresh, method, views):
    """Returns keep (indices into dets) and (tta) the support of each kept index."""
    N = dets.shape[0]
    indexes = np.array([np.arange(N)])
    dets = np.concatenate((dets, indexes.T), axis=1)
    y1 = dets[:, 1]
    x1 = dets[:, 0]
    y2 = dets[:, 3]
    x2 = dets[:, 2]
    scores = sc
    areas = (x2 - x1) * (y2 - y1)
    support = {}  # tta
    for i in range(N):
        tBD = dets[i, :].copy()
        tscore = scores[i].copy()
        tarea = areas[i].copy()
        pos = i + 1
        if i != N - 1:
            maxscore = np.max(scores[pos:], axis=0)
            maxpos = np.argmax(scores[pos:], axis=0)
        else:
            maxscore = scores[-1]
            maxpos = 0
        if tscore < maxscore:
            dets[i, :] = dets[maxpos + i + 1, :]
            dets[maxpos + i + 1, :] = tBD
            scores[i] = scores[maxpos + i + 1]
            scores[maxpos + i + 1] = tscore
            areas[i] = areas[maxpos + i + 1]
            areas[maxpos + i + 1] = tarea
        xx1 = np.maximum(dets[i, 1], dets[pos:, 1])
        yy1 = np.maximum(dets[i, 0], dets[pos:, 0])
        xx2 = np.minimum(dets[i, 3], dets[pos:, 3])
        yy2 = np.minimum(dets[i, 2], dets[pos:, 2])
        w = np.maximum(0.0, xx2 - xx1)
        h = np.maximum(0.0, yy2 - yy1)
        inter = w * h
        ovr = inter / (areas[i] + areas[pos:] - inter)
        if method == 1:  # linear
            weight = np.ones(ovr.shape)
            weight[ovr > Nt] = weight[ovr > Nt] - ovr[ovr > Nt]
        elif method == 2:  # gaussian
            weight = np.exp(-(ovr * ovr) / sigma)
        else:  # original NMS
            weight = np.ones(ovr.shape)
            weight[ovr > Nt] = 0
        scores[pos:] = weight * scores[pos:]
        # tta: the picked box and every later box with IoU > Nt
        me = int(dets[i, 4])
        later = dets[pos:, 4][ovr > Nt].astype(int)
        support[me] = len(set([int(views[me])] + [int(views[k]) for k in later]))
    inds = dets[:, 4][scores > thresh]
    keep = inds.astype(int)
    return keep, support


def nms_float_fast(dets, scores, thresh, views):
    """Returns keep and (tta) the support of each kept index."""
    x1 = dets[:, 0]
    y1 = dets[:, 1]
    x2 = dets[:, 2]
    y2 = dets[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    order = scores.argsort()[::-1]
    keep = []
    support = {}  # tta
    while order.size > 0:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(x1[i], x1[order[1:]])
        yy1 = np.maximum(y1[i], y1[order[1:]])
        xx2 = np.minimum(x2[i], x2[order[1:]])
        yy2 = np.minimum(y2[i], y2[order[1:]])
        w = np.maximum(0.0, xx2 - xx1)
        h = np.maximum(0.0, yy2 - yy1)
        inter = w * h
        ovr = inter / (areas[i] + areas[order[1:]] - inter)
        inds = np.where(ovr <= thresh)[0]
        gone = order[1:][ovr > thresh]  # tta
        support[int(i)] = len(set([int(views[i])] + [int(views[k]) for k in gone]))
        order = order[inds + 1]
    return keep, support


def nms_method(boxes, scores, labels, method=3, iou_thr=0.5, sigma=0.5, thresh=0.001, weights=None):
    """Returns boxes, scores, labels and (tta) views, supports."""
    scores = [np.array(s, dtype=np.float64) for s in scores]
    if weights is not None:
        assert len(boxes) == len(weights)
        weights = np.array(weights)
        for i in range(len(weights)):
            scores[i] = (np.array(scores[i]) * weights[i]) / weights.sum()
    views = np.concatenate([np.full(len(b), t) for t, b in enumerate(boxes)])  # tta
    boxes = np.concatenate([np.array(b, dtype=np.float64).reshape(-1, 4) for b in boxes])
    scores = np.concatenate(scores)
    labels = np.concatenate([np.array(l) for l in labels])
    boxes, scores, labels, views = prepare_boxes(boxes, scores, labels, views)
    out = [[], [], [], [], []]
    for l in np.unique(labels):
        cond = labels == l
        b, s, v = boxes[cond], scores[cond], views[cond]
        if method != 3:
            keep, sup = cpu_soft_nms_float(b.copy(), s.copy(), Nt=iou_thr, sigma=sigma, thresh=thresh,
                                           method=method, views=v)
        else:
            keep, sup = nms_float_fast(b, s, thresh=iou_thr, views=v)
        keep = np.array(keep, dtype=int)
        out[0].append(b[keep])
        out[1].append(s[keep])  # upstream returns the undecayed scores
        out[2].append(np.full(len(keep), l))
        out[3].append(v[keep])
        out[4].append(np.array([sup[int(k)] for k in keep], dtype=int))
    if not out[0]:
        return np.zeros((0, 4)), np.zeros((0,)), np.zeros((0,)), np.zeros((0,)), np.zeros((0,))
    return tuple(np.concatenate(x) for x in out)


# ---------------------------------------------------------------- ensemble_boxes_nmw.py
# tta: each row carries the box's view in a 7th column, so the corners are b[2:6], not b[2:].

def nmw_prefilter_boxes(boxes, scores, labels, weights, thr):
    new_boxes = dict()
    for t in range(len(boxes)):
        for j in range(len(boxes[t])):
            score = scores[t][j]
            if score < thr:
                continue
            label = int(labels[t][j])
            x1, y1, x2, y2 = _check_box(*[float(v) for v in boxes[t][j]])
            if (x2 - x1) * (y2 - y1) == 0.0:
                warnings.warn('Zero area box skipped')
                continue
            b = [int(label), float(score) * weights[t], x1, y1, x2, y2, t]
            new_boxes.setdefault(label, []).append(b)
    for k in new_boxes:
        current = np.array(new_boxes[k])
        new_boxes[k] = current[current[:, 1].argsort()[::-1]]
    return new_boxes


def nmw_get_weighted_box(boxes):
    box = np.zeros(6, dtype=np.float32)
    best_box = boxes[0]
    conf = 0
    for b in boxes:
        iou = bb_intersection_over_union(b[2:6], best_box[2:6])
        weight = b[1] * iou
        box[2:] += (weight * b[2:6])
        conf += weight
    box[0] = best_box[0]
    box[1] = best_box[1]
    box[2:] /= conf
    return box


def nmw_find_matching_box(boxes_list, new_box, match_iou):
    best_iou = match_iou
    best_index = -1
    for i in range(len(boxes_list)):
        box = boxes_list[i]
        if box[0] != new_box[0]:
            continue
        iou = bb_intersection_over_union(box[2:6], new_box[2:6])
        if iou > best_iou:
            best_index = i
            best_iou = iou
    return best_index, best_iou


def non_maximum_weighted(boxes_list, scores_list, labels_list, weights=None, iou_thr=0.55, skip_box_thr=0.0):
    """Returns boxes, scores, labels and (tta) views, supports."""
    if weights is None:
        weights = np.ones(len(boxes_list))
    weights = np.array(weights)
    scores_list = list(scores_list)
    for i in range(len(weights)):
        scores_list[i] = (np.array(scores_list[i]) * weights[i]) / weights.sum()
    filtered_boxes = nmw_prefilter_boxes(boxes_list, scores_list, labels_list, weights, skip_box_thr)
    if len(filtered_boxes) == 0:
        return np.zeros((0, 4)), np.zeros((0,)), np.zeros((0,)), np.zeros((0,)), np.zeros((0,))
    overall_boxes = []
    extra = []  # tta
    for label in filtered_boxes:
        boxes = filtered_boxes[label]
        new_boxes = []
        main_boxes = []
        for j in range(0, len(boxes)):
            index, best_iou = nmw_find_matching_box(main_boxes, boxes[j], iou_thr)
            if index != -1:
                new_boxes[index].append(boxes[j].copy())
            else:
                new_boxes.append([boxes[j].copy()])
                main_boxes.append(boxes[j].copy())
        for j in range(0, len(new_boxes)):
            overall_boxes.append(nmw_get_weighted_box(new_boxes[j]).copy())
            members = np.array(new_boxes[j])
            extra.append((int(members[0, 6]), len(np.unique(members[:, 6]))))
    overall_boxes = np.array(overall_boxes)
    extra = np.array(extra)
    order = overall_boxes[:, 1].argsort()[::-1]
    overall_boxes = overall_boxes[order]
    extra = extra[order]
    return overall_boxes[:, 2:], overall_boxes[:, 1], overall_boxes[:, 0], extra[:, 0], extra[:, 1]


# ---------------------------------------------------------------- the cases

METHODS = ('nms', 'soft-nms-gaussian', 'soft-nms-linear', 'nmw', 'wbf')


def run_case(c):
    """Runs one case through upstream's function; returns rows (label, score, x1, y1, x2, y2, view,
    support) in pixels, sorted as tta sorts, cut at max_det."""
    nv = c['views']
    boxes = [[] for _ in range(nv)]
    scores = [[] for _ in range(nv)]
    labels = [[] for _ in range(nv)]
    for (v, l, s, x1, y1, x2, y2) in c['boxes']:
        if c['method'] in ('nms', 'soft-nms-gaussian', 'soft-nms-linear') and s < c['skip_thr']:
            continue  # tta: skip_thr for NMS and soft-NMS (upstream has none)
        boxes[v].append([x1 / IMG, y1 / IMG, x2 / IMG, y2 / IMG])
        scores[v].append(s)
        labels[v].append(l)
    boxes = [np.array(b, dtype=np.float64).reshape(-1, 4) for b in boxes]
    w = c['weights']
    m = c['method']
    if m == 'wbf':
        r = weighted_boxes_fusion(boxes, scores, labels, weights=w, iou_thr=c['iou_thr'], skip_box_thr=c['skip_thr'],
                                  conf_type=c['conf_type'], allows_overflow=bool(c['allows_overflow']))
    elif m == 'nmw':
        r = non_maximum_weighted(boxes, scores, labels, weights=w, iou_thr=c['iou_thr'], skip_box_thr=c['skip_thr'])
    else:
        method = {'nms': 3, 'soft-nms-linear': 1, 'soft-nms-gaussian': 2}[m]
        r = nms_method(boxes, scores, labels, method=method, iou_thr=c['iou_thr'], sigma=c['sigma'],
                       thresh=c['score_thr'], weights=w)
    fb, fs, fl, fv, fsup = r
    rows = [(int(fl[i]), float(fs[i]), *(float(x) * IMG for x in fb[i]), int(fv[i]), int(fsup[i]))
            for i in range(len(fs))]
    rows.sort(key=lambda t: -t[1])
    if c['max_det'] > 0:
        rows = rows[:c['max_det']]
    return rows


def q(x):
    """A corner on the 1/64 grid inside the image (float32-exact)."""
    return float(np.clip(np.round(x * 64) / 64, 0, IMG))


def scene(rng, nv, ncls, nobj, p_detect=0.8, jitter=2.0, n_fp=2, zero_area=False):
    """Objects seen by each view with probability p_detect, corners jittered, plus false positives."""
    objs = []
    for _ in range(nobj):
        w, h = rng.uniform(6, 40), rng.uniform(6, 40)
        x, y = rng.uniform(0, IMG - w), rng.uniform(0, IMG - h)
        objs.append((int(rng.integers(ncls)), x, y, x + w, y + h))
    out = []
    for v in range(nv):
        for (l, x1, y1, x2, y2) in objs:
            k = 1 + (rng.random() < 0.2)  # sometimes two boxes of one view on one object
            for _ in range(k):
                if rng.random() > p_detect:
                    continue
                j = rng.normal(0, jitter, 4)
                a, b = sorted((q(x1 + j[0]), q(x2 + j[2])))
                c_, d = sorted((q(y1 + j[1]), q(y2 + j[3])))
                if b == a or d == c_:
                    continue
                out.append([v, l, f32(rng.uniform(0.05, 1.0)), a, c_, b, d])
        for _ in range(n_fp):
            w, h = rng.uniform(3, 30), rng.uniform(3, 30)
            x, y = rng.uniform(0, IMG - w), rng.uniform(0, IMG - h)
            out.append([v, int(rng.integers(ncls)), f32(rng.uniform(0.0005, 0.6)), q(x), q(y), q(x + w), q(y + h)])
    if zero_area and out:
        b = list(out[int(rng.integers(len(out)))])
        b[5] = b[3]  # x2 == x1: skipped by upstream and by tta
        b[2] = f32(0.99)
        out.append(b)
    out.sort(key=lambda b: b[0])  # view by view, as upstream's lists
    return [tuple(b) for b in out]


def ties(c, rows):
    """True when the case has equal weighted scores in a class, or outputs closer than 1e-6."""
    w = c['weights'] if c['weights'] is not None else [1.0] * c['views']
    seen = set()
    for (v, l, s, *_rest) in c['boxes']:
        key = (l, s * w[v])
        if key in seen:
            return True
        seen.add(key)
    sc = sorted(r[1] for r in rows)
    return any(b - a <= 1e-6 * max(abs(b), 1e-12) for a, b in zip(sc, sc[1:]))


def make_cases():
    rng = np.random.default_rng(20240611)
    specs = []

    def add(name, method, nv, ncls, nobj, weights=None, **kw):
        specs.append(dict(name=name, method=method, nv=nv, ncls=ncls, nobj=nobj, weights=weights, kw=kw))

    for ct in ('avg', 'max', 'box_and_model_avg', 'absent_model_aware_avg'):
        add('wbf_%s_3v' % ct, 'wbf', 3, 3, 6, conf_type=ct)
        add('wbf_%s_4v_weighted' % ct, 'wbf', 4, 4, 8, weights=[1.0, 2.0, 0.5, 1.5], conf_type=ct)
    add('wbf_overflow_5v', 'wbf', 5, 2, 6, conf_type='avg', allows_overflow=1)
    add('wbf_overflow_weighted', 'wbf', 3, 2, 6, weights=[0.3, 1.0, 2.2], conf_type='avg', allows_overflow=1)
    add('wbf_skip_iou07', 'wbf', 3, 3, 8, skip_thr=0.3, iou_thr=0.7, zero_area=True)
    add('wbf_iou03_jitter', 'wbf', 4, 2, 10, iou_thr=0.3, jitter=4.0)
    add('wbf_1view', 'wbf', 1, 3, 8)
    add('wbf_many_views', 'wbf', 12, 3, 5, jitter=3.0, max_det=20)
    add('wbf_bma_skip', 'wbf', 3, 3, 6, conf_type='box_and_model_avg', skip_thr=0.2, weights=[2.0, 1.0, 1.0])
    add('nms_3v', 'nms', 3, 3, 8)
    add('nms_weighted', 'nms', 4, 3, 8, weights=[1.0, 2.0, 0.5, 1.5], zero_area=True)
    add('nms_iou03', 'nms', 3, 2, 10, iou_thr=0.3, jitter=4.0)
    add('nms_iou08_skip', 'nms', 3, 2, 8, iou_thr=0.8, skip_thr=0.25)
    add('nms_max_det', 'nms', 5, 4, 10, max_det=7)
    add('softg_3v', 'soft-nms-gaussian', 3, 3, 8)
    add('softg_sigma01_thr', 'soft-nms-gaussian', 4, 2, 8, sigma=0.1, score_thr=0.05, weights=[1.0, 2.0, 0.5, 1.5])
    add('softg_sigma2', 'soft-nms-gaussian', 3, 2, 8, sigma=2.0, score_thr=0.2, jitter=4.0)
    add('softl_3v', 'soft-nms-linear', 3, 3, 8)
    add('softl_iou03_thr', 'soft-nms-linear', 4, 2, 8, iou_thr=0.3, score_thr=0.1, weights=[1.0, 2.0, 0.5, 1.5])
    add('softl_zero_area', 'soft-nms-linear', 3, 2, 6, zero_area=True, score_thr=0.02)
    add('nmw_3v', 'nmw', 3, 3, 8)
    add('nmw_weighted', 'nmw', 4, 3, 8, weights=[1.0, 2.0, 0.5, 1.5])
    add('nmw_skip_iou04', 'nmw', 3, 2, 8, skip_thr=0.1, iou_thr=0.4, jitter=3.0, zero_area=True)
    add('nmw_many_views', 'nmw', 10, 2, 5, max_det=12)

    cases = []
    for sp in specs:
        kw = dict(sp['kw'])
        scene_kw = {k: kw.pop(k) for k in ('jitter', 'zero_area') if k in kw}
        m = sp['method']
        for attempt in range(100):
            c = dict(name=sp['name'], method=m, views=sp['nv'], weights=sp['weights'],
                     iou_thr=f32(kw.get('iou_thr', 0.5 if m.startswith(('nms', 'soft')) else 0.55)),
                     skip_thr=f32(kw.get('skip_thr', 0.0)), sigma=f32(kw.get('sigma', 0.5)),
                     score_thr=f32(kw.get('score_thr', 0.001)), conf_type=kw.get('conf_type', 'avg'),
                     allows_overflow=kw.get('allows_overflow', 0), max_det=kw.get('max_det', 0))
            c['boxes'] = scene(rng, sp['nv'], sp['ncls'], sp['nobj'], **scene_kw)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                rows = run_case(c)
            if not ties(c, rows) and rows:
                c['expected'] = rows
                cases.append(c)
                break
        else:
            raise SystemExit('could not draw a tie-free case for ' + sp['name'])
    return cases


def fmt(x):
    return repr(float(x))


def write(cases, path):
    lines = ['# Reference vectors for tta_fuse_boxes, written by scripts/ref_ensemble_boxes.py (ensemble-boxes',
             '# 1.0.9 transliterated; see the script). Do not edit: regenerate.',
             '# Per case: options, "boxes N" then N lines "view label score x1 y1 x2 y2", "expected M" then',
             '# M lines "label score x1 y1 x2 y2 view support" (score descending), "end".']
    for c in cases:
        lines.append('case ' + c['name'])
        lines.append('method ' + c['method'])
        for k in ('iou_thr', 'skip_thr', 'sigma', 'score_thr'):
            lines.append('%s %s' % (k, fmt(c[k])))
        lines.append('conf_type ' + c['conf_type'])
        lines.append('allows_overflow %d' % c['allows_overflow'])
        lines.append('max_det %d' % c['max_det'])
        lines.append('views %d' % c['views'])
        lines.append('weights ' + ('none' if c['weights'] is None else ' '.join(fmt(w) for w in c['weights'])))
        lines.append('boxes %d' % len(c['boxes']))
        for (v, l, s, x1, y1, x2, y2) in c['boxes']:
            lines.append('%d %d %s %s %s %s %s' % (v, l, fmt(s), fmt(x1), fmt(y1), fmt(x2), fmt(y2)))
        lines.append('expected %d' % len(c['expected']))
        for (l, s, x1, y1, x2, y2, v, sup) in c['expected']:
            lines.append('%d %.12g %.12g %.12g %.12g %.12g %d %d' % (l, s, x1, y1, x2, y2, v, sup))
        lines.append('end')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, 'tests/data/detect/fuse/cases.txt')
    cases = make_cases()
    write(cases, path)
    print('%s: %d cases, %d input boxes, %d expected boxes, %d bytes' % (
        path, len(cases), sum(len(c['boxes']) for c in cases), sum(len(c['expected']) for c in cases),
        os.path.getsize(path)))


if __name__ == '__main__':
    main()
