#!/usr/bin/env python3
"""ref_cocoeval.py - an independent numpy reference for src/detect/coco_eval.c: pycocotools'
COCOeval (iouType 'bbox', default Params) transliterated, since pycocotools is not installed.

    scripts/ref_cocoeval.py --make-cases tests/data/detect/cocoeval
        writes the hand-made and random cases, each with its expected values
    scripts/ref_cocoeval.py CASE.json ...
        recomputes "expected_stats" and "expected_class_ap" of existing case files

A case file holds "images", "categories", "annotations" (a COCO ground-truth file) and
"results" (a COCO results list), and gets "expected_stats" (COCOeval.stats, 12 numbers) and
"expected_class_ap" (per category in file order: precision[:, :, k, area all, maxDet 100]
averaged over entries > -1, else -1), printed with %.12g.

Transliterated from cocodataset/cocoapi, PythonAPI/pycocotools (the pip pycocotools 2.0.x
sources): coco.py (COCO.createIndex, getAnnIds, getImgIds, getCatIds, loadAnns, loadRes bbox
branch), cocoeval.py (COCOeval.evaluate, _prepare, computeIoU, evaluateImg, accumulate,
summarize, Params.setDetParams), _mask.pyx iou and common/maskApi.c bbIou. The logic keeps the
upstream structure line by line (printing and the segm/keypoints branches left out) so that
the C code, written as a different algorithm (pre-sorted, weighted walk), is checked against
it. One deliberate extension: an empty results list evaluates as "no detections" (upstream's
loadRes fails on anns[0]).
"""

import copy
import itertools
import json
import os
import random
import sys
from collections import defaultdict

import numpy as np


# ---- maskApi.c bbIou / _mask.pyx iou (bbox inputs) -------------------------------------------

def bb_iou(dt, gt, iscrowd):
    """maskApi.c bbIou: o[g*m+d], returned as (m, n) order='F' i.e. ious[d, g]. A crowd gt
    uses the detection's area as the union."""
    m, n = len(dt), len(gt)
    o = np.zeros((m, n))
    for g in range(n):
        G = gt[g]
        ga = G[2] * G[3]
        crowd = iscrowd[g] != 0
        for d in range(m):
            D = dt[d]
            da = D[2] * D[3]
            o[d, g] = 0
            w = min(D[2] + D[0], G[2] + G[0]) - max(D[0], G[0])
            if w <= 0:
                continue
            h = min(D[3] + D[1], G[3] + G[1]) - max(D[1], G[1])
            if h <= 0:
                continue
            i = w * h
            u = da if crowd else da + ga - i
            o[d, g] = i / u
    return o


def mask_iou(dt, gt, pyiscrowd):
    """_mask.pyx iou for lists of boxes: [] when either side is empty."""
    iscrowd = np.array(pyiscrowd, dtype=np.uint8)
    dt = [[float(v) for v in b] for b in dt]
    gt = [[float(v) for v in b] for b in gt]
    if len(dt) == 0 or len(gt) == 0:
        return []
    return bb_iou(dt, gt, iscrowd)


# ---- coco.py ---------------------------------------------------------------------------------

class COCO:
    def __init__(self, dataset=None):
        self.dataset = dataset if dataset is not None else {}
        self.anns, self.cats, self.imgs = {}, {}, {}
        self.imgToAnns, self.catToImgs = defaultdict(list), defaultdict(list)
        if dataset is not None:
            self.createIndex()

    def createIndex(self):
        anns, cats, imgs = {}, {}, {}
        imgToAnns, catToImgs = defaultdict(list), defaultdict(list)
        if 'annotations' in self.dataset:
            for ann in self.dataset['annotations']:
                imgToAnns[ann['image_id']].append(ann)
                anns[ann['id']] = ann
        if 'images' in self.dataset:
            for img in self.dataset['images']:
                imgs[img['id']] = img
        if 'categories' in self.dataset:
            for cat in self.dataset['categories']:
                cats[cat['id']] = cat
        if 'annotations' in self.dataset and 'categories' in self.dataset:
            for ann in self.dataset['annotations']:
                catToImgs[ann['category_id']].append(ann['image_id'])
        self.anns, self.imgToAnns, self.catToImgs, self.imgs, self.cats = anns, imgToAnns, catToImgs, imgs, cats

    def getAnnIds(self, imgIds=[], catIds=[], areaRng=[], iscrowd=None):
        if len(imgIds) == len(catIds) == len(areaRng) == 0:
            anns = self.dataset['annotations']
        else:
            if not len(imgIds) == 0:
                lists = [self.imgToAnns[imgId] for imgId in imgIds if imgId in self.imgToAnns]
                anns = list(itertools.chain.from_iterable(lists))
            else:
                anns = self.dataset['annotations']
            anns = anns if len(catIds) == 0 else [ann for ann in anns if ann['category_id'] in catIds]
            anns = anns if len(areaRng) == 0 else [ann for ann in anns if areaRng[0] < ann['area'] < areaRng[1]]
        if iscrowd is not None:
            ids = [ann['id'] for ann in anns if ann['iscrowd'] == iscrowd]
        else:
            ids = [ann['id'] for ann in anns]
        return ids

    def getCatIds(self):
        return [cat['id'] for cat in self.dataset['categories']]

    def getImgIds(self):
        return list(self.imgs.keys())

    def loadAnns(self, ids=[]):
        return [self.anns[id] for id in ids]

    def loadRes(self, anns):
        res = COCO()
        res.dataset['images'] = [img for img in self.dataset['images']]
        anns = copy.deepcopy(anns)
        assert type(anns) == list, 'results in not an array of objects'
        annsImgIds = [ann['image_id'] for ann in anns]
        assert set(annsImgIds) == (set(annsImgIds) & set(self.getImgIds())), \
            'Results do not correspond to current coco set'
        res.dataset['categories'] = copy.deepcopy(self.dataset['categories'])
        if len(anns) > 0:  # extension: upstream reads anns[0] unconditionally
            assert 'bbox' in anns[0] and not anns[0]['bbox'] == []
            for id, ann in enumerate(anns):
                bb = ann['bbox']
                x1, x2, y1, y2 = [bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]]
                if 'segmentation' not in ann:
                    ann['segmentation'] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
                ann['area'] = bb[2] * bb[3]
                ann['id'] = id + 1
                ann['iscrowd'] = 0
        res.dataset['annotations'] = anns
        res.createIndex()
        return res


# ---- cocoeval.py -----------------------------------------------------------------------------

class Params:
    def __init__(self):
        self.imgIds = []
        self.catIds = []
        self.iouThrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
        self.recThrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
        self.areaRngLbl = ['all', 'small', 'medium', 'large']
        self.useCats = 1
        self.iouType = 'bbox'


class COCOeval:
    def __init__(self, cocoGt, cocoDt):
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self.evalImgs = defaultdict(list)
        self.eval = {}
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        self.params = Params()
        self._paramsEval = {}
        self.stats = []
        self.ious = {}
        self.params.imgIds = sorted(cocoGt.getImgIds())
        self.params.catIds = sorted(cocoGt.getCatIds())

    def _prepare(self):
        p = self.params
        gts = self.cocoGt.loadAnns(self.cocoGt.getAnnIds(imgIds=p.imgIds, catIds=p.catIds))
        dts = self.cocoDt.loadAnns(self.cocoDt.getAnnIds(imgIds=p.imgIds, catIds=p.catIds))
        for gt in gts:
            gt['ignore'] = gt['ignore'] if 'ignore' in gt else 0
            gt['ignore'] = 'iscrowd' in gt and gt['iscrowd']
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        for gt in gts:
            self._gts[gt['image_id'], gt['category_id']].append(gt)
        for dt in dts:
            self._dts[dt['image_id'], dt['category_id']].append(dt)
        self.evalImgs = defaultdict(list)
        self.eval = {}

    def evaluate(self):
        p = self.params
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self.params = p
        self._prepare()
        catIds = p.catIds if p.useCats else [-1]
        self.ious = {(imgId, catId): self.computeIoU(imgId, catId) for imgId in p.imgIds for catId in catIds}
        maxDet = p.maxDets[-1]
        self.evalImgs = [self.evaluateImg(imgId, catId, areaRng, maxDet)
                         for catId in catIds for areaRng in p.areaRng for imgId in p.imgIds]
        self._paramsEval = copy.deepcopy(self.params)

    def computeIoU(self, imgId, catId):
        p = self.params
        gt = self._gts[imgId, catId]
        dt = self._dts[imgId, catId]
        if len(gt) == 0 and len(dt) == 0:
            return []
        inds = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in inds]
        if len(dt) > p.maxDets[-1]:
            dt = dt[0:p.maxDets[-1]]
        g = [g['bbox'] for g in gt]
        d = [d['bbox'] for d in dt]
        iscrowd = [int(o['iscrowd']) for o in gt]
        return mask_iou(d, g, iscrowd)

    def evaluateImg(self, imgId, catId, aRng, maxDet):
        p = self.params
        gt = self._gts[imgId, catId]
        dt = self._dts[imgId, catId]
        if len(gt) == 0 and len(dt) == 0:
            return None
        for g in gt:
            if g['ignore'] or (g['area'] < aRng[0] or g['area'] > aRng[1]):
                g['_ignore'] = 1
            else:
                g['_ignore'] = 0
        gtind = np.argsort([g['_ignore'] for g in gt], kind='mergesort')
        gt = [gt[i] for i in gtind]
        dtind = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in dtind[0:maxDet]]
        iscrowd = [int(o['iscrowd']) for o in gt]
        ious = self.ious[imgId, catId][:, gtind] if len(self.ious[imgId, catId]) > 0 else self.ious[imgId, catId]
        T = len(p.iouThrs)
        G = len(gt)
        D = len(dt)
        gtm = np.zeros((T, G))
        dtm = np.zeros((T, D))
        gtIg = np.array([g['_ignore'] for g in gt])
        dtIg = np.zeros((T, D))
        if not len(ious) == 0:
            for tind, t in enumerate(p.iouThrs):
                for dind, d in enumerate(dt):
                    iou = min([t, 1 - 1e-10])
                    m = -1
                    for gind, g in enumerate(gt):
                        if gtm[tind, gind] > 0 and not iscrowd[gind]:
                            continue
                        if m > -1 and gtIg[m] == 0 and gtIg[gind] == 1:
                            break
                        if ious[dind, gind] < iou:
                            continue
                        iou = ious[dind, gind]
                        m = gind
                    if m == -1:
                        continue
                    dtIg[tind, dind] = gtIg[m]
                    dtm[tind, dind] = gt[m]['id']
                    gtm[tind, m] = d['id']
        a = np.array([d['area'] < aRng[0] or d['area'] > aRng[1] for d in dt]).reshape((1, len(dt)))
        dtIg = np.logical_or(dtIg, np.logical_and(dtm == 0, np.repeat(a, T, 0)))
        return {
            'image_id': imgId, 'category_id': catId, 'aRng': aRng, 'maxDet': maxDet,
            'dtIds': [d['id'] for d in dt], 'gtIds': [g['id'] for g in gt],
            'dtMatches': dtm, 'gtMatches': gtm, 'dtScores': [d['score'] for d in dt],
            'gtIgnore': gtIg, 'dtIgnore': dtIg,
        }

    def accumulate(self):
        p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        T = len(p.iouThrs)
        R = len(p.recThrs)
        K = len(p.catIds) if p.useCats else 1
        A = len(p.areaRng)
        M = len(p.maxDets)
        precision = -np.ones((T, R, K, A, M))
        recall = -np.ones((T, K, A, M))
        scores = -np.ones((T, R, K, A, M))
        _pe = self._paramsEval
        catIds = _pe.catIds if _pe.useCats else [-1]
        setK = set(catIds)
        setA = set(map(tuple, _pe.areaRng))
        setM = set(_pe.maxDets)
        setI = set(_pe.imgIds)
        k_list = [n for n, k in enumerate(p.catIds) if k in setK]
        m_list = [m for n, m in enumerate(p.maxDets) if m in setM]
        a_list = [n for n, a in enumerate(map(lambda x: tuple(x), p.areaRng)) if a in setA]
        i_list = [n for n, i in enumerate(p.imgIds) if i in setI]
        I0 = len(_pe.imgIds)
        A0 = len(_pe.areaRng)
        for k, k0 in enumerate(k_list):
            Nk = k0 * A0 * I0
            for a, a0 in enumerate(a_list):
                Na = a0 * I0
                for m, maxDet in enumerate(m_list):
                    E = [self.evalImgs[Nk + Na + i] for i in i_list]
                    E = [e for e in E if e is not None]
                    if len(E) == 0:
                        continue
                    dtScores = np.concatenate([e['dtScores'][0:maxDet] for e in E])
                    inds = np.argsort(-dtScores, kind='mergesort')
                    dtScoresSorted = dtScores[inds]
                    dtm = np.concatenate([e['dtMatches'][:, 0:maxDet] for e in E], axis=1)[:, inds]
                    dtIg = np.concatenate([e['dtIgnore'][:, 0:maxDet] for e in E], axis=1)[:, inds]
                    gtIg = np.concatenate([e['gtIgnore'] for e in E])
                    npig = np.count_nonzero(gtIg == 0)
                    if npig == 0:
                        continue
                    tps = np.logical_and(dtm, np.logical_not(dtIg))
                    fps = np.logical_and(np.logical_not(dtm), np.logical_not(dtIg))
                    tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
                    fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
                    for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
                        tp = np.array(tp)
                        fp = np.array(fp)
                        nd = len(tp)
                        rc = tp / npig
                        pr = tp / (fp + tp + np.spacing(1))
                        q = np.zeros((R,))
                        ss = np.zeros((R,))
                        if nd:
                            recall[t, k, a, m] = rc[-1]
                        else:
                            recall[t, k, a, m] = 0
                        pr = pr.tolist()
                        q = q.tolist()
                        for i in range(nd - 1, 0, -1):
                            if pr[i] > pr[i - 1]:
                                pr[i - 1] = pr[i]
                        inds = np.searchsorted(rc, p.recThrs, side='left')
                        try:
                            for ri, pi in enumerate(inds):
                                q[ri] = pr[pi]
                                ss[ri] = dtScoresSorted[pi]
                        except IndexError:
                            pass
                        precision[t, :, k, a, m] = np.array(q)
                        scores[t, :, k, a, m] = np.array(ss)
        self.eval = {'params': p, 'counts': [T, R, K, A, M], 'precision': precision,
                     'recall': recall, 'scores': scores}

    def summarize(self):
        def _summarize(ap=1, iouThr=None, areaRng='all', maxDets=100):
            p = self.params
            aind = [i for i, aRng in enumerate(p.areaRngLbl) if aRng == areaRng]
            mind = [i for i, mDet in enumerate(p.maxDets) if mDet == maxDets]
            if ap == 1:
                s = self.eval['precision']
                if iouThr is not None:
                    t = np.where(iouThr == p.iouThrs)[0]
                    s = s[t]
                s = s[:, :, :, aind, mind]
            else:
                s = self.eval['recall']
                if iouThr is not None:
                    t = np.where(iouThr == p.iouThrs)[0]
                    s = s[t]
                s = s[:, :, aind, mind]
            if len(s[s > -1]) == 0:
                mean_s = -1
            else:
                mean_s = np.mean(s[s > -1])
            return mean_s

        stats = np.zeros((12,))
        md = self.params.maxDets
        stats[0] = _summarize(1)
        stats[1] = _summarize(1, iouThr=.5, maxDets=md[2])
        stats[2] = _summarize(1, iouThr=.75, maxDets=md[2])
        stats[3] = _summarize(1, areaRng='small', maxDets=md[2])
        stats[4] = _summarize(1, areaRng='medium', maxDets=md[2])
        stats[5] = _summarize(1, areaRng='large', maxDets=md[2])
        stats[6] = _summarize(0, maxDets=md[0])
        stats[7] = _summarize(0, maxDets=md[1])
        stats[8] = _summarize(0, maxDets=md[2])
        stats[9] = _summarize(0, areaRng='small', maxDets=md[2])
        stats[10] = _summarize(0, areaRng='medium', maxDets=md[2])
        stats[11] = _summarize(0, areaRng='large', maxDets=md[2])
        self.stats = stats


# ---- cases -----------------------------------------------------------------------------------

def evaluate_case(case):
    gt = COCO({'images': case['images'], 'categories': case['categories'],
               'annotations': copy.deepcopy(case['annotations'])})
    dt = gt.loadRes(case['results'])
    E = COCOeval(gt, dt)
    E.evaluate()
    E.accumulate()
    E.summarize()
    # per category (file order): precision[:, :, k, area all, maxDets 100], mean of entries > -1
    sorted_cats = E.params.catIds
    class_ap = []
    for cat in case['categories']:
        k = sorted_cats.index(cat['id'])
        s = E.eval['precision'][:, :, k, 0, 2]
        class_ap.append(float(np.mean(s[s > -1])) if len(s[s > -1]) else -1.0)
    return [float(v) for v in E.stats], class_ap


def fmt_num(v):
    s = '%.12g' % v
    return s


def write_case(path, case, comment):
    stats, class_ap = evaluate_case(case)
    lines = ['{']
    lines.append('  "comment": %s,' % json.dumps(comment))
    for key in ('images', 'categories', 'annotations', 'results'):
        items = case[key]
        if not items:
            lines.append('  "%s": [],' % key)
            continue
        lines.append('  "%s": [' % key)
        for i, it in enumerate(items):
            lines.append('    ' + json.dumps(it, separators=(', ', ': ')) + (',' if i + 1 < len(items) else ''))
        lines.append('  ],')
    lines.append('  "expected_stats": [%s],' % ', '.join(fmt_num(v) for v in stats))
    lines.append('  "expected_class_ap": [%s]' % ', '.join(fmt_num(v) for v in class_ap))
    lines.append('}')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return stats


class Builder:
    def __init__(self, n_images, size=(300, 300), cats=(1,), first_id=1):
        self.images = [{'id': first_id + i, 'file_name': 'img%03d.png' % (first_id + i),
                        'width': size[0], 'height': size[1]} for i in range(n_images)]
        self.categories = [{'id': c, 'name': 'class%d' % c} for c in cats]
        self.annotations = []
        self.results = []

    def gt(self, image_id, cat, box, iscrowd=0, area=None, ann_id=None):
        self.annotations.append({'id': ann_id if ann_id is not None else len(self.annotations) + 1,
                                 'image_id': image_id, 'category_id': cat, 'bbox': list(box),
                                 'area': area if area is not None else box[2] * box[3],
                                 'iscrowd': iscrowd})

    def det(self, image_id, cat, box, score):
        self.results.append({'image_id': image_id, 'category_id': cat, 'bbox': list(box), 'score': score})

    def case(self):
        return {'images': self.images, 'categories': self.categories,
                'annotations': self.annotations, 'results': self.results}


def jitter(rng, box, amount):
    x, y, w, h = box
    return [round(x + rng.uniform(-amount, amount) * w, 2), round(y + rng.uniform(-amount, amount) * h, 2),
            round(max(0.5, w * (1 + rng.uniform(-amount, amount))), 2),
            round(max(0.5, h * (1 + rng.uniform(-amount, amount))), 2)]


def make_cases(folder):
    os.makedirs(folder, exist_ok=True)
    out = {}

    # 1 gt, 2 detections: the C test derives these values by hand.
    b = Builder(1, cats=(1,))
    b.gt(1, 1, [0, 0, 10, 10])
    b.det(1, 1, [50, 50, 10, 10], 0.9)
    b.det(1, 1, [0, 0, 10, 7.5], 0.8)
    out['hand_two_dets'] = (b.case(), '1 gt 10x10; a wrong det at 0.9, then IoU exactly 0.75 at 0.8')

    # crowd regions: several detections inside one crowd box, one also overlapping a real object
    b = Builder(3, cats=(1, 2))
    b.gt(1, 1, [0, 0, 200, 200], iscrowd=1, area=30000)
    b.gt(1, 1, [220, 220, 60, 60])
    b.gt(1, 1, [150, 150, 60, 60])  # half inside the crowd
    for i, s in enumerate([0.95, 0.9, 0.85, 0.8, 0.4]):
        b.det(1, 1, [10 + 30 * i, 10 + 20 * i, 40, 40], s)  # all inside the crowd
    b.det(1, 1, [152, 148, 58, 62], 0.7)   # the half-inside object
    b.det(1, 1, [218, 221, 61, 60], 0.6)
    b.det(1, 1, [180, 180, 100, 100], 0.5)  # partly crowd, partly object
    b.gt(2, 1, [50, 50, 100, 100], iscrowd=1)
    b.det(2, 1, [60, 60, 20, 20], 0.99)    # inside a crowd only: ignored
    b.gt(2, 2, [10, 10, 30, 30])
    b.det(2, 2, [12, 10, 30, 30], 0.5)
    b.det(2, 2, [0, 0, 300, 300], 0.6)     # huge, covers a crowd-less gt poorly
    b.gt(3, 2, [100, 100, 80, 80], iscrowd=1)
    b.gt(3, 2, [110, 110, 40, 40])
    b.det(3, 2, [110, 110, 40, 40], 0.3)
    b.det(3, 2, [111, 111, 40, 40], 0.31)  # the better-scored duplicate takes the object
    b.det(3, 2, [150, 150, 20, 20], 0.2)
    out['crowd'] = (b.case(), 'crowd regions absorbing several detections, crowd next to real objects')

    # images without gt, images without dets, a category without gt and one without anything
    b = Builder(5, cats=(3, 1, 7, 5))
    b.gt(1, 1, [10, 10, 50, 50])
    b.gt(1, 3, [100, 100, 40, 40])
    b.gt(2, 1, [30, 30, 60, 60])        # image 2: gt but no detections
    b.gt(4, 3, [0, 0, 120, 120])
    b.det(1, 1, [12, 8, 50, 52], 0.8)
    b.det(1, 3, [100, 100, 40, 40], 0.3)
    b.det(3, 1, [10, 10, 50, 50], 0.9)  # image 3: detections, no gt
    b.det(3, 7, [10, 10, 50, 50], 0.9)  # category 7 has no gt anywhere: AP skipped
    b.det(4, 3, [5, 5, 110, 120], 0.7)
    b.det(4, 7, [5, 5, 110, 120], 0.2)
    out['empty_parts'] = (b.case(), 'images with no gt or no dets; category 7 with dets but no gt; category 5 empty')

    # more than 100 detections on one image and category
    rng = random.Random(7)
    b = Builder(2, cats=(1, 2))
    objs = [[rng.randint(0, 250), rng.randint(0, 250), rng.randint(8, 50), rng.randint(8, 50)] for _ in range(30)]
    for o in objs:
        b.gt(1, 1, o)
    for i in range(140):
        o = objs[i % 30]
        b.det(1, 1, jitter(rng, o, 0.15 + 0.3 * (i // 30) / 4), round(rng.random(), 4))
    b.gt(2, 2, [20, 20, 40, 40])
    for i in range(120):
        b.det(2, 2, [rng.randint(0, 260), rng.randint(0, 260), 40, 40], round(0.5 * rng.random(), 4))
    b.det(2, 2, [21, 20, 40, 40], 0.01)  # the only hit, ranked below 100: dropped
    b.det(2, 1, [21, 20, 40, 40], 0.9)   # wrong category, image without gt of it
    out['many_dets'] = (b.case(), '140 and 121 detections on one image: the best 100 kept; maxDets 1 and 10')

    # all three area ranges on 300x300 images
    b = Builder(3, cats=(1,))
    for im in (1, 2, 3):
        b.gt(im, 1, [10, 10, 20, 20])     # 400: small
        b.gt(im, 1, [60, 60, 50, 50])     # 2500: medium
        b.gt(im, 1, [150, 150, 120, 120])  # 14400: large
        b.gt(im, 1, [0, 200, 32, 32])     # 1024: small and medium (bounds inclusive)
    b.det(1, 1, [10, 10, 20, 20], 0.9)
    b.det(1, 1, [62, 60, 50, 48], 0.8)
    b.det(1, 1, [150, 150, 120, 120], 0.7)
    b.det(1, 1, [0, 200, 32, 32], 0.6)
    b.det(2, 1, [12, 12, 20, 20], 0.95)
    b.det(2, 1, [150, 160, 120, 100], 0.5)
    b.det(2, 1, [200, 10, 60, 60], 0.85)  # medium false positive
    b.det(2, 1, [5, 100, 15, 15], 0.8)    # small false positive
    b.det(3, 1, [55, 55, 55, 55], 0.4)
    b.det(3, 1, [0, 200, 33, 31], 0.45)
    b.det(3, 1, [140, 140, 140, 140], 0.6)
    out['areas'] = (b.case(), 'gt areas 20^2, 32^2, 50^2, 120^2; detections in and out of each range')

    # no medium gt: AP and AR medium are -1
    b = Builder(2, cats=(1, 2))
    b.gt(1, 1, [10, 10, 20, 20])
    b.gt(1, 2, [100, 100, 150, 150])
    b.gt(2, 1, [50, 50, 25, 25])
    b.det(1, 1, [10, 10, 20, 20], 0.9)
    b.det(1, 1, [100, 10, 50, 50], 0.95)  # medium detection, no medium gt
    b.det(1, 2, [100, 100, 150, 140], 0.8)
    b.det(2, 1, [52, 50, 25, 25], 0.5)
    out['no_medium'] = (b.case(), 'no medium ground truth: the medium stats are -1')

    # exact score ties across and within images, duplicate detections
    b = Builder(4, cats=(1, 2))
    for im in (1, 2, 3, 4):
        b.gt(im, 1, [20, 20, 60, 60])
        b.gt(im, 1, [150, 150, 40, 40])
        b.gt(im, 2, [100, 20, 50, 80])
    for im in (4, 2, 3, 1):  # results not in image order
        b.det(im, 1, [200, 10, 30, 30], 0.5)      # FP tied with the TPs below
        b.det(im, 1, [20, 20, 60, 60], 0.5)       # TP
        b.det(im, 1, [20, 20, 60, 60], 0.5)       # exact duplicate: FP
        b.det(im, 1, [150, 150, 40, 40], 0.7 if im % 2 else 0.5)
        b.det(im, 2, [100, 20, 50, 80], 0.25)
        b.det(im, 2, [101, 22, 50, 80], 0.25)     # duplicate-ish, tied
    out['ties'] = (b.case(), 'exact score ties (mergesort order matters) and duplicated detections')

    # detections partly outside the image, zero-size boxes
    b = Builder(2, cats=(1,))
    b.gt(1, 1, [0, 0, 40, 40])
    b.gt(1, 1, [270, 260, 30, 40])
    b.gt(2, 1, [0, 100, 50, 50])
    b.det(1, 1, [-10, -5, 50, 45], 0.9)
    b.det(1, 1, [265, 255, 60, 60], 0.8)
    b.det(2, 1, [-20, 100, 70, 50], 0.7)
    b.det(2, 1, [10, 10, 0, 20], 0.6)   # zero width
    b.det(2, 1, [0, 100, 50, 50], 0.1)
    out['outside'] = (b.case(), 'detections partly outside the image and of zero width')

    # gt area field differing from w*h (e.g. a segmentation area)
    b = Builder(2, cats=(1,))
    b.gt(1, 1, [10, 10, 40, 40], area=900)      # w*h medium, area small
    b.gt(1, 1, [100, 100, 100, 100], area=5000)  # w*h large, area medium
    b.gt(2, 1, [10, 10, 20, 20], area=2000)     # w*h small, area medium
    b.det(1, 1, [10, 10, 40, 40], 0.9)
    b.det(1, 1, [100, 100, 100, 100], 0.8)
    b.det(2, 1, [10, 10, 20, 20], 0.7)
    out['area_field'] = (b.case(), 'gt area differs from w*h: the ranges use the area field, detections w*h')

    # a gt of id 0: upstream stores the matched gt's id in dtMatches, so the match reads as none
    b = Builder(1, cats=(1,))
    b.gt(1, 1, [10, 10, 50, 50], ann_id=0)
    b.gt(1, 1, [100, 100, 50, 50], ann_id=5)
    b.det(1, 1, [10, 10, 50, 50], 0.9)
    b.det(1, 1, [100, 100, 50, 50], 0.8)
    out['gt_id_zero'] = (b.case(), 'a gt with id 0: its match counts as a false positive, as upstream')

    # random: 50 images, 3 categories, noisy detections, a few crowds
    rng = random.Random(12345)
    b = Builder(50, size=(320, 240), cats=(2, 9, 4), first_id=1)
    rng.shuffle(b.images)  # file order differs from id order
    for img in b.images:
        for _ in range(rng.randint(0, 6)):
            cat = rng.choice((2, 9, 4))
            w = round(rng.choice((rng.uniform(4, 30), rng.uniform(30, 100), rng.uniform(90, 200))), 2)
            h = round(w * rng.uniform(0.5, 1.5), 2)
            x, y = round(rng.uniform(0, 320 - w / 2), 2), round(rng.uniform(0, 240 - h / 2), 2)
            crowd = 1 if rng.random() < 0.05 else 0
            b.gt(img['id'], cat, [x, y, w, h], iscrowd=crowd,
                 area=round(w * h * (rng.uniform(0.6, 1.0) if rng.random() < 0.3 else 1.0), 2))
        for ann in [a for a in b.annotations if a['image_id'] == img['id']]:
            for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
                cat = ann['category_id'] if rng.random() < 0.9 else rng.choice((2, 9, 4))
                b.det(img['id'], cat, jitter(rng, ann['bbox'], rng.choice((0.03, 0.1, 0.25))), round(rng.random(), 6))
        for _ in range(rng.randint(0, 4)):
            w = round(rng.uniform(5, 120), 2)
            b.det(img['id'], rng.choice((2, 9, 4)),
                  [round(rng.uniform(-10, 300), 2), round(rng.uniform(-10, 220), 2), w, round(w * rng.uniform(0.5, 2), 2)],
                  round(rng.random() * 0.6, 6))
    rng.shuffle(b.results)
    out['random'] = (b.case(), 'random (seed 12345): 50 images, 3 categories, noisy detections, some crowds')

    for name, (case, comment) in out.items():
        stats = write_case(os.path.join(folder, name + '.json'), case, comment)
        print('%-14s %s' % (name, ' '.join('%.4f' % v for v in stats)))


def main(argv):
    if len(argv) == 3 and argv[1] == '--make-cases':
        make_cases(argv[2])
        return 0
    if len(argv) < 2:
        print(__doc__)
        return 2
    for path in argv[1:]:
        with open(path) as f:
            case = json.load(f)
        write_case(path, case, case.get('comment', ''))
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
