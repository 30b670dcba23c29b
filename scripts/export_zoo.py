#!/usr/bin/python3
"""Export the model zoo: common image-model families with seeded random weights.

    /usr/bin/python3 scripts/export_zoo.py --variant small|full [--out DIR] [--only NAME,...]

Each family is built with PyTorch (torchvision's own constructors for the torchvision families,
weights=None: nothing is downloaded), given seeded random weights and BatchNorm statistics, put
in eval mode and exported with torch.onnx at opset 13 with a dynamic batch axis. Beside each
model.onnx go test data sets in the layout of the ONNX backend test suite, so that
`build/tta conformance DIR` checks the runtime against PyTorch. The reference outputs are those
of a float64 copy of the model on the same (float32 or uint8) inputs, rounded to float32: the
exact answer for the graph, so that the whole test tolerance is left to the runtime's own
float32 rounding.

    DIR/<name>/model.onnx
    DIR/<name>/test_data_set_<k>/input_0.pb, output_0.pb

Variants:
  small  num_classes 10, input 3x64x64, reduced widths; test_data_set_0 at batch 1 and
         test_data_set_1 at batch 2. Written to tests/zoo/ (committed; each model.onnx stays
         under 1.5 MB). scripts/bench.sh does not use these.
  full   torchvision's default widths, num_classes 1000, input 3x96x96 (the custom models
         3x64x64); one test_data_set_0 at batch 2. Written to build/zoo/ (never committed):
         `make bench` (scripts/bench.sh) generates it when missing or older than this script.

For every model the script prints the parameter count, file size, the ONNX operators used, and
the worst |float32 - float64| / (1e-7 + 1e-3 |float64|) of PyTorch's own float32 output against
the float64 one: the share of the test tolerance that a float32 runtime as careful as PyTorch
spends on rounding (float32 PyTorch itself would pass the test while this is <= 1); a warning
above 0.3. Classifiers and segmenters end in a Softmax over the classes (outputs "probs",
"seg_probs"): raw logits come close to zero at some values, where the relative tolerance is
tighter than float32 rounding (the ratio of the raw logits is printed too). The last layer is
scaled so that its outputs are informative (see scale_output_layer).

Everything is seeded and run on one thread, so a re-run writes byte-identical files.
See tests/zoo/README.md for the model card.
"""

import argparse
import copy
import io
import os
import shutil
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
from torchvision.models import convnext as tv_convnext
from torchvision.models import densenet as tv_densenet
from torchvision.models import efficientnet as tv_efficientnet
from torchvision.models import mnasnet as tv_mnasnet
from torchvision.models import mobilenetv3 as tv_mobilenetv3
from torchvision.models import regnet as tv_regnet
from torchvision.models import resnet as tv_resnet
from torchvision.models import shufflenetv2 as tv_shufflenetv2
from torchvision.models import squeezenet as tv_squeezenet

# torchvision.models.googlenet is the constructor function (it shadows the module of that name)
tv_googlenet = sys.modules["torchvision.models.googlenet"]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_pb  # noqa: E402  (the protobuf writer/reader shared by the scripts)

SEED = 20250301
OPSET = 13
RATIO_WARN = 0.3  # float32-vs-float64 ratio above which a reference is too noisy for the tests
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# ---------------------------------------------------------------------------------------------
# Custom topologies for the small variants where torchvision's constructor has no width knob.
# They reuse torchvision's own block classes and replicate the forward pass of the original.


class ResNet18W(nn.Module):
    """ResNet-18 topology (torchvision.models.resnet.ResNet with BasicBlock, [2, 2, 2, 2]) with
    the stage widths as a parameter; torchvision's BasicBlock and forward pass."""

    def __init__(self, widths=(64, 128, 256, 512), num_classes=1000):
        super().__init__()
        block = tv_resnet.BasicBlock
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        layers = []
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or self.inplanes != w:
                down = nn.Sequential(tv_resnet.conv1x1(self.inplanes, w, stride), nn.BatchNorm2d(w))
            layers.append(nn.Sequential(block(self.inplanes, w, stride, down), block(w, w)))
            self.inplanes = w
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1], num_classes)
        for m in self.modules():  # torchvision's ResNet initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class SqueezeNet11W(nn.Module):
    """SqueezeNet 1.1 topology with every width scaled; torchvision's Fire module."""

    def __init__(self, scale=1.0, num_classes=1000):
        super().__init__()
        s = lambda c: max(4, int(round(c * scale)))  # noqa: E731
        Fire = tv_squeezenet.Fire
        self.features = nn.Sequential(
            nn.Conv2d(3, s(64), kernel_size=3, stride=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(s(64), s(16), s(64), s(64)), Fire(2 * s(64), s(16), s(64), s(64)),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(2 * s(64), s(32), s(128), s(128)), Fire(2 * s(128), s(32), s(128), s(128)),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(2 * s(128), s(48), s(192), s(192)), Fire(2 * s(192), s(48), s(192), s(192)),
            Fire(2 * s(192), s(64), s(256), s(256)), Fire(2 * s(256), s(64), s(256), s(256)))
        final_conv = nn.Conv2d(2 * s(256), num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=0.5), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():  # torchvision's SqueezeNet initialisation
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class GoogLeNetW(nn.Module):
    """GoogLeNet topology (aux_logits=False, transform_input=False) with every width scaled;
    torchvision's BasicConv2d and Inception modules and init_weights=True initialisation."""

    def __init__(self, scale=1.0, num_classes=1000):
        super().__init__()
        s = lambda c: max(4, int(round(c * scale)))  # noqa: E731
        conv, inc = tv_googlenet.BasicConv2d, tv_googlenet.Inception

        def inception(cin, *w):
            m = inc(cin, *[s(c) for c in w])
            return m, s(w[0]) + s(w[2]) + s(w[4]) + s(w[5])

        self.conv1 = conv(3, s(64), kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv(s(64), s(64), kernel_size=1)
        self.conv3 = conv(s(64), s(192), kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        c = s(192)
        self.inception3a, c = inception(c, 64, 96, 128, 16, 32, 32)
        self.inception3b, c = inception(c, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a, c = inception(c, 192, 96, 208, 16, 48, 64)
        self.inception4b, c = inception(c, 160, 112, 224, 24, 64, 64)
        self.inception4c, c = inception(c, 128, 128, 256, 24, 64, 64)
        self.inception4d, c = inception(c, 112, 144, 288, 32, 64, 64)
        self.inception4e, c = inception(c, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a, c = inception(c, 256, 160, 320, 32, 128, 128)
        self.inception5b, c = inception(c, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=0.2)
        self.fc = nn.Linear(c, num_classes)
        for m in self.modules():  # GoogLeNet's init_weights=True
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


# --- U-Net segmenter -------------------------------------------------------------------------


def conv_bn_relu(cin, cout, k=3):
    return [nn.Conv2d(cin, cout, k, 1, k // 2, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


def double_conv(cin, cout):
    return nn.Sequential(*conv_bn_relu(cin, cout), *conv_bn_relu(cout, cout))


class UNet(nn.Module):
    """U-Net: four MaxPool-2 downsamplings with double conv-BN-ReLU blocks; on the way up,
    ConvTranspose 2/2 at the two deepest steps and bilinear Upsample (x2, align_corners=False)
    + 1x1 conv at the two shallower ones, each followed by a skip Concat and a double conv; a 1x1
    head to per-pixel class logits."""

    def __init__(self, widths=(32, 64, 128, 256, 512), classes=21):
        super().__init__()
        w = widths
        self.enc = nn.ModuleList([double_conv(3, w[0])] +
                                 [double_conv(w[i], w[i + 1]) for i in range(len(w) - 1)])
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for i in range(len(w) - 1, 0, -1):  # from the bottom up: w[i] -> w[i-1]
            if i >= len(w) - 2:
                self.up.append(nn.ConvTranspose2d(w[i], w[i - 1], 2, stride=2))
            else:
                self.up.append(nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                    nn.Conv2d(w[i], w[i - 1], 1)))
            self.dec.append(double_conv(2 * w[i - 1], w[i - 1]))
        self.head = nn.Conv2d(w[0], classes, 1)

    def forward(self, x):
        skips = []
        for i, e in enumerate(self.enc):
            x = e(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()
        for up, dec in zip(self.up, self.dec):
            x = dec(torch.cat([up(x), skips.pop()], 1))
        return self.head(x)


# --- YOLOv8-style detector -------------------------------------------------------------------


class ConvBnSiLU(nn.Module):
    def __init__(self, cin, cout, k=1, s=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut):
        super().__init__()
        self.cv1 = ConvBnSiLU(c, c, 3)
        self.cv2 = ConvBnSiLU(c, c, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """YOLOv8's C2f: 1x1 conv to 2c, split in two halves, n bottlenecks chained on the second
    half, every intermediate concatenated, 1x1 conv out."""

    def __init__(self, cin, cout, n=1, shortcut=False):
        super().__init__()
        self.c = cout // 2
        self.cv1 = ConvBnSiLU(cin, 2 * self.c, 1)
        self.cv2 = ConvBnSiLU((2 + n) * self.c, cout, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).split((self.c, self.c), 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, cin, cout, k=5):
        super().__init__()
        c = cin // 2
        self.cv1 = ConvBnSiLU(cin, c, 1)
        self.cv2 = ConvBnSiLU(4 * c, cout, 1)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class YoloV8(nn.Module):
    """YOLOv8-style detector (after ultralytics' yolov8.yaml, written out here): backbone of
    strided SiLU convs and C2f blocks with SPPF (MaxPool 5 three times); PAN neck with nearest
    Upsample x2 + Concat going up and strided convs + Concat going down; a decoupled anchor-free
    head at strides 8, 16, 32 with DFL box decoding (softmax over reg_max bins, expectation by a
    fixed 1x1 conv) and sigmoid class scores. Output (N, 4 + classes, anchors): box centre x, y and
    width, height in input pixels, then class scores."""

    def __init__(self, widths=(16, 32, 64, 128, 256), depths=(1, 2, 2, 1), classes=80, size=64,
                 reg_max=16):
        super().__init__()
        w, d = widths, depths
        self.nc, self.reg_max = classes, reg_max
        self.no = classes + 4 * reg_max
        self.b0 = ConvBnSiLU(3, w[0], 3, 2)                                   # P1/2
        self.b1 = nn.Sequential(ConvBnSiLU(w[0], w[1], 3, 2), C2f(w[1], w[1], d[0], True))  # P2/4
        self.b2 = nn.Sequential(ConvBnSiLU(w[1], w[2], 3, 2), C2f(w[2], w[2], d[1], True))  # P3/8
        self.b3 = nn.Sequential(ConvBnSiLU(w[2], w[3], 3, 2), C2f(w[3], w[3], d[2], True))  # P4/16
        self.b4 = nn.Sequential(ConvBnSiLU(w[3], w[4], 3, 2), C2f(w[4], w[4], d[3], True),
                                SPPF(w[4], w[4], 5))                                       # P5/32
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.n1 = C2f(w[4] + w[3], w[3], 1)
        self.n2 = C2f(w[3] + w[2], w[2], 1)          # P3 out
        self.d1 = ConvBnSiLU(w[2], w[2], 3, 2)
        self.n3 = C2f(w[2] + w[3], w[3], 1)          # P4 out
        self.d2 = ConvBnSiLU(w[3], w[3], 3, 2)
        self.n4 = C2f(w[3] + w[4], w[4], 1)          # P5 out
        ch = (w[2], w[3], w[4])
        c2, c3 = max(16, ch[0] // 4, reg_max * 4), max(ch[0], min(classes, 100))
        self.cv2 = nn.ModuleList(nn.Sequential(ConvBnSiLU(c, c2, 3), ConvBnSiLU(c2, c2, 3),
                                               nn.Conv2d(c2, 4 * reg_max, 1)) for c in ch)
        self.cv3 = nn.ModuleList(nn.Sequential(ConvBnSiLU(c, c3, 3), ConvBnSiLU(c3, c3, 3),
                                               nn.Conv2d(c3, classes, 1)) for c in ch)
        self.dfl = nn.Conv2d(reg_max, 1, 1, bias=False).requires_grad_(False)
        self.strides = (8, 16, 32)
        anchors, strides = [], []
        for s in self.strides:  # anchor points at cell centres, as ultralytics' make_anchors
            n = size // s
            sy, sx = torch.meshgrid(torch.arange(n) + 0.5, torch.arange(n) + 0.5, indexing="ij")
            anchors.append(torch.stack((sx, sy), -1).view(-1, 2))
            strides.append(torch.full((n * n, 1), float(s)))
        self.register_buffer("anchors", torch.cat(anchors).transpose(0, 1).unsqueeze(0))
        self.register_buffer("stride_t", torch.cat(strides).transpose(0, 1).unsqueeze(0))
        self.reset_fixed()

    def reset_fixed(self):
        with torch.no_grad():
            self.dfl.weight.copy_(torch.arange(self.reg_max, dtype=self.dfl.weight.dtype)
                                  .view(1, self.reg_max, 1, 1))
        for seq in self.cv2:  # ultralytics' bias_init, without the image-size prior for classes
            nn.init.constant_(seq[-1].bias, 1.0)

    def forward(self, x):
        p3 = self.b2(self.b1(self.b0(x)))
        p4 = self.b3(p3)
        p5 = self.b4(p4)
        n1 = self.n1(torch.cat((self.up(p5), p4), 1))
        o3 = self.n2(torch.cat((self.up(n1), p3), 1))
        o4 = self.n3(torch.cat((self.d1(o3), n1), 1))
        o5 = self.n4(torch.cat((self.d2(o4), p5), 1))
        b = x.shape[0]
        feats = [torch.cat((self.cv2[i](f), self.cv3[i](f)), 1).view(b, self.no, -1)
                 for i, f in enumerate((o3, o4, o5))]
        box, cls = torch.cat(feats, 2).split((4 * self.reg_max, self.nc), 1)
        a = box.shape[2]
        dist = self.dfl(box.view(b, 4, self.reg_max, a).transpose(2, 1).softmax(1)).view(b, 4, a)
        lt, rb = dist.chunk(2, 1)
        x1y1, x2y2 = self.anchors - lt, self.anchors + rb
        dbox = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * self.stride_t
        return torch.cat((dbox, cls.sigmoid()), 1)


# --- uint8 NHWC wrapper ----------------------------------------------------------------------


class Uint8NHWC(nn.Module):
    """Preprocessing in the graph: uint8 (N, H, W, 3) -> float, /255, (x - mean) / std per
    channel (broadcast over the last axis), NHWC -> NCHW, bilinear resize to size x size
    (align_corners=False), then the wrapped network."""

    def __init__(self, net, size):
        super().__init__()
        self.net, self.size = net, size
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 1, 1, 3))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 1, 1, 3))

    def forward(self, x):
        x = x.to(self.mean.dtype) / 255.0
        x = ((x - self.mean) / self.std).permute(0, 3, 1, 2)
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return self.net(x)


class WithSoftmax(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return F.softmax(self.net(x), dim=1)


# ---------------------------------------------------------------------------------------------
# The zoo. Each entry: name, kind, builder(variant) -> (model, what it is), input spec.
# kind: "classifier" / "segmenter" (logits, or softmax when the ratio asks) or "detector".


def _mnv2(width, classes):
    return tvm.mobilenet_v2(weights=None, num_classes=classes, width_mult=width)


def b_resnet18(v):
    if v == "full":
        return tvm.resnet18(weights=None, num_classes=1000), "torchvision resnet18"
    w = (8, 16, 32, 64)
    return ResNet18W(w, 10), "ResNet-18 topology, widths %s, torchvision BasicBlock" % (w,)


def b_mobilenet_v2(v):
    if v == "full":
        return _mnv2(1.0, 1000), "torchvision mobilenet_v2"
    return _mnv2(0.25, 10), "torchvision mobilenet_v2(width_mult=0.25)"


def _mnv3(arch, v, width):
    """torchvision's MobileNetV3 `arch`: as is for full, else at `width` with last_channel 128."""
    if v == "full":
        return getattr(tvm, arch)(weights=None, num_classes=1000), "torchvision " + arch
    setting, _ = tv_mobilenetv3._mobilenet_v3_conf(arch, width_mult=width)
    return (tv_mobilenetv3.MobileNetV3(setting, 128, num_classes=10),
            "torchvision MobileNetV3(_mobilenet_v3_conf('%s', width_mult=%s), last_channel=128)" % (arch, width))


def b_mobilenet_v3_small(v):
    return _mnv3("mobilenet_v3_small", v, 0.5)


def b_mobilenet_v3_large(v):
    return _mnv3("mobilenet_v3_large", v, 0.25)


def b_efficientnet_b0(v):
    if v == "full":
        return tvm.efficientnet_b0(weights=None, num_classes=1000), "torchvision efficientnet_b0"
    setting, last = tv_efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25,
                                                       depth_mult=0.5)
    return (tv_efficientnet.EfficientNet(setting, 0.2, last_channel=last, num_classes=10),
            "torchvision EfficientNet(_efficientnet_conf('efficientnet_b0', width_mult=0.25, "
            "depth_mult=0.5))")


def b_squeezenet1_1(v):
    if v == "full":
        return tvm.squeezenet1_1(weights=None, num_classes=1000), "torchvision squeezenet1_1"
    return SqueezeNet11W(0.5, 10), "SqueezeNet 1.1 topology, widths x0.5, torchvision Fire"


def b_shufflenet_v2(v):
    if v == "full":
        return (tvm.shufflenet_v2_x1_0(weights=None, num_classes=1000),
                "torchvision shufflenet_v2_x1_0")
    return (tv_shufflenetv2.ShuffleNetV2([4, 8, 4], [24, 48, 96, 192, 512], num_classes=10),
            "torchvision ShuffleNetV2 x0.5 widths with conv5 512 (shufflenet_v2_x0_5 has 1024)")


def b_mnasnet(v):
    if v == "full":
        return tvm.mnasnet0_5(weights=None, num_classes=1000), "torchvision mnasnet0_5"
    return tv_mnasnet.MNASNet(0.2, num_classes=10), "torchvision MNASNet(alpha=0.2)"


def b_regnet_x_400mf(v):
    if v == "full":
        return tvm.regnet_x_400mf(weights=None, num_classes=1000), "torchvision regnet_x_400mf"
    p = tv_regnet.BlockParams.from_init_params(depth=12, w_0=16, w_a=8.0, w_m=2.2, group_width=8)
    return (tv_regnet.RegNet(p, num_classes=10, stem_width=16),
            "torchvision RegNet(BlockParams.from_init_params(depth=12, w_0=16, w_a=8.0, w_m=2.2, "
            "group_width=8), stem_width=16): regnet_x_400mf's X block, smaller")


def b_googlenet(v):
    if v == "full":
        return (tvm.googlenet(weights=None, num_classes=1000, aux_logits=False,
                              transform_input=False, init_weights=True),
                "torchvision googlenet(aux_logits=False, transform_input=False, init_weights=True)")
    return GoogLeNetW(0.125, 10), "GoogLeNet topology, widths x0.125, torchvision Inception"


def b_densenet121(v):
    if v == "full":
        return tvm.densenet121(weights=None, num_classes=1000), "torchvision densenet121"
    return (tv_densenet.DenseNet(growth_rate=8, block_config=(6, 12, 24, 16), num_init_features=16,
                                 bn_size=2, num_classes=10),
            "torchvision DenseNet(growth_rate=8, block_config=(6, 12, 24, 16), "
            "num_init_features=16, bn_size=2): densenet121's depth, narrower")


def b_unet(v):
    if v == "full":
        w = (32, 64, 128, 256, 512)
        return UNet(w, 21), "U-Net, widths %s, 21 classes" % (w,)
    w = (8, 12, 16, 24, 32)
    return UNet(w, 4), "U-Net, widths %s, 4 classes" % (w,)


def b_yolo(v):
    if v == "detect":  # make bench's detection row at a real detector's input size
        return (YoloV8((16, 32, 64, 128, 256), (1, 2, 2, 1), 80, size=640),
                "YOLOv8n-style at 640 x 640: widths (16, 32, 64, 128, 256), C2f depths (1, 2, 2, 1), "
                "reg_max 16, 80 classes")
    if v == "full":
        return (YoloV8((16, 32, 64, 128, 256), (1, 2, 2, 1), 80),
                "YOLOv8n-style: widths (16, 32, 64, 128, 256), C2f depths (1, 2, 2, 1), "
                "reg_max 16, 80 classes")
    return (YoloV8((8, 16, 24, 32, 48), (1, 1, 1, 1), 4, reg_max=8),
            "YOLOv8-style: widths (8, 16, 24, 32, 48), C2f depths (1, 1, 1, 1), reg_max 8, "
            "4 classes")


def b_mnv2_uint8(v):
    if v == "full":
        return (Uint8NHWC(_mnv2(1.0, 1000), 96),
                "uint8 NHWC preprocessing + torchvision mobilenet_v2")
    return (Uint8NHWC(_mnv2(0.25, 10), 96),
            "uint8 NHWC preprocessing + torchvision mobilenet_v2(width_mult=0.25)")


def _convnext_visible(model):
    """torchvision starts every block's layer scale at 1e-6 (the residual branch would be invisible
    in the outputs) and every LayerNorm at weight 1, bias 0 (a swapped or dropped affine would not
    show): seeded values instead (the torch seed is set before the builder runs)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(m.weight.shape) * 1.5 + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape) * 0.3)
            if isinstance(m, tv_convnext.CNBlock):
                m.layer_scale.copy_(torch.rand(m.layer_scale.shape) * 0.5 + 0.25)
    return model


def b_convnext(v):
    if v == "full":
        return _convnext_visible(tvm.convnext_tiny(weights=None, num_classes=1000)), "torchvision convnext_tiny"
    cfg = [tv_convnext.CNBlockConfig(16, 32, 1), tv_convnext.CNBlockConfig(32, 64, 1),
           tv_convnext.CNBlockConfig(64, 128, 2), tv_convnext.CNBlockConfig(128, None, 1)]
    return (_convnext_visible(tv_convnext.ConvNeXt(cfg, num_classes=10)),
            "torchvision ConvNeXt, widths 16-32-64-128, depths 1-1-2-1 (LayerNorm, GELU, 7x7 "
            "depthwise, Linear layers on channels-last tensors; LayerNorms and layer scales seeded)")


# name, kind, builder, input: (dtype, shape without batch) per variant
F64 = ("float32", (3, 64, 64))
F96 = ("float32", (3, 96, 96))
U8 = ("uint8", (64, 64, 3))
F640 = ("float32", (3, 640, 640))
ZOO = [
    ("resnet18", "classifier", b_resnet18, {"small": F64, "full": F96}),
    ("mobilenet_v2", "classifier", b_mobilenet_v2, {"small": F64, "full": F96}),
    ("mobilenet_v3_small", "classifier", b_mobilenet_v3_small, {"small": F64, "full": F96}),
    ("efficientnet_b0", "classifier", b_efficientnet_b0, {"small": F64, "full": F96}),
    ("squeezenet1_1", "classifier", b_squeezenet1_1, {"small": F64, "full": F96}),
    ("shufflenet_v2", "classifier", b_shufflenet_v2, {"small": F64, "full": F96}),
    ("mnasnet", "classifier", b_mnasnet, {"small": F64, "full": F96}),
    ("regnet_x_400mf", "classifier", b_regnet_x_400mf, {"small": F64, "full": F96}),
    ("googlenet", "classifier", b_googlenet, {"small": F64, "full": F96}),
    ("densenet121", "classifier", b_densenet121, {"small": F64, "full": F96}),
    ("mobilenet_v3_large", "classifier", b_mobilenet_v3_large, {"small": F64, "full": F96}),
    ("unet", "segmenter", b_unet, {"small": F64, "full": F64}),
    ("yolov8", "detector", b_yolo, {"small": F64, "full": F64, "detect": F640}),
    ("mobilenet_v2_uint8_nhwc", "classifier", b_mnv2_uint8, {"small": U8, "full": U8}),
    ("convnext", "classifier", b_convnext, {"small": F64, "full": F96}),  # last: earlier seeds stay
]
BATCHES = {"small": (1, 2), "full": (2,), "detect": (1,)}
CALIB_BATCH = 32

# ---------------------------------------------------------------------------------------------


def make_input(spec, batch, gen):
    """Seeded inputs: float32 N(0, 1); uint8 (N, H, W, 3) images that are smooth like photographs:
    a random 8x8 colour field enlarged bilinearly to H x W plus uniform noise of +-8 levels.
    (On white noise, PyTorch's own float32 bilinear resize, whose source coordinates carry the
    float32 rounding of 64/96, is the largest error in the model: ratio 0.51 against float64,
    0.25 with noise of +-16 levels.)"""
    dtype, shape = spec
    if dtype == "uint8":
        h, w, c = shape
        field = torch.rand((batch, c, 8, 8), generator=gen, dtype=torch.float64) * 255
        img = F.interpolate(field, size=(h, w), mode="bilinear", align_corners=False)
        img = img + (torch.rand((batch, c, h, w), generator=gen, dtype=torch.float64) * 16 - 8)
        return img.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()
    return torch.randn((batch,) + shape, generator=gen)


def randomise_bn(model, x, gen):
    """Seeded BatchNorm parameters and statistics that keep activations sane through any depth.

    One forward pass in eval mode over a calibration batch, with a hook on every BatchNorm: when
    the pass reaches a BatchNorm (in data-flow order, so everything before it already has its
    final statistics) the hook measures the per-channel mean and variance of the BatchNorm's real
    input, stores them perturbed (mean shifted by N(0, 0.3) standard deviations, variance scaled
    by U(0.6, 1.6); a variance floor of 5% of the layer's mean variance keeps channels that were
    dead on the calibration batch from being amplified on other inputs), and draws gamma in
    [0.5, 2] and beta ~ N(0, 0.3). The BatchNorm then runs with those values. So the signal
    neither dies nor explodes with depth, and the stored statistics are far from the trivial
    mean 0 / variance 1 (BatchNorm folding bugs show).
    """
    done = set()

    def hook(m, inputs):
        if m in done:
            return
        done.add(m)
        t = inputs[0].detach().double()
        dims = [0] + list(range(2, t.dim()))
        mean, var = t.mean(dims), t.var(dims, unbiased=False)
        var = torch.maximum(var, 0.05 * var.mean()) + 1e-6
        c = m.num_features
        with torch.no_grad():
            m.weight.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
            m.bias.copy_(torch.randn(c, generator=gen) * 0.3)
            shift = torch.randn(c, generator=gen).double() * 0.3 * var.sqrt()
            m.running_mean.copy_((mean + shift).float())
            m.running_var.copy_((var * (torch.rand(c, generator=gen).double() + 0.6)).float())

    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    handles = [m.register_forward_pre_hook(hook) for m in bns]
    model.eval()
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    missed = len(bns) - len(done)
    if missed:
        raise RuntimeError("%d BatchNorm modules were not reached by the calibration pass" % missed)
    return len(bns)


def scale_output_layer(model, x, kind):
    """Rescales the last layer so that its outputs are informative and well above rounding noise.

    Classifiers and segmenters: the last Linear / Conv2d (in module order, which is the classifier
    or head in every model here) gets weight and bias scaled so that its output has standard
    deviation 2 on the calibration batch (torchvision initialises some classifiers with std 0.01,
    which gives logits within +-0.02 and near-uniform probabilities). The detector: each level's
    box-bin logits (before the DFL softmax) are scaled to std 0.5 and its class logits to std 2,
    so that the decoded box centres stay near their anchor points rather than crossing zero,
    where float32 rounding of the centre alone would break the relative test tolerance.
    Returns a short description of what was scaled.
    """
    def scale_to(layer, target):
        got = {}
        h = layer.register_forward_hook(lambda m, i, o: got.__setitem__("o", o.detach()))
        with torch.no_grad():
            model(x)
        h.remove()
        k = target / float(got["o"].double().std())
        with torch.no_grad():
            layer.weight.mul_(k)
            if layer.bias is not None:
                layer.bias.mul_(k)
        return k

    if kind == "detector":
        kb = [scale_to(seq[-1], 0.5) for seq in model.cv2]
        kc = [scale_to(seq[-1], 2.0) for seq in model.cv3]
        return "box-bin convs x%s, class convs x%s" % (
            "/".join("%.3g" % k for k in kb), "/".join("%.3g" % k for k in kc))
    last = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][-1]
    return "last %s x%.3g" % (type(last).__name__, scale_to(last, 2.0))


def ratio(got, ref):
    """Worst |got - ref| / (1e-7 + 1e-3 |ref|): the conformance rule passes while this is <= 1."""
    ref = ref.astype(np.float64)
    return float(np.max(np.abs(got.astype(np.float64) - ref) / (1e-7 + 1e-3 * np.abs(ref))))


def run_both(model, inputs):
    """Runs the model in float32 and a float64 copy of it on the same inputs. Returns the float64
    outputs rounded to float32 (the reference written to the test data) and the worst ratio of
    the float32 outputs against the float64 ones."""
    with torch.no_grad():
        m64 = copy.deepcopy(model).double().eval()
        refs, worst = [], 0.0
        for x in inputs:
            y32 = model(x).numpy()
            y64 = m64(x if x.dtype == torch.uint8 else x.double()).numpy()
            worst = max(worst, ratio(y32, y64))
            refs.append(y64.astype(np.float32))
    return refs, worst


def export_onnx(model, example, out_name):
    axes = {"input": {0: "batch"}, out_name: {0: "batch"}}
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example, f, opset_version=OPSET, input_names=["input"],
                          output_names=[out_name], dynamic_axes=axes, do_constant_folding=True,
                          training=torch.onnx.TrainingMode.EVAL)
    return f.getvalue()


def op_counts(blob):
    info = onnx_pb.describe_model(blob)
    counts = {}
    for op in info["op_types"]:
        counts[op] = counts.get(op, 0) + 1
    return info, counts


def export_one(idx, name, kind, builder, spec, variant, out_root):
    t0 = time.time()
    torch.manual_seed(SEED + 1000 * idx)
    gen = torch.Generator().manual_seed(SEED + 1000 * idx + 7)
    model, what = builder(variant)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    calib = make_input(spec, CALIB_BATCH, gen)
    nbn = randomise_bn(model, calib, gen)
    scaled = scale_output_layer(model, calib, kind)
    inputs = [make_input(spec, b, gen) for b in BATCHES[variant]]

    outs, r = run_both(model, inputs)
    head = {"classifier": "logits", "segmenter": "seg_logits", "detector": "detections"}[kind]
    note = ""
    if kind in ("classifier", "segmenter"):
        # Raw logits pass close to zero at some of their values, where the relative tolerance
        # is tighter than any float32 runtime's rounding (tta's is about 1e-5 of the logits'
        # rms on these models, ten times PyTorch's on one thread): softmax over the classes.
        note = "logits ratio %.3f; softmax added" % r
        model = WithSoftmax(model).eval()
        head = "probs" if kind == "classifier" else "seg_probs"
        outs, r = run_both(model, inputs)
    if r > RATIO_WARN:
        print("WARNING: %s: float32-vs-float64 ratio %.3f > %.1f: a float32 runtime as careful "
              "as PyTorch would spend most of the test tolerance" % (name, r, RATIO_WARN),
              file=sys.stderr)

    case = os.path.join(out_root, name)
    shutil.rmtree(case, ignore_errors=True)
    os.makedirs(case)
    blob = export_onnx(model, inputs[0], head)
    with open(os.path.join(case, "model.onnx"), "wb") as f:
        f.write(blob)
    info, counts = op_counts(blob)
    assert info["opsets"].get("", 0) == OPSET, info["opsets"]
    assert [i[0] for i in info["inputs"]] == ["input"], info["inputs"]
    for k, (x, o) in enumerate(zip(inputs, outs)):
        ds = os.path.join(case, "test_data_set_%d" % k)
        os.makedirs(ds)
        onnx_pb.write_tensor_file(os.path.join(ds, "input_0.pb"), np.ascontiguousarray(x.numpy()),
                                  "input")
        onnx_pb.write_tensor_file(os.path.join(ds, "output_0.pb"),
                                  np.ascontiguousarray(o, dtype=np.float32), head)
    case_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(case) for f in fs)
    o = outs[-1]
    print("%-24s %s" % (name, what))
    print("    params %d, model.onnx %d B, case %d B, %d BatchNorms randomised, %s, %.1f s" % (
        params, len(blob), case_bytes, nbn, scaled, time.time() - t0))
    print("    input %s %s, output %s %s (range %.3g..%.3g, std %.3g)" % (
        spec[0], "x".join(map(str, spec[1])), head, "x".join(map(str, o.shape[1:])),
        o.min(), o.max(), o.std()))
    print("    float32-vs-float64 ratio %.4f%s" % (r, "; " + note if note else ""))
    print("    ops: %s" % ", ".join("%s x%d" % kv for kv in sorted(counts.items())))
    sys.stdout.flush()
    return params, len(blob), case_bytes, r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", choices=("small", "full", "detect"), required=True,
                    help="small: tests/zoo; full: make bench's zoo; detect: the YOLOv8n-style "
                    "detector at 640 x 640 for make bench's detection row")
    ap.add_argument("--out", help="output folder (default tests/zoo for small, build/zoo for full)")
    ap.add_argument("--only", help="comma-separated model names (default: all)")
    a = ap.parse_args()
    out_root = a.out or os.path.join(ROOT, "tests/zoo" if a.variant == "small" else "build/zoo")
    names = [z[0] for z in ZOO if a.variant in z[3]]
    only = names if not a.only else [n.strip() for n in a.only.split(",") if n.strip()]
    bad = [n for n in only if n not in names]
    if bad:
        ap.error("unknown model(s) %s; known: %s" % (", ".join(bad), ", ".join(names)))
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(out_root, exist_ok=True)
    worst = 0.0
    for idx, (name, kind, builder, specs) in enumerate(ZOO):
        if name in only and a.variant in specs:
            r = export_one(idx, name, kind, builder, specs[a.variant], a.variant, out_root)[3]
            worst = max(worst, r)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out_root) for f in fs)
    print("%d models, %d bytes in %s; worst float32-vs-float64 ratio %.4f" % (
        len(only), total, out_root, worst))


if __name__ == "__main__":
    main()
