"""train_detector.py - trains, evaluates and exports the shipped mosaic detector (models/detector.onnx).

    /usr/bin/python3 scripts/train_detector.py          # about 15 minutes on one CPU thread

Steps (each printed as it goes):
1. Data from our own C generator (`build/tta data mosaic`, scripts/mosaic_data.py): 64x64 canvases
   with 1 to 5 Fashion-MNIST items (scale 0.75..1.5, i.e. 21..42 px), train = 40,000 mosaics of
   the train split (seed 1), validation = 2,000 of the val split (seed 2), test = 5,000 of the
   test split (seed 3). Generated once under build/mosaics/ and reused.
2. Model: a small anchor-free, centre-based detector on a stride-8 grid (YOLOv8/FCOS-like):
   conv stem to stride 4, depthwise-separable blocks to stride 8 and 16, the stride-16 features
   upsampled (nearest) and fused with the stride-8 ones, then two 1x1 heads: 4 box distances
   (left, top, right, bottom = softplus * 8 px from the anchor point) and 10 class logits.
3. Training: anchor points inside a box and within 1.5 strides of its centre are positives (the
   smallest box wins); class targets are the IoU of the predicted box with its ground truth
   (quality focal loss, as in GFL/VFL, so scores rank localisation quality); box loss 1 - GIoU on
   positives. Random horizontal flip. AdamW, one-cycle LR, batch 64, fixed seeds, 1 thread.
4. Evaluation on validation and test mosaics: COCO mAP@[.5:.95] and mAP@.5 (scripts/coco_eval.py),
   after score > 0.001, per-class NMS at IoU 0.6 and at most 100 detections per image; also with a
   horizontal-flip TTA (boxes of both views pooled, then the same NMS) for reference.
5. Export to ONNX (opset 13): input `image` float32 [N, 1, H, W] = pixel / 255 (H and W dynamic,
   multiples of 16; trained at 64x64); output `detections` float32 [N, 14, (H/8)(W/8)] in the
   YOLOv8 export layout: cx, cy, w, h in input pixels, then the 10 class scores after a sigmoid
   (no objectness); anchor a = row * (W/8) + col, centre ((col + 0.5) * 8, (row + 0.5) * 8).
   metadata_props describe all this. Reference vectors go to models/refs/detector/ (a copy of the
   model beside them when it is under 300 KB), checked with `build/tta conformance` if built.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coco_eval  # noqa: E402
import mosaic_data  # noqa: E402
import onnx_pb  # noqa: E402

ROOT = mosaic_data.ROOT
STRIDE = 8
NUM_CLASSES = 10
DATA = {"train": (1, 40000), "val": (2, 2000), "test": (3, 5000)}  # split: (seed, count)
CENTER_RADIUS = 1.5  # positives: anchor points within this many strides of a box centre

# ---------------------------------------------------------------- model


def cbr(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def ds(cin, cout, stride=1):
    """Depthwise-separable block: 3x3 depthwise + BN + ReLU, 1x1 pointwise + BN + ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(inplace=True),
        nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Detector(nn.Module):
    def __init__(self, nc=NUM_CLASSES):
        super().__init__()
        self.stem = nn.Sequential(cbr(1, 16, 2), cbr(16, 32, 2))              # stride 4
        self.s8 = nn.Sequential(ds(32, 64, 2), ds(64, 64), ds(64, 64))        # stride 8
        self.s16 = nn.Sequential(ds(64, 96, 2), ds(96, 96), ds(96, 96))       # stride 16
        self.fuse = nn.Sequential(nn.Conv2d(160, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                                  ds(64, 64))
        self.box = nn.Conv2d(64, 4, 1)
        self.cls = nn.Conv2d(64, nc, 1)
        nn.init.constant_(self.box.bias, math.log(math.e ** 2 - 1))  # softplus = 2 strides = 16 px
        nn.init.constant_(self.cls.bias, -4.6)                          # sigmoid = 0.01

    def features(self, x):
        """x: [N,1,H,W] in [0,1] -> fused stride-8 features [N,64,H/8,W/8]."""
        f8 = self.s8(self.stem(x))
        f16 = self.s16(f8)
        return self.fuse(torch.cat([f8, F.interpolate(f16, scale_factor=2.0, mode="nearest")], 1))

    def forward(self, x):
        """x: [N,1,H,W] in [0,1] -> box logits [N,4,H/8,W/8], class logits [N,nc,H/8,W/8]."""
        f = self.features(x)
        return self.box(f), self.cls(f)


def anchor_points(h, w, device=None):
    """Anchor centres [h*w, 2] (x, y) in input pixels, row-major."""
    ys = (torch.arange(h, dtype=torch.float32, device=device) + 0.5) * STRIDE
    xs = (torch.arange(w, dtype=torch.float32, device=device) + 0.5) * STRIDE
    return torch.stack([xs.view(1, w).expand(h, w), ys.view(h, 1).expand(h, w)], -1).reshape(-1, 2)


def decode_ltrb(box_logits):
    """[N,4,h,w] logits -> distances [N,A,4] (l, t, r, b) in pixels."""
    return (F.softplus(box_logits) * STRIDE).flatten(2).transpose(1, 2)


class Deployed(nn.Module):
    """What the ONNX file computes: the YOLOv8 export layout [N, 4 + nc, A]."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image):
        f = self.net.features(image)
        h, w = f.shape[2], f.shape[3]
        # Anchors are flattened before the 1x1 heads, so that the exported graph declares the
        # output's second dimension as 4 + nc (a Conv's channel count) rather than a symbol.
        f = f.reshape(f.shape[0], self.net.box.in_channels, -1, 1)               # [N,64,A,1]
        d = F.softplus(self.net.box(f)) * STRIDE                                 # [N,4,A,1]
        cls = torch.sigmoid(self.net.cls(f))                                     # [N,nc,A,1]
        ys = (torch.arange(h, dtype=torch.float32) + 0.5) * STRIDE
        xs = (torch.arange(w, dtype=torch.float32) + 0.5) * STRIDE
        ax = (xs.view(1, w) + torch.zeros_like(ys).view(h, 1)).reshape(1, -1, 1)  # [1,A,1], row-major
        ay = (ys.view(h, 1) + torch.zeros_like(xs).view(1, w)).reshape(1, -1, 1)
        l, t, r, b = d[:, 0], d[:, 1], d[:, 2], d[:, 3]                          # [N,A,1]
        xywh = torch.stack([ax + (r - l) * 0.5, ay + (b - t) * 0.5, l + r, t + b], 1)
        return torch.cat([xywh, cls], 1)[:, :, :, 0]                             # [N,4+nc,A]


# ---------------------------------------------------------------- training


def giou(a, b):
    """Elementwise GIoU and IoU of corner boxes [..., 4]."""
    ix0, iy0 = torch.max(a[..., 0], b[..., 0]), torch.max(a[..., 1], b[..., 1])
    ix1, iy1 = torch.min(a[..., 2], b[..., 2]), torch.min(a[..., 3], b[..., 3])
    inter = (ix1 - ix0).clamp(min=0) * (iy1 - iy0).clamp(min=0)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter + 1e-7
    iou = inter / union
    cx0, cy0 = torch.min(a[..., 0], b[..., 0]), torch.min(a[..., 1], b[..., 1])
    cx1, cy1 = torch.max(a[..., 2], b[..., 2]), torch.max(a[..., 3], b[..., 3])
    hull = (cx1 - cx0) * (cy1 - cy0) + 1e-7
    return iou - (hull - union) / hull, iou


def assign(anchors, gt_boxes, gt_valid):
    """For each image and anchor, the index of its ground-truth box or -1.
    anchors [A,2]; gt_boxes [B,M,4] corners; gt_valid [B,M] bool."""
    ax, ay = anchors[None, :, None, 0], anchors[None, :, None, 1]              # [1,A,1]
    x0, y0, x1, y1 = (gt_boxes[:, None, :, k] for k in range(4))             # [B,1,M]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    r = CENTER_RADIUS * STRIDE
    ok = (ax > x0) & (ax < x1) & (ay > y0) & (ay < y1) & ((ax - cx).abs() < r) & ((ay - cy).abs() < r)
    ok &= gt_valid[:, None, :]
    area = ((x1 - x0) * (y1 - y0)).expand_as(ok)
    area = torch.where(ok, area, torch.full_like(area, float("inf")))
    best = area.argmin(-1)                                                    # [B,A]
    return torch.where(ok.any(-1), best, torch.full_like(best, -1))


def loss_fn(box_logits, cls_logits, gt_boxes, gt_labels, gt_valid):
    n, _, h, w = box_logits.shape
    anchors = anchor_points(h, w)
    ltrb = decode_ltrb(box_logits)                                           # [B,A,4]
    pred = torch.cat([anchors - ltrb[..., :2], anchors + ltrb[..., 2:]], -1)  # corners
    logits = cls_logits.flatten(2).transpose(1, 2)                           # [B,A,C]
    idx = assign(anchors, gt_boxes, gt_valid)
    pos = idx >= 0
    npos = max(int(pos.sum()), 1)
    target = torch.zeros_like(logits)
    box_loss = logits.sum() * 0
    if pos.any():
        b_idx, a_idx = pos.nonzero(as_tuple=True)
        g = idx[b_idx, a_idx]
        tgt_box = gt_boxes[b_idx, g]
        gi, iou = giou(pred[b_idx, a_idx], tgt_box)
        box_loss = (1 - gi).sum() / npos
        target[b_idx, a_idx, gt_labels[b_idx, g]] = iou.detach().clamp(min=0.01)
    p = torch.sigmoid(logits)
    qfl = F.binary_cross_entropy_with_logits(logits, target, reduction="none") * (target - p).abs().pow(2)
    cls_loss = qfl.sum() / npos
    return cls_loss + 2.0 * box_loss, cls_loss.detach(), box_loss.detach()


def batch_targets(boxes, labels, flip, size):
    m = max(1, max(len(b) for b in boxes))
    gb = torch.zeros(len(boxes), m, 4)
    gl = torch.zeros(len(boxes), m, dtype=torch.long)
    gv = torch.zeros(len(boxes), m, dtype=torch.bool)
    for i, (b, lb) in enumerate(zip(boxes, labels)):
        k = len(b)
        if not k:
            continue
        b = torch.from_numpy(b)
        if flip[i]:
            b = torch.stack([size - b[:, 2], b[:, 1], size - b[:, 0], b[:, 3]], 1)
        gb[i, :k], gl[i, :k], gv[i, :k] = b, torch.from_numpy(lb), True
    return gb, gl, gv


def train(net, data, epochs, seed, batch=64, lr=3e-3, wd=5e-4, log=print):
    x_all = data["images"]
    n, size = len(x_all), x_all.shape[1]
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)
    steps = epochs * (n // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    t0 = time.time()
    for ep in range(epochs):
        net.train()
        perm = torch.randperm(n, generator=gen).numpy()
        tot = [0.0, 0.0, 0.0]
        for s in range(n // batch):
            idx = perm[s * batch:(s + 1) * batch]
            x = torch.from_numpy(x_all[idx]).float().div_(255).unsqueeze(1)
            flip = torch.rand(len(idx), generator=gen) < 0.5
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
            gb, gl, gv = batch_targets([data["boxes"][i] for i in idx], [data["labels"][i] for i in idx],
                                       flip.tolist(), size)
            box, cls = net(x)
            loss, lc, lb = loss_fn(box, cls, gb, gl, gv)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot[0] += float(loss)
            tot[1] += float(lc)
            tot[2] += float(lb)
        k = n // batch
        log("epoch %d/%d  loss %.4f (cls %.4f, box %.4f)  %.0fs"
            % (ep + 1, epochs, tot[0] / k, tot[1] / k, tot[2] / k, time.time() - t0))
    return time.time() - t0

# ---------------------------------------------------------------- evaluation


def predict(dep, images, flip=False, batch=256):
    """Deployed outputs [N, 4+C, A] for uint8 images [N,P,P] (optionally flipped, boxes mapped back)."""
    outs = []
    with torch.no_grad():
        for s in range(0, len(images), batch):
            x = torch.from_numpy(images[s:s + batch]).float().div_(255).unsqueeze(1)
            if flip:
                x = x.flip(3)
            y = dep(x)
            if flip:
                y[:, 0] = images.shape[2] - y[:, 0]  # cx -> W - cx; w, h and scores unchanged
            outs.append(y.numpy())
    return np.concatenate(outs)


def evaluate(dep, data, tta_flip=False):
    out = predict(dep, data["images"])
    if tta_flip:  # pool the anchors of both views, then the usual NMS
        out = np.concatenate([out, predict(dep, data["images"], flip=True)], 2)
    dets = [coco_eval.postprocess(o) for o in out]
    gts = list(zip(data["boxes"], data["labels"]))
    return coco_eval.coco_map(dets, gts, NUM_CLASSES)

# ---------------------------------------------------------------- export


def metadata(seed, epochs, nparams):
    return [
        ("tta.task", "detection"),
        ("tta.model", "detector"),
        ("tta.architecture", "anchor-free centre-based detector, stride-8 grid, stride-16 context "
                             "fused in (%d parameters)" % nparams),
        ("tta.input_name", "image"),
        ("tta.input_layout", "NCHW"),
        ("tta.input_dtype", "float32"),
        ("tta.input_size", "64x64"),
        ("tta.input_size_note", "H and W are dynamic: any multiples of 16 (trained at 64x64)"),
        ("tta.stride", "16"),
        ("tta.channels", "1"),
        ("tta.preprocess", "caller"),
        ("tta.preprocess_formula", "x = pixel / 255 (grayscale, no mean/std)"),
        ("tta.scale", "1/255"),
        ("tta.mean", "0"),
        ("tta.std", "1"),
        ("tta.output_name", "detections"),
        ("tta.output", "yolov8"),
        ("tta.output_layout", "[N, 4 + 10, anchors]: cx, cy, w, h in input pixels, then 10 class scores "
                              "(sigmoid applied, no objectness)"),
        ("tta.box_format", "cxcywh"),
        ("tta.score_activation", "sigmoid"),
        ("tta.anchors", "stride 8: anchor a = row * (W/8) + col, centre ((col + 0.5) * 8, (row + 0.5) * 8)"),
        ("tta.postprocess", "score > 0.001 (evaluation) or 0.25 (display), per-class NMS IoU 0.6, "
                            "at most 100 detections per image"),
        ("tta.num_classes", "10"),
        ("tta.class_names", ",".join(mosaic_data.CLASS_NAMES)),
        ("tta.dataset", "fashion-mnist mosaics"),
        ("tta.data", "tta data mosaic --size 64 --min-items 1 --max-items 5 --min-scale 0.75 "
                     "--max-scale 1.5 --max-overlap 0.25 --threshold 30 --noise 0"),
        ("tta.split", "train: 40000 mosaics of train images 0-54999 (seed 1); val: 2000 of 55000-59999 "
                      "(seed 2); test: 5000 of t10k (seed 3)"),
        ("tta.train_augment", "hflip p=0.5"),
        ("tta.seed", str(seed)),
        ("tta.epochs", str(epochs)),
        ("tta.reproduce", "/usr/bin/python3 scripts/train_detector.py"),
    ]


def export_onnx(net, path, meta):
    dep = Deployed(net).eval()
    dummy = torch.zeros(2, 1, 64, 64)
    tmp = path + ".tmp"
    torch.onnx.export(dep, (dummy,), tmp, opset_version=13, input_names=["image"], output_names=["detections"],
                      do_constant_folding=True,
                      dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "detections": {0: "N", 2: "anchors"}})
    with open(tmp, "rb") as f:
        data = f.read()
    os.remove(tmp)
    data += onnx_pb.metadata_bytes(meta)
    with open(path, "wb") as f:
        f.write(data)
    return data


def write_refs(dep, ref_dir, test, big):
    """Set 0: test mosaics 0..3 (batch 4, 64x64); set 1: test mosaic 4 flipped (batch 1);
    set 2: an 80x48 crop of a 96x96 test-split mosaic (batch 1; H and W are dynamic)."""
    sets = [test[0:4], test[4:5, :, ::-1], big[0:1]]
    for k, imgs in enumerate(sets):
        d = os.path.join(ref_dir, "test_data_set_%d" % k)
        os.makedirs(d, exist_ok=True)
        x = (np.ascontiguousarray(imgs[:, None]).astype(np.float32) / np.float32(255))
        with torch.no_grad():
            y = dep(torch.from_numpy(x)).numpy().astype(np.float32)
        onnx_pb.write_tensor_file(os.path.join(d, "input_0.pb"), x, "image")
        onnx_pb.write_tensor_file(os.path.join(d, "output_0.pb"), y, "detections")
    return len(sets)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=14)
    ap.add_argument("--seed", type=int, default=20240602)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--models-dir", default=os.path.join(ROOT, "models"))
    ap.add_argument("--work-dir", default=os.path.join(ROOT, "build", "models"))
    ap.add_argument("--train-limit", type=int, default=0, help="smoke test: train on the first N mosaics")
    ap.add_argument("--from-checkpoint", action="store_true",
                    help="skip training: load <work-dir>/detector.pt and redo evaluation, export and references")
    args = ap.parse_args()
    if args.threads > 2:
        ap.error("--threads: at most 2 (the machine is shared)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    def log(msg):
        print(msg, flush=True)

    t0 = time.time()
    data = {s: mosaic_data.load_mosaics(mosaic_data.make_mosaics(s, seed, count, log=log))
            for s, (seed, count) in DATA.items()}
    # a non-square input for the reference vectors (H and W are dynamic): a crop of a 96x96 mosaic
    big = mosaic_data.load_mosaics(mosaic_data.make_mosaics("test", 4, 1, 96, log=log))["images"][:, 8:88, 24:72]
    if args.train_limit:
        data["train"] = {k: (v[:args.train_limit] if k in ("images", "masks", "boxes", "labels") else v)
                         for k, v in data["train"].items()}
    log("data: %s (%.0fs)" % (", ".join("%s %d" % (s, len(d["images"])) for s, d in data.items()),
                              time.time() - t0))

    net = Detector()
    nparams = sum(p.numel() for p in net.parameters())
    log("detector: %d parameters; %d epochs, seed %d, %d threads" % (nparams, args.epochs, args.seed, args.threads))
    pt = os.path.join(args.work_dir, "detector.pt")
    train_info = os.path.join(args.work_dir, "detector.train.json")
    if args.from_checkpoint:
        net.load_state_dict(torch.load(pt))
        with open(train_info) as f:
            saved = json.load(f)
        train_seconds, args.epochs = saved["train_seconds"], saved["epochs"]
        log("loaded %s (trained in %.0f s)" % (pt, train_seconds))
    else:
        train_seconds = train(net, data["train"], args.epochs, args.seed, log=log)
        log("training took %.0f s" % train_seconds)
        os.makedirs(args.work_dir, exist_ok=True)
        torch.save(net.state_dict(), pt)
        with open(train_info, "w") as f:
            json.dump({"epochs": args.epochs, "seed": args.seed, "train_seconds": round(train_seconds, 1)}, f)

    net.eval()
    dep = Deployed(net).eval()
    results = {}
    t1 = time.time()
    for split, tta in (("val", False), ("test", False), ("test", True)):
        r = evaluate(dep, data[split], tta_flip=tta)
        results["%s%s" % (split, "_flip" if tta else "")] = r
        log("  %-4s %-9s mAP@[.5:.95] %.4f  mAP@.5 %.4f  mAP@.75 %.4f"
            % (split, "flip TTA" if tta else "single", r["map"], r["map50"], r["map75"]))
    log("  test AP per class: " + ", ".join("%s %.3f" % (n, a) for n, a in
                                            zip(mosaic_data.CLASS_NAMES, results["test"]["per_class"])))
    log("evaluation took %.0f s" % (time.time() - t1))

    os.makedirs(args.models_dir, exist_ok=True)
    onnx_path = os.path.join(args.models_dir, "detector.onnx")
    blob = export_onnx(net, onnx_path, metadata(args.seed, args.epochs, nparams))
    info = onnx_pb.describe_model(blob)
    op_types = sorted(set(info["op_types"]))
    log("exported %s: %d bytes, opset %s, %d nodes, op types %s"
        % (onnx_path, len(blob), info["opsets"].get(""), info["nodes"], op_types))
    log("  inputs %s outputs %s" % (info["inputs"], info["outputs"]))
    assert len(blob) < 2 * 1024 * 1024, "model is over 2 MB"

    ref_dir = os.path.join(args.models_dir, "refs", "detector")
    if os.path.isdir(ref_dir):
        shutil.rmtree(ref_dir)
    nsets = write_refs(dep, ref_dir, data["test"]["images"], big)
    if len(blob) < 300 * 1024:
        shutil.copyfile(onnx_path, os.path.join(ref_dir, "model.onnx"))
    log("wrote %d reference sets under %s%s" % (nsets, ref_dir, " (with model.onnx)" if len(blob) < 300 * 1024
                                                 else " (model over 300 KB: not copied)"))
    tta = os.path.join(ROOT, "build", "tta")
    if os.access(tta, os.X_OK) and os.path.exists(os.path.join(ref_dir, "model.onnx")):
        r = subprocess.run([tta, "conformance", "-v", ref_dir], capture_output=True, text=True)
        log("  build/tta conformance: " + (r.stdout.strip().splitlines() or ["?"])[-1])

    summary = {"name": "detector", "parameters": nparams, "epochs": args.epochs, "seed": args.seed,
               "threads": args.threads, "train_seconds": round(train_seconds, 1), "onnx_bytes": len(blob),
               "op_types": op_types, "nodes": info["nodes"], "results": results, "torch": torch.__version__}
    with open(os.path.join(args.work_dir, "detector.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log("done: %s (test mAP@[.5:.95] %.4f, mAP@.5 %.4f)" % (onnx_path, results["test"]["map"],
                                                           results["test"]["map50"]))


if __name__ == "__main__":
    main()
