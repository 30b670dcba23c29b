#!/usr/bin/python3
"""Export the small whole-model test cases under tests/models/.

Builds four small image models with a fixed seed (a ResNet-style and a MobileNetV2-style
classifier, a U-Net-style segmenter and a YOLO-style detection head), exports each with a dynamic
batch axis at opsets 13 and 17, and writes beside each model.onnx two test data sets (batch 1 and
batch 3) in the layout of the ONNX backend test suite:

    tests/models/<name>_op<N>/model.onnx
    tests/models/<name>_op<N>/test_data_set_<k>/input_0.pb, output_0.pb, output_1.pb, ...

Inputs are seeded random tensors; outputs are PyTorch's, in eval mode, float32. The .pb files are
ONNX TensorProto messages, written by the small protobuf encoder below (the `onnx` Python package is
not needed) and checked by decoding them back. `tta conformance tests/models` runs the cases;
scripts/check_whole_models.py checks them against an independent NumPy reading of the graphs.

Run:  /usr/bin/python3 scripts/export_whole_models.py [OUT_DIR]   (default: tests/models)
"""

import io
import os
import shutil
import struct
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_pb  # noqa: E402  (the protobuf writer/reader shared by the scripts)

SEED = 20240611
OPSETS = (13, 17)
BATCHES = (1, 3)  # test_data_set_0 and test_data_set_1: the second exercises the dynamic batch

# ---------------------------------------------------------------------------------------------
# Listing a model's opsets and ops (the wire format itself is scripts/onnx_pb.py).


def model_summary(buf):
    """From a serialized ModelProto: opset imports, node op types, initializer byte count."""
    opsets, ops, init_bytes = {}, [], 0
    graph = None
    for field, _, value in onnx_pb.fields(buf):
        if field == 8:  # opset_import: OperatorSetIdProto {domain=1, version=2}
            dom, ver = "", 0
            for f, _, v in onnx_pb.fields(value):
                if f == 1:
                    dom = bytes(v).decode()
                elif f == 2:
                    ver = v
            opsets[dom] = ver
        elif field == 7:
            graph = value
    for field, _, value in onnx_pb.fields(graph):
        if field == 1:  # NodeProto.op_type = 4
            ops += [bytes(v).decode() for f, _, v in onnx_pb.fields(value) if f == 4]
        elif field == 5:
            init_bytes += len(value)
    return opsets, ops, init_bytes


# ---------------------------------------------------------------------------------------------
# Models. Few channels so that each .onnx stays small.


def conv_bn(cin, cout, k=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = conv_bn(cin, cout, 3, stride)
        self.c2 = conv_bn(cout, cout, 3, 1)
        self.down = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.c2(F.relu(self.c1(x)))
        return F.relu(y + (x if self.down is None else self.down(x)))


class TinyResNet(nn.Module):
    """ResNet-style: stem conv/BN/ReLU/MaxPool, basic blocks with residual Add, GAP, Linear."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = conv_bn(3, 12, 3, 1)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = BasicBlock(12, 12, 1)
        self.layer2 = BasicBlock(12, 20, 2)
        self.layer3 = BasicBlock(20, 28, 2)
        self.bn_final = nn.BatchNorm2d(28)  # not after a conv: a BatchNormalization node remains
        self.avg = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(28, classes)

    def forward(self, x):
        x = self.pool(F.relu(self.stem(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avg(self.bn_final(x))
        return self.fc(torch.flatten(x, 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hid = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers += [conv_bn(cin, hid, 1), nn.ReLU6()]
        layers += [conv_bn(hid, hid, 3, stride, groups=hid), nn.ReLU6(), conv_bn(hid, cout, 1)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.body(x) if self.use_res else self.body(x)


class TinyMobileNetV2(nn.Module):
    """MobileNetV2-style: depthwise 3x3 convs, inverted residuals, ReLU6, adaptive avg pool."""

    def __init__(self, classes=10):
        super().__init__()
        cfg = [(8, 1, 1, 1), (12, 2, 2, 4), (12, 1, 1, 4), (16, 2, 2, 4), (16, 1, 1, 4), (24, 1, 1, 4)]
        layers = [conv_bn(3, 8, 3, 2), nn.ReLU6()]
        cin = 8
        for cout, stride, _, expand in cfg:
            layers.append(InvertedResidual(cin, cout, stride, expand))
            cin = cout
        layers += [conv_bn(cin, 48, 1), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(48, classes)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.fc(self.dropout(torch.flatten(x, 1)))


def double_conv(cin, cout):
    return nn.Sequential(conv_bn(cin, cout), nn.ReLU(), conv_bn(cout, cout), nn.ReLU())


class TinyUNet(nn.Module):
    """U-Net-style: two downsamplings, one ConvTranspose and one bilinear upsampling, skip Concats,
    softmax over the class axis."""

    def __init__(self, classes=4):
        super().__init__()
        self.enc1 = double_conv(3, 8)
        self.enc2 = double_conv(8, 12)
        self.mid = double_conv(12, 16)
        self.up2 = nn.ConvTranspose2d(16, 12, 2, stride=2)
        self.dec2 = double_conv(24, 12)
        self.red1 = nn.Conv2d(12, 8, 1)
        self.dec1 = double_conv(16, 8)
        self.head = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], 1))
        u1 = F.interpolate(self.red1(d2), scale_factor=2, mode="bilinear", align_corners=False)
        d1 = self.dec1(torch.cat([u1, e1], 1))
        # Per-pixel class probabilities: logits of a segmenter come close to zero at some of its
        # many pixels, where float32 rounding alone breaks the relative tolerance of the test.
        return F.softmax(self.head(d1), dim=1)


class TinyYolo(nn.Module):
    """YOLOv5-style head on a small conv backbone, two scales, decoded as in YOLOv5's export.

    Outputs: `detections` (batch, boxes, 5 + classes) = decoded xywh in input pixels, objectness,
    class scores; `raw_p3` the stride-8 head's raw logits permuted to (batch, anchors, ny, nx, no).
    """

    def __init__(self, classes=3, size=32):
        super().__init__()
        self.na, self.no = 3, 5 + classes
        self.b1 = nn.Sequential(conv_bn(3, 8, 3, 2), nn.SiLU(), conv_bn(8, 12, 3, 2), nn.SiLU(),
                                conv_bn(12, 16, 3, 2), nn.SiLU())       # stride 8
        self.b2 = nn.Sequential(conv_bn(16, 24, 3, 2), nn.LeakyReLU(0.1))  # stride 16
        self.heads = nn.ModuleList([nn.Conv2d(16, self.na * self.no, 1),
                                    nn.Conv2d(24, self.na * self.no, 1)])
        self.strides = (8, 16)
        anchors = torch.tensor([[[10, 13], [16, 30], [33, 23]], [[30, 61], [62, 45], [59, 119]]],
                               dtype=torch.float32)
        for i, s in enumerate(self.strides):
            n = size // s
            yv, xv = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
            grid = torch.stack((xv, yv), 2).view(1, 1, n, n, 2).float()
            self.register_buffer("grid%d" % i, grid)
            self.register_buffer("anchor%d" % i, anchors[i].view(1, self.na, 1, 1, 2))

    def forward(self, x):
        f1 = self.b1(x)
        feats = (f1, self.b2(f1))
        z, raw = [], None
        for i, f in enumerate(feats):
            p = self.heads[i](f)
            bs, _, ny, nx = p.shape
            p = p.view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            if i == 0:
                raw = p
            y = p.sigmoid()
            grid, anchor = getattr(self, "grid%d" % i), getattr(self, "anchor%d" % i)
            xy = (y[..., 0:2] * 2 - 0.5 + grid) * self.strides[i]
            wh = (y[..., 2:4] * 2) ** 2 * anchor
            z.append(torch.cat((xy, wh, y[..., 4:]), -1).view(bs, -1, self.no))
        return torch.cat(z, 1), raw


# name, constructor, input (C, H, W), output names, keep BatchNormalization nodes unfolded
MODELS = [
    ("resnet_tiny", TinyResNet, (3, 32, 32), ["logits"], True),
    ("mobilenetv2_tiny", TinyMobileNetV2, (3, 32, 32), ["logits"], False),
    ("unet_tiny", TinyUNet, (3, 32, 32), ["seg_probs"], True),
    ("yolo_tiny", TinyYolo, (3, 32, 32), ["detections", "raw_p3"], False),
]


def randomise(model, gen, chw):
    """Non-trivial BatchNorm statistics and affine parameters, so that folding bugs show.

    Random gamma and beta; running statistics first measured on a random batch (so that the signal
    neither dies nor explodes with depth and the outputs depend on the input), then perturbed so
    that they are not exactly the batch's statistics.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            c = m.num_features
            m.weight.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
            m.bias.copy_(torch.randn(c, generator=gen) * 0.3)
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration pass
        model.train()
        model(torch.randn((8,) + chw, generator=gen))
        for m in bns:
            c = m.num_features
            m.running_mean.add_(torch.randn(c, generator=gen) * 0.3 * m.running_var.sqrt())
            m.running_var.mul_(torch.rand(c, generator=gen) + 0.6)
            m.momentum = 0.1
    model.eval()


def export_onnx(model, example, opset, out_names, keep_bn):
    axes = {"input": {0: "batch"}}
    axes.update({n: {0: "batch"} for n in out_names})
    # EVAL lets the exporter fold each BatchNorm into the Conv before it; PRESERVE (the model is
    # in eval mode) keeps them as inference-mode BatchNormalization nodes for the runtime to run.
    mode = torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example, f, opset_version=opset, input_names=["input"],
                          output_names=out_names, dynamic_axes=axes, do_constant_folding=True,
                          training=mode)
    return f.getvalue()


def tolerance_ratio(got, ref):
    """Worst |got - ref| / (1e-7 + 1e-3 |ref|): the conformance rule passes while this is <= 1."""
    ref = ref.astype(np.float64)
    return float(np.max(np.abs(got.astype(np.float64) - ref) / (1e-7 + 1e-3 * np.abs(ref))))


def main():
    out_root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "models")
    out_root = os.path.normpath(out_root)
    torch.set_num_threads(1)
    os.makedirs(out_root, exist_ok=True)
    for idx, (name, ctor, chw, out_names, keep_bn) in enumerate(MODELS):
        torch.manual_seed(SEED + idx)
        gen = torch.Generator().manual_seed(SEED + 100 + idx)
        model = ctor()
        randomise(model, gen, chw)
        inputs = [torch.randn((b,) + chw, generator=gen) for b in BATCHES]
        with torch.no_grad():
            outputs = []
            for x in inputs:
                y = model(x)
                outputs.append([t.float().numpy() for t in (y if isinstance(y, tuple) else (y,))])
            # Margin of PyTorch's own float32 error against a float64 run, under the suite's rule.
            m64 = ctor().double()
            m64.load_state_dict(model.state_dict())
            m64.eval()
            margin = 0.0
            for x, outs in zip(inputs, outputs):
                y = m64(x.double())
                for a, b in zip(outs, y if isinstance(y, tuple) else (y,)):
                    margin = max(margin, tolerance_ratio(a, b.numpy()))
        for opset in OPSETS:
            case = os.path.join(out_root, "%s_op%d" % (name, opset))
            shutil.rmtree(case, ignore_errors=True)
            os.makedirs(case)
            blob = export_onnx(model, inputs[0], opset, out_names, keep_bn)
            with open(os.path.join(case, "model.onnx"), "wb") as f:
                f.write(blob)
            opsets, ops, _ = model_summary(blob)
            assert opsets.get("", 0) == opset, opsets
            for k, (x, outs) in enumerate(zip(inputs, outputs)):
                ds = os.path.join(case, "test_data_set_%d" % k)
                os.makedirs(ds)
                tensors = [("input_0.pb", "input", x.numpy())]
                tensors += [("output_%d.pb" % i, n, a) for i, (n, a) in
                            enumerate(zip(out_names, outs))]
                for fname, tname, arr in tensors:
                    path = os.path.join(ds, fname)
                    with open(path, "wb") as f:
                        f.write(onnx_pb.encode_tensor(np.ascontiguousarray(arr, dtype="<f4"), tname))
                    with open(path, "rb") as f:
                        back_name, back = onnx_pb.decode_tensor(f.read())
                    assert back_name == tname and back.shape == arr.shape, (path, back.shape)
                    assert np.array_equal(back, arr.astype(np.float32)), path
            size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(case)
                       for f in fs)
            counts = {}
            for op in ops:
                counts[op] = counts.get(op, 0) + 1
            print("%-22s model %6d B, case %7d B, f32-vs-f64 margin %.3f; ops: %s" % (
                os.path.basename(case), len(blob), size, margin,
                ", ".join("%s x%d" % kv for kv in sorted(counts.items()))))
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out_root) for f in fs)
    print("total %d bytes in %s" % (total, out_root))


if __name__ == "__main__":
    main()
