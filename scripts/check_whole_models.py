#!/usr/bin/python3
"""Check tests/models with an independent NumPy interpreter of the exported ONNX graphs.

A float64 reading of ONNX semantics for just the operators that the whole-model cases use (not a
general runtime), run on every test_data_set and compared with the stored PyTorch outputs by the
suite's rule |got - ref| <= 1e-7 + 1e-3 |ref|. It shows that the .pb files agree with what the
graphs say, at both batch sizes, so that a failure of `tta conformance tests/models` is the
runtime's. Needs numpy only.

Run:  /usr/bin/python3 scripts/check_whole_models.py [DIR]   (default: tests/models)
"""
import glob
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_whole_models import _read_varint, decode_tensor, iter_fields  # noqa: E402

NP_DTYPE = {1: "<f4", 6: "<i4", 7: "<i8", 9: "bool"}  # TensorProto data types used here


def _s64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _ints(wire, value):
    """A repeated int64 field occurrence, packed (wire 2) or not."""
    if wire == 0:
        return [_s64(value)]
    out, p = [], 0
    while p < len(value):
        v, p = _read_varint(value, p)
        out.append(_s64(v))
    return out


def _floats(wire, value):
    b = bytes(value)
    return list(struct.unpack("<%df" % (len(b) // 4), b))


def read_tensor(buf):
    """TensorProto -> (name, array); floats as float64, integers as int64."""
    dims, dtype, name, raw, f32, i64 = [], 1, "", None, [], []
    for f, w, v in iter_fields(buf):
        if f == 1:
            dims += _ints(w, v)
        elif f == 2:
            dtype = v
        elif f == 4:
            f32 += _floats(w, v)
        elif f == 7:
            i64 += _ints(w, v)
        elif f == 8:
            name = bytes(v).decode()
        elif f == 9:
            raw = bytes(v)
    if raw is not None:
        a = np.frombuffer(raw, dtype=NP_DTYPE[dtype])
    else:
        a = np.array(f32 if dtype == 1 else i64, dtype=NP_DTYPE[dtype])
    a = a.reshape(dims)
    return name, a.astype(np.float64 if dtype == 1 else np.int64)


def read_attribute(buf):
    name, val, ints, floats = None, None, [], []
    for f, w, v in iter_fields(buf):
        if f == 1:
            name = bytes(v).decode()
        elif f == 2:
            val = struct.unpack("<f", bytes(v))[0]
        elif f == 3:
            val = _s64(v)
        elif f == 4:
            val = bytes(v).decode()
        elif f == 5:
            val = read_tensor(v)[1]
        elif f == 7:
            floats += _floats(w, v)
        elif f == 8:
            ints += _ints(w, v)
    if val is None:
        val = ints if ints else floats
    return name, val


def load_model(path):
    """ModelProto -> (nodes, initializers, graph input names, graph output names)."""
    with open(path, "rb") as fh:
        blob = fh.read()
    graph = [v for f, _, v in iter_fields(blob) if f == 7][0]
    nodes, inits, ins, outs = [], {}, [], []
    for f, _, v in iter_fields(graph):
        if f == 1:
            node = {"in": [], "out": [], "attr": {}}
            for ff, _, vv in iter_fields(v):
                if ff == 1:
                    node["in"].append(bytes(vv).decode())
                elif ff == 2:
                    node["out"].append(bytes(vv).decode())
                elif ff == 4:
                    node["op"] = bytes(vv).decode()
                elif ff == 5:
                    k, a = read_attribute(vv)
                    node["attr"][k] = a
            nodes.append(node)
        elif f == 5:
            k, a = read_tensor(v)
            inits[k] = a
        elif f in (11, 12):
            name = [bytes(vv).decode() for ff, _, vv in iter_fields(v) if ff == 1][0]
            (ins if f == 11 else outs).append(name)
    return nodes, inits, [i for i in ins if i not in inits], outs


def _window(a, i, j, n_h, n_w, stride):
    """a[:, :, i + stride*y, j + stride*x] for y < n_h, x < n_w."""
    return a[:, :, i:i + (n_h - 1) * stride[0] + 1:stride[0], j:j + (n_w - 1) * stride[1] + 1:stride[1]]


def conv(x, w, b, a):
    st, pd = a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0])
    g = a.get("group", 1)
    assert a.get("dilations", [1, 1]) == [1, 1] and a.get("auto_pad", "NOTSET") == "NOTSET"
    n, _, h, wd = x.shape
    co, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pd[0], pd[2]), (pd[1], pd[3])))
    ho, wo = (h + pd[0] + pd[2] - kh) // st[0] + 1, (wd + pd[1] + pd[3] - kw) // st[1] + 1
    y = np.zeros((n, co, ho, wo))
    cog = co // g
    for gi in range(g):
        xs, ws = xp[:, gi * cg:(gi + 1) * cg], w[gi * cog:(gi + 1) * cog]
        for i in range(kh):
            for j in range(kw):
                y[:, gi * cog:(gi + 1) * cog] += np.einsum(
                    "nchw,dc->ndhw", _window(xs, i, j, ho, wo, st), ws[:, :, i, j])
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def conv_transpose(x, w, b, a):
    st = a.get("strides", [1, 1])
    assert a.get("group", 1) == 1 and a.get("pads", [0, 0, 0, 0]) == [0, 0, 0, 0]
    assert a.get("output_padding", [0, 0]) == [0, 0] and a.get("dilations", [1, 1]) == [1, 1]
    n, _, h, wd = x.shape
    _, co, kh, kw = w.shape
    y = np.zeros((n, co, (h - 1) * st[0] + kh, (wd - 1) * st[1] + kw))
    for i in range(kh):
        for j in range(kw):
            _window(y, i, j, h, wd, st)[...] += np.einsum("nchw,cd->ndhw", x, w[:, :, i, j])
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def maxpool(x, a):
    k, st, pd = a["kernel_shape"], a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0])
    assert a.get("ceil_mode", 0) == 0 and a.get("dilations", [1, 1]) == [1, 1]
    xp = np.pad(x, ((0, 0), (0, 0), (pd[0], pd[2]), (pd[1], pd[3])), constant_values=-np.inf)
    ho, wo = (xp.shape[2] - k[0]) // st[0] + 1, (xp.shape[3] - k[1]) // st[1] + 1
    y = np.full(x.shape[:2] + (ho, wo), -np.inf)
    for i in range(k[0]):
        for j in range(k[1]):
            y = np.maximum(y, _window(xp, i, j, ho, wo, st))
    return y


def resize(x, roi, scales, a):
    """Resize mode=linear, coordinate_transformation_mode=half_pixel, by scales, on H and W."""
    assert a.get("mode") == "linear" and a.get("coordinate_transformation_mode") == "half_pixel"
    assert scales[0] == 1 and scales[1] == 1
    out = x
    for ax in (2, 3):
        n, s = out.shape[ax], scales[ax]
        n_out = int(np.floor(n * s))
        c = np.clip((np.arange(n_out) + 0.5) / s - 0.5, 0, n - 1)
        lo = np.floor(c).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        shape = [1] * out.ndim
        shape[ax] = n_out
        f = (c - lo).reshape(shape)
        out = np.take(out, lo, axis=ax) * (1 - f) + np.take(out, hi, axis=ax) * f
    return out


def slice_(x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    sl = [slice(None)] * x.ndim
    for s, e, ax, sp in zip(starts, ends, axes, steps):
        sl[int(ax)] = slice(int(s), int(min(e, 1 << 62)), int(sp))
    return x[tuple(sl)]


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def reshape(x, shape):
    shape = [x.shape[i] if d == 0 else int(d) for i, d in enumerate(shape)]
    return x.reshape(shape)


def unsqueeze(x, axes):
    for ax in sorted(int(a) for a in axes):
        x = np.expand_dims(x, ax)
    return x


def gemm(x, w, c, a):
    x = x.T if a.get("transA", 0) else x
    w = w.T if a.get("transB", 0) else w
    y = a.get("alpha", 1.0) * (x @ w)
    return y if c is None else y + a.get("beta", 1.0) * c


OPS = {
    "Conv": lambda i, a: conv(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "ConvTranspose": lambda i, a: conv_transpose(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "BatchNormalization": lambda i, a: (i[0] - i[3].reshape(1, -1, 1, 1)) / np.sqrt(
        i[4].reshape(1, -1, 1, 1) + a.get("epsilon", 1e-5)) * i[1].reshape(1, -1, 1, 1)
    + i[2].reshape(1, -1, 1, 1),
    "Relu": lambda i, a: np.maximum(i[0], 0),
    "LeakyRelu": lambda i, a: np.where(i[0] >= 0, i[0], i[0] * a.get("alpha", 0.01)),
    "Sigmoid": lambda i, a: 1 / (1 + np.exp(-i[0])),
    "Clip": lambda i, a: np.clip(i[0], i[1], i[2]),
    "MaxPool": lambda i, a: maxpool(i[0], a),
    "GlobalAveragePool": lambda i, a: i[0].mean(axis=(2, 3), keepdims=True),
    "Flatten": lambda i, a: i[0].reshape(int(np.prod(i[0].shape[:a.get("axis", 1)])), -1),
    "Gemm": lambda i, a: gemm(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "Add": lambda i, a: i[0] + i[1],
    "Sub": lambda i, a: i[0] - i[1],
    "Mul": lambda i, a: i[0] * i[1],
    "Pow": lambda i, a: np.power(i[0], i[1]),
    "Constant": lambda i, a: a["value"],
    "Concat": lambda i, a: np.concatenate(i, axis=a["axis"]),
    "Softmax": lambda i, a: softmax(i[0], a.get("axis", -1)),
    "Resize": lambda i, a: resize(i[0], i[1], i[2], a),
    "Shape": lambda i, a: np.array(i[0].shape, dtype=np.int64),
    "Gather": lambda i, a: np.take(i[0], i[1], axis=a.get("axis", 0)),
    "Unsqueeze": lambda i, a: unsqueeze(i[0], i[1] if len(i) > 1 else a["axes"]),
    "Reshape": lambda i, a: reshape(i[0], i[1]),
    "Transpose": lambda i, a: np.transpose(i[0], a["perm"]),
    "Slice": lambda i, a: slice_(*i),
}


def run(nodes, inits, feeds):
    env = dict(inits)
    env.update(feeds)
    for node in nodes:
        ins = [env[n] if n else None for n in node["in"]]
        env[node["out"][0]] = OPS[node["op"]](ins, node["attr"])
    return env


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "models")
    root = os.path.normpath(root)
    failed = passed = 0
    for case in sorted(glob.glob(os.path.join(root, "*", "model.onnx"))):
        case = os.path.dirname(case)
        nodes, inits, ins, outs = load_model(os.path.join(case, "model.onnx"))
        for ds in sorted(glob.glob(os.path.join(case, "test_data_set_*"))):
            feeds = {}
            for k, name in enumerate(ins):
                with open(os.path.join(ds, "input_%d.pb" % k), "rb") as fh:
                    tname, arr = decode_tensor(fh.read())
                assert tname == name, (tname, name)
                feeds[name] = arr.astype(np.float64)
            env = run(nodes, inits, feeds)
            worst, ok = 0.0, True
            for k, name in enumerate(outs):
                with open(os.path.join(ds, "output_%d.pb" % k), "rb") as fh:
                    tname, ref = decode_tensor(fh.read())
                got = env[name].astype(np.float32)
                if tname != name or got.shape != ref.shape:
                    ok = False
                    continue
                ratio = np.abs(got.astype(np.float64) - ref) / (1e-7 + 1e-3 * np.abs(ref))
                worst = max(worst, float(ratio.max()))
            ok = ok and worst <= 1
            passed += ok
            failed += not ok
            print("%-40s %s  worst |got-ref|/tol %.4f" % (
                os.path.relpath(ds, root), "PASS" if ok else "FAIL", worst))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
