"""train_classifier.py - trains, evaluates and exports a shipped Fashion-MNIST classifier.

    /usr/bin/python3 scripts/train_classifier.py --arch cnn       # -> models/fashion_cnn.onnx
    /usr/bin/python3 scripts/train_classifier.py --arch resnet    # -> models/fashion_resnet.onnx
    /usr/bin/python3 scripts/train_classifier.py --arch tiny      # -> models/fashion_tiny.onnx
    /usr/bin/python3 scripts/train_classifier.py --arch small     # -> models/fashion_small.onnx
    /usr/bin/python3 scripts/train_classifier.py --arch cnn_tenth # -> models/fashion_cnn_tenth.onnx
                                                                  #    (a tenth of the training split)

Steps (each printed as it goes):
1. Data: the project's fixed split (scripts/fashion_data.py): train = training images 0..54999,
   validation = 55000..59999 (never trained on), test = t10k.
2. Training with train-time augmentation done on whole batches with torch ops: random horizontal
   flip (p = 0.5) and, for 70% of the images, one random affine map (rotation up to +-10 degrees,
   scale 0.9..1.1, shift up to +-3 px in x and y; bilinear, zero fill) via affine_grid/grid_sample.
   SGD with Nesterov momentum, one-cycle LR, batch 128, fixed seeds, deterministic algorithms,
   1 torch thread by default (results are reproducible for a given thread count).
3. Evaluation on validation and test data, with and without a few TTA policies (mean of softmax
   probabilities over the views, then argmax); see VIEWS and POLICIES below.
4. Export to ONNX (opset 13, dynamic batch): uint8 input [N,1,28,28] (NCHW); the graph itself does
   Cast -> scale/normalise -> network -> Softmax, output probabilities [N,10]. metadata_props
   (preprocessing, class names, split, ...) are appended to the serialized ModelProto.
5. Reference vectors in the ONNX backend-test layout under models/refs/<name>/test_data_set_K/
   (input_0.pb uint8, output_0.pb float32), checked by decoding them back and by running the
   exported file through scripts/check_onnx.py (a numpy interpreter, independent of PyTorch).
6. The trained weights (build/models/<name>.pt) and the numbers (build/models/<name>.json) are kept
   for scripts/eval_classifiers.py (TTA versus a model ensemble at equal cost).
"""

import argparse
import copy
import json
import math
import os
import sys
import time

# OpenMP threads that spin while waiting are very slow on a shared, oversubscribed machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_data  # noqa: E402
import onnx_pb  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Fashion-MNIST pixel statistics (of pixel/255 over the training images).
MEAN = 0.2860
STD = 0.3530
IN_SCALE = 1.0 / (255.0 * STD)   # the graph computes x * IN_SCALE + IN_BIAS == (x/255 - MEAN)/STD
IN_BIAS = -MEAN / STD

# ---------------------------------------------------------------- models


def conv_bn_relu(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


class FashionCNN(nn.Module):
    """VGG-style: five 3x3 conv+BN+ReLU layers (32,32 | 64,64 | 128) with two 2x2 max-pools,
    global average pooling, dropout, one linear layer. 140k parameters."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn_relu(1, 32), *conv_bn_relu(32, 32), nn.MaxPool2d(2),
            *conv_bn_relu(32, 64), *conv_bn_relu(64, 64), nn.MaxPool2d(2),
            *conv_bn_relu(64, 128))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(128, 10))

    def forward(self, x):
        return self.head(self.features(x))


class FashionTiny(nn.Module):
    """Tiny: three 3x3 conv+BN+ReLU layers (8 @28x28 | max-pool | 16 @14x14 | max-pool | 24 @7x7),
    global average pooling, one linear layer. 5k parameters, 0.45 M multiply-adds: the regime of a
    weak model, where TTA has the most to give."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn_relu(1, 8), nn.MaxPool2d(2), *conv_bn_relu(8, 16), nn.MaxPool2d(2),
            *conv_bn_relu(16, 24))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 10))

    def forward(self, x):
        return self.head(self.features(x))


class FashionSmall(nn.Module):
    """Small: four 3x3 conv+BN+ReLU layers (16 @28x28 | max-pool | 32, 32 @14x14 | max-pool |
    64 @7x7), global average pooling, one linear layer. 33k parameters, 3.7 M multiply-adds."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn_relu(1, 16), nn.MaxPool2d(2), *conv_bn_relu(16, 32), *conv_bn_relu(32, 32),
            nn.MaxPool2d(2), *conv_bn_relu(32, 64))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.features(x))


class BasicBlock(nn.Module):
    """ResNet basic block: conv-BN-ReLU, conv-BN, plus the shortcut (1x1 conv-BN when the shape
    changes), then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        nn.init.zeros_(self.bn2.weight)  # each block starts as the identity
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class FashionResNet(nn.Module):
    """Tiny ResNet: 3x3 stem (24) then three basic blocks (24 @28x28, 48 @14x14 and 96 @7x7, the
    last two entered with stride-2 convolutions, no pooling layers), global average pooling, one
    linear layer. 174k parameters."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn_relu(1, 24))
        self.blocks = nn.Sequential(BasicBlock(24, 24, 1), BasicBlock(24, 48, 2),
                                    BasicBlock(48, 96, 2))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(96, 10))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


# train_images: the first N images of the training split only (0: all 55,000); cnn_tenth is the
# small-data case, the VGG-style CNN on a tenth of the training images (more epochs, as many
# steps as about 4 epochs of the full split).
ARCHS = {
    "cnn": {"cls": FashionCNN, "name": "fashion_cnn", "epochs": 9},
    "resnet": {"cls": FashionResNet, "name": "fashion_resnet", "epochs": 8},
    "tiny": {"cls": FashionTiny, "name": "fashion_tiny", "epochs": 15},
    "small": {"cls": FashionSmall, "name": "fashion_small", "epochs": 12},
    "cnn_tenth": {"cls": FashionCNN, "name": "fashion_cnn_tenth", "epochs": 40, "train_images": 5500},
}


class Deployed(nn.Module):
    """What is exported: uint8 [N,1,28,28] -> Cast -> x*IN_SCALE + IN_BIAS -> net -> softmax."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return F.softmax(self.net(x.float() * IN_SCALE + IN_BIAS), dim=1)


def probs_of_pixels(net, xf):
    """Softmax probabilities for float pixel values in 0..255 (the Deployed path without the
    uint8 cast, so views with interpolated values can be fed)."""
    return F.softmax(net(xf * IN_SCALE + IN_BIAS), dim=1)

# ---------------------------------------------------------------- augmentation


def random_affine_batch(x01, gen, max_rot=10.0, scale=(0.9, 1.1), max_shift=3.0, p_affine=0.7):
    """Train-time augmentation of a batch in [0,1]: hflip with p=0.5, then for a fraction
    p_affine of the images a random rotation/scale/shift (bilinear, zero fill)."""
    n, _, h, w = x01.shape
    u = torch.rand(n, 6, generator=gen)
    flip = u[:, 0] < 0.5
    x01 = torch.where(flip.view(n, 1, 1, 1), x01.flip(3), x01)
    ang = (u[:, 1] * 2 - 1) * math.radians(max_rot)
    s = scale[0] + u[:, 2] * (scale[1] - scale[0])
    tx = (u[:, 3] * 2 - 1) * max_shift * 2.0 / w   # normalised coords span 2 over w pixels
    ty = (u[:, 4] * 2 - 1) * max_shift * 2.0 / h
    on = (u[:, 5] < p_affine).float()
    cos, sin = torch.cos(ang) / s, torch.sin(ang) / s
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    eye = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(n, 2, 3)
    theta = on.view(n, 1, 1) * theta + (1 - on.view(n, 1, 1)) * eye
    grid = F.affine_grid(theta, list(x01.shape), align_corners=False)
    return F.grid_sample(x01, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

# ---------------------------------------------------------------- TTA views and policies
#
# Views act on float pixel images [N,1,H,W]. Conventions: hflip maps column j to W-1-j; shift
# (dx, dy) moves the content dx pixels right and dy pixels down, filling with 0; scale s magnifies
# the content by s about the image centre and rotation rotates it about the centre (both bilinear,
# align_corners=False, zero fill, so s = 0.9 shrinks the item and leaves a black border).


def view_hflip(x):
    return x.flip(3)


def view_shift(x, dx, dy):
    n, c, h, w = x.shape
    out = torch.zeros_like(x)
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[:, :, yd, xd] = x[:, :, ys, xs]
    return out


def view_affine(x, scale=1.0, degrees=0.0):
    n = x.shape[0]
    a = math.radians(degrees)
    # theta maps output to input coordinates: the inverse of "rotate by a, magnify by scale".
    c, s = math.cos(a) / scale, math.sin(a) / scale
    theta = torch.tensor([[c, s, 0.0], [-s, c, 0.0]], dtype=x.dtype).expand(n, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


VIEWS = {
    "id": lambda x: x,
    "hflip": view_hflip,
    "scale0.9": lambda x: view_affine(x, scale=0.9),
    "scale1.1": lambda x: view_affine(x, scale=1.1),
    "x+2": lambda x: view_shift(x, 2, 0),
    "x-2": lambda x: view_shift(x, -2, 0),
    "y+2": lambda x: view_shift(x, 0, 2),
    "y-2": lambda x: view_shift(x, 0, -2),
    "rot+10": lambda x: view_affine(x, degrees=10.0),
    "rot-10": lambda x: view_affine(x, degrees=-10.0),
}

POLICIES = [
    ("none", ["id"]),
    ("hflip", ["id", "hflip"]),
    ("hflip + scales 0.9/1.1", ["id", "hflip", "scale0.9", "scale1.1"]),
    ("shifts +-2 px", ["id", "x+2", "x-2", "y+2", "y-2"]),
    ("rotations +-10 deg", ["id", "rot+10", "rot-10"]),
    ("hflip + shifts +-2 px", ["id", "hflip", "x+2", "x-2", "y+2", "y-2"]),
]


@torch.no_grad()
def view_probs(net, images_u8, view_names, batch=128, channels_last=False):
    """{view name: float64 numpy probs [N,10]} for uint8 images [N,28,28]. channels_last
    converts net in place (about twice as fast on CPU for inference)."""
    net.eval()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net.to(memory_format=fmt)
    out = {v: [] for v in view_names}
    for i in range(0, len(images_u8), batch):
        xf = torch.from_numpy(images_u8[i:i + batch]).float().unsqueeze(1)
        for v in view_names:
            xv = VIEWS[v](xf).contiguous(memory_format=fmt)
            out[v].append(probs_of_pixels(net, xv).double().numpy())
    return {v: np.concatenate(p) for v, p in out.items()}


def policy_table(probs, labels):
    """[(policy, views, accuracy, mean NLL)] merging views by the mean of probabilities."""
    rows = []
    for name, views in POLICIES:
        p = np.mean([probs[v] for v in views], axis=0)
        acc = float(np.mean(p.argmax(1) == labels))
        nll = float(-np.mean(np.log(np.maximum(p[np.arange(len(labels)), labels], 1e-12))))
        rows.append({"policy": name, "views": len(views), "accuracy": acc, "nll": nll})
    return rows

# ---------------------------------------------------------------- training


def accuracy(net, images_u8, labels, batch=128):
    p = view_probs(net, images_u8, ["id"], batch)["id"]
    return float(np.mean(p.argmax(1) == labels))


def train(net, data, epochs, seed, batch=128, max_lr=0.1, wd=5e-4, log=print):
    x_tr, y_tr = data["train"]
    x_va, y_va = data["val"]
    rng = np.random.RandomState(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    steps = len(x_tr) // batch  # drop the last partial batch (BatchNorm prefers full batches)
    decay, no_decay = [], []
    for p in net.parameters():
        (decay if p.dim() > 1 else no_decay).append(p)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": wd},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=max_lr, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, epochs=epochs,
                                                steps_per_epoch=steps, pct_start=0.25)
    x_tr_t = torch.from_numpy(x_tr)
    y_tr_t = torch.from_numpy(y_tr.astype(np.int64))
    t0 = time.time()
    history = []
    for ep in range(epochs):
        net.train()
        perm = torch.from_numpy(rng.permutation(len(x_tr)))
        tot_loss = tot_ok = seen = 0
        for k in range(steps):
            idx = perm[k * batch:(k + 1) * batch]
            x = x_tr_t[idx].float().unsqueeze(1) / 255.0
            x = random_affine_batch(x, gen)
            y = y_tr_t[idx]
            logits = net((x - MEAN) / STD)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot_loss += float(loss) * len(y)
            tot_ok += int((logits.argmax(1) == y).sum())
            seen += len(y)
            if (k + 1) % 100 == 0:
                log("  epoch %d step %d/%d loss %.4f train-acc %.4f lr %.4f  %.0fs"
                    % (ep + 1, k + 1, steps, tot_loss / seen, tot_ok / seen,
                       sched.get_last_lr()[0], time.time() - t0))
        val_acc = accuracy(net, x_va, y_va)
        history.append({"epoch": ep + 1, "loss": tot_loss / seen, "train_acc": tot_ok / seen,
                        "val_acc": val_acc, "seconds": time.time() - t0})
        log("epoch %d/%d  loss %.4f  train-acc(aug) %.4f  val-acc %.4f  %.0fs"
            % (ep + 1, epochs, tot_loss / seen, tot_ok / seen, val_acc, time.time() - t0))
    return history, time.time() - t0

# ---------------------------------------------------------------- export


def metadata(arch, name, seed, epochs, train_images=0):
    return [
        ("tta.task", "classification"),
        ("tta.model", name),
        ("tta.architecture", arch),
        ("tta.input_name", "image"),
        ("tta.input_layout", "NCHW"),
        ("tta.input_dtype", "uint8"),
        ("tta.input_size", "28x28"),
        ("tta.channels", "1"),
        ("tta.preprocess", "inside-graph"),
        ("tta.preprocess_formula", "(float(x)*scale - mean)/std, done by the graph"),
        ("tta.scale", "1/255"),
        ("tta.mean", "%.4f" % MEAN),
        ("tta.std", "%.4f" % STD),
        ("tta.output_name", "probs"),
        ("tta.output", "softmax"),
        ("tta.num_classes", "10"),
        ("tta.class_names", ",".join(fashion_data.CLASS_NAMES)),
        ("tta.dataset", "fashion-mnist"),
        ("tta.split", fashion_data.SPLIT_TEXT if not train_images else
         fashion_data.SPLIT_TEXT.replace("train:0-54999", "train:0-%d" % (train_images - 1))),
        ("tta.train_augment", "hflip p=0.5; p=0.7 affine: rotation +-10 deg, scale 0.9-1.1, "
                              "shift +-3 px (bilinear, zero fill)"),
        ("tta.seed", str(seed)),
        ("tta.epochs", str(epochs)),
        ("tta.reproduce", "/usr/bin/python3 scripts/train_classifier.py --arch %s" % arch),
    ]


def export_onnx(net, path, meta):
    """Exports Deployed(net) to `path` with a dynamic batch and appended metadata_props."""
    net.eval()
    dep = Deployed(net).eval()
    dummy = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    tmp = path + ".tmp"
    torch.onnx.export(dep, (dummy,), tmp, opset_version=13, input_names=["image"],
                      output_names=["probs"], do_constant_folding=True,
                      dynamic_axes={"image": {0: "N"}, "probs": {0: "N"}})
    with open(tmp, "rb") as f:
        data = f.read()
    os.remove(tmp)
    data += onnx_pb.metadata_bytes(meta)
    with open(path, "wb") as f:
        f.write(data)
    return data


def write_refs(net, ref_dir, test_x):
    """Reference vectors: set 0 = test images 0..7 (batch 8), set 1 = test image 8 (batch 1),
    set 2 = test images 9..11 horizontally flipped (batch 3)."""
    dep = Deployed(net).eval()
    sets = [test_x[0:8], test_x[8:9], test_x[9:12, :, ::-1]]
    for k, imgs in enumerate(sets):
        d = os.path.join(ref_dir, "test_data_set_%d" % k)
        os.makedirs(d, exist_ok=True)
        x = np.ascontiguousarray(imgs[:, None, :, :]).astype(np.uint8)
        with torch.no_grad():
            y = dep(torch.from_numpy(x)).numpy().astype(np.float32)
        onnx_pb.write_tensor_file(os.path.join(d, "input_0.pb"), x, "image")
        onnx_pb.write_tensor_file(os.path.join(d, "output_0.pb"), y, "probs")
    return len(sets)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=sorted(ARCHS), default="cnn")
    ap.add_argument("--epochs", type=int, default=None, help="default: per architecture")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1 is fastest on the shared 2-core machine: run the two "
                         "models side by side)")
    ap.add_argument("--models-dir", default=os.path.join(ROOT, "models"))
    ap.add_argument("--work-dir", default=os.path.join(ROOT, "build", "models"))
    ap.add_argument("--train-limit", type=int, default=0,
                    help="smoke test only: train on the first N training images")
    args = ap.parse_args()

    if args.threads > 2:
        ap.error("--threads: at most 2 (the machine is shared)")
    spec = ARCHS[args.arch]
    epochs = args.epochs or spec["epochs"]
    name = spec["name"]
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    def log(msg):
        print(msg, flush=True)

    data = fashion_data.load_all()
    if spec.get("train_images"):
        data["train"] = tuple(a[:spec["train_images"]] for a in data["train"])
    if args.train_limit:
        data["train"] = tuple(a[:args.train_limit] for a in data["train"])
    net = spec["cls"]()
    nparams = sum(p.numel() for p in net.parameters())
    log("%s (%s): %d parameters; %d epochs, seed %d, %d threads"
        % (name, args.arch, nparams, epochs, args.seed, args.threads))
    history, train_seconds = train(net, data, epochs, args.seed, log=log)
    log("training took %.0f s" % train_seconds)
    os.makedirs(args.work_dir, exist_ok=True)
    torch.save(net.state_dict(), os.path.join(args.work_dir, name + ".pt"))

    # Evaluation with and without TTA.
    t0 = time.time()
    views = sorted({v for _, vs in POLICIES for v in vs})
    results = {}
    for split in ("val", "test"):
        x, y = data[split]
        results[split] = policy_table(view_probs(copy.deepcopy(net), x, views,
                                                 channels_last=True), y)
        for r in results[split]:
            log("  %-5s %-26s views %d  accuracy %.4f  nll %.4f"
                % (split, r["policy"], r["views"], r["accuracy"], r["nll"]))
    log("evaluation took %.0f s" % (time.time() - t0))

    # Export, metadata, reference vectors, checks.
    os.makedirs(args.models_dir, exist_ok=True)
    os.makedirs(args.work_dir, exist_ok=True)
    onnx_path = os.path.join(args.models_dir, name + ".onnx")
    data_bytes = export_onnx(net, onnx_path, metadata(args.arch, name, args.seed, epochs,
                                                      spec.get("train_images", 0)))
    info = onnx_pb.describe_model(data_bytes)
    op_types = sorted(set(info["op_types"]))
    log("exported %s: %d bytes, opset %s, %d nodes, op types %s"
        % (onnx_path, len(data_bytes), info["opsets"].get(""), info["nodes"], op_types))
    log("  inputs %s outputs %s" % (info["inputs"], info["outputs"]))
    assert len(data_bytes) < 2 * 1024 * 1024, "model is over 2 MB"
    assert info["inputs"] == [("image", onnx_pb.UINT8, ["N", 1, 28, 28])], info["inputs"]
    assert info["outputs"] == [("probs", onnx_pb.FLOAT, ["N", 10])], info["outputs"]
    assert info["metadata"]["tta.class_names"].split(",") == fashion_data.CLASS_NAMES

    ref_dir = os.path.join(args.models_dir, "refs", name)
    nsets = write_refs(net, ref_dir, data["test"][0])
    log("wrote %d reference sets under %s" % (nsets, ref_dir))
    import check_onnx  # the numpy interpreter: the exported graph must match PyTorch
    ok = check_onnx.check_refs(onnx_path, ref_dir, log=log)
    assert ok, "exported ONNX does not reproduce the reference vectors"

    summary = {
        "name": name, "arch": args.arch, "parameters": nparams, "epochs": epochs,
        "seed": args.seed, "threads": args.threads, "train_seconds": round(train_seconds, 1),
        "history": history, "results": results, "onnx_bytes": len(data_bytes),
        "op_types": op_types, "nodes": info["nodes"], "opset": info["opsets"].get(""),
        "torch": torch.__version__,
    }
    with open(os.path.join(args.work_dir, name + ".json"), "w") as f:
        json.dump(summary, f, indent=1)
    log("done: %s (test accuracy %.4f, val accuracy %.4f)"
        % (onnx_path, results["test"][0]["accuracy"], results["val"][0]["accuracy"]))


if __name__ == "__main__":
    main()
