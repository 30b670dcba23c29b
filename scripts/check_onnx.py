"""check_onnx.py - runs a small ONNX model with numpy and compares it with reference vectors.

    /usr/bin/python3 scripts/check_onnx.py models/fashion_cnn.onnx models/refs/fashion_cnn

A plain numpy interpreter (float64 inside) for the few ops the shipped classifiers use, so that an
exported file can be checked without PyTorch's own graph and without the `onnx` package: every
test_data_set_K/input_*.pb under the reference directory is run and the outputs are compared with
output_*.pb under the project's rule |got - ref| <= 1e-7 + 1e-3 |ref|. It is an oracle for these
models, not a runtime: unknown ops raise an error naming them.
"""

import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_pb  # noqa: E402
from onnx_pb import fields  # noqa: E402

_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64, 11: np.float64}


def _attr(buf):
    name, val = "", None
    ints, floats = [], []
    for f, wt, v in fields(buf):
        if f == 1:
            name = bytes(v).decode()
        elif f == 2:
            val = struct.unpack("<f", struct.pack("<I", v))[0]
        elif f == 3:
            val = v - (1 << 64) if v >= 1 << 63 else v
        elif f == 4:
            val = bytes(v).decode()
        elif f == 5:
            val = onnx_pb.decode_tensor(v)[1]
        elif f == 7:
            if wt == 2:
                floats += list(struct.unpack("<%df" % (len(v) // 4), v))
            else:
                floats.append(struct.unpack("<f", struct.pack("<I", v))[0])
        elif f == 8:
            ints += [x - (1 << 64) if x >= 1 << 63 else x for x in onnx_pb._packed_or_single(wt, v)]
    if ints:
        val = ints
    elif floats:
        val = floats
    return name, val


def load_graph(data):
    """Returns (nodes [(op, inputs, outputs, attrs)], initializers {name: array}, input names,
    output names)."""
    nodes, inits, inputs, outputs = [], {}, [], []
    for f, _, v in fields(data):
        if f != 7:
            continue
        for gf, _, gv in fields(v):
            if gf == 1:
                op, ins, outs, attrs = "", [], [], {}
                for nf, _, nv in fields(gv):
                    if nf == 1:
                        ins.append(bytes(nv).decode())
                    elif nf == 2:
                        outs.append(bytes(nv).decode())
                    elif nf == 4:
                        op = bytes(nv).decode()
                    elif nf == 5:
                        k, a = _attr(nv)
                        attrs[k] = a
                nodes.append((op, ins, outs, attrs))
            elif gf == 5:
                n, arr = onnx_pb.decode_tensor(gv)
                inits[n] = arr
            elif gf == 11:
                inputs.append(onnx_pb._value_info(gv)[0])
            elif gf == 12:
                outputs.append(onnx_pb._value_info(gv)[0])
    inputs = [i for i in inputs if i not in inits]
    return nodes, inits, inputs, outputs


def _conv(x, w, b, a):
    group = a.get("group", 1)
    strides = a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if a.get("dilations", [1, 1]) != [1, 1] or a.get("auto_pad", "NOTSET") != "NOTSET":
        raise NotImplementedError("Conv: dilations/auto_pad not supported by this checker")
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, ::strides[0], ::strides[1]]  # n, c, oh, ow, kh, kw
    outs = []
    mg = m // group
    for g in range(group):
        xs = win[:, g * cg:(g + 1) * cg]
        ws = w[g * mg:(g + 1) * mg]
        outs.append(np.einsum("ncijkl,mckl->nmij", xs, ws, optimize=True))
    y = np.concatenate(outs, axis=1)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


def _maxpool(x, a):
    kh, kw = a["kernel_shape"]
    strides = a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if a.get("ceil_mode", 0) or a.get("dilations", [1, 1]) != [1, 1]:
        raise NotImplementedError("MaxPool: ceil_mode/dilations not supported by this checker")
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])),
                constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    return win[:, :, ::strides[0], ::strides[1]].max(axis=(4, 5))


def run(data, feeds):
    """Runs the model (serialized bytes) on {input name: array}; returns {output name: array}."""
    nodes, inits, _, outputs = load_graph(data)
    env = {k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in inits.items()}
    env.update(feeds)
    for op, ins, outs, a in nodes:
        x = [env[i] if i else None for i in ins]
        if op == "Cast":
            to = _DTYPES[a["to"]]
            y = x[0].astype(np.float64 if to == np.float32 else to)
        elif op == "Constant":
            y = a["value"].astype(np.float64) if a["value"].dtype == np.float32 else a["value"]
        elif op in ("Add", "Sub", "Mul", "Div"):
            y = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
                 "Div": np.divide}[op](x[0], x[1])
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op == "Conv":
            y = _conv(x[0], x[1], x[2] if len(x) > 2 else None, a)
        elif op == "BatchNormalization":
            s = x[1] / np.sqrt(x[4] + a.get("epsilon", 1e-5))
            y = (x[0] - x[3].reshape(1, -1, 1, 1)) * s.reshape(1, -1, 1, 1) + \
                x[2].reshape(1, -1, 1, 1)
        elif op == "MaxPool":
            y = _maxpool(x[0], a)
        elif op == "GlobalAveragePool":
            y = x[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
        elif op == "Gemm":
            A = x[0].T if a.get("transA", 0) else x[0]
            B = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
        elif op == "Softmax":
            ax = a.get("axis", -1)
            z = x[0] - x[0].max(axis=ax, keepdims=True)
            e = np.exp(z)
            y = e / e.sum(axis=ax, keepdims=True)
        else:
            raise NotImplementedError("op %s not supported by this checker" % op)
        env[outs[0]] = y
    return {o: env[o] for o in outputs}


def check_refs(onnx_path, ref_dir, log=print):
    """Runs every test_data_set_* of ref_dir through the model; True if all outputs match."""
    with open(onnx_path, "rb") as f:
        data = f.read()
    _, _, in_names, out_names = load_graph(data)
    ok = True
    sets = sorted(d for d in os.listdir(ref_dir) if d.startswith("test_data_set_"))
    if not sets:
        log("%s: no test_data_set_* directories" % ref_dir)
        return False
    for s in sets:
        d = os.path.join(ref_dir, s)
        feeds = {}
        for i, name in enumerate(in_names):
            _, arr = onnx_pb.decode_tensor(open(os.path.join(d, "input_%d.pb" % i), "rb").read())
            feeds[name] = arr
        got = run(data, feeds)
        for i, name in enumerate(out_names):
            _, ref = onnx_pb.decode_tensor(open(os.path.join(d, "output_%d.pb" % i), "rb").read())
            g = got[name]
            bad = np.abs(g - ref) > 1e-7 + 1e-3 * np.abs(ref)
            good = g.shape == ref.shape and not bad.any()
            ok &= good
            log("  %s %s output %s %s: max |diff| %.3g, argmax agree %s -> %s"
                % (os.path.basename(onnx_path), s, name, ref.shape, np.abs(g - ref).max(),
                   bool((g.argmax(-1) == ref.argmax(-1)).all()), "ok" if good else "MISMATCH"))
    return ok


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: check_onnx.py MODEL.onnx REF_DIR")
    sys.exit(0 if check_refs(sys.argv[1], sys.argv[2]) else 1)
