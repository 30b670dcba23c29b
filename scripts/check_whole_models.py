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
from export_whole_models import iter_fields, _read_varint, decode_tensor  # noqa: E402

def s64(v): return v - (1 << 64) if v >= 1 << 63 else v

def tensor(buf):
    dims, dt, name, raw, f32, i64 = [], 1, '', None, [], []
    for f, w, v in iter_fields(buf):
        if f == 1:
            if w == 0: dims.append(s64(v))
            else:
                p = 0
                while p < len(v):
                    x, p = _read_varint(v, p); dims.append(s64(x))
        elif f == 2: dt = v
        elif f == 8: name = bytes(v).decode()
        elif f == 9: raw = bytes(v)
        elif f == 4: f32 += list(struct.unpack('<%df' % (len(v)//4), bytes(v))) if w == 2 else [struct.unpack('<f', bytes(v))[0]]
        elif f == 7:
            if w == 0: i64.append(s64(v))
            else:
                p = 0
                while p < len(v):
                    x, p = _read_varint(v, p); i64.append(s64(x))
    npdt = {1: '<f4', 7: '<i8', 6: '<i4', 9: 'bool'}[dt]
    a = np.frombuffer(raw, dtype=npdt) if raw is not None else np.array(f32 if dt == 1 else i64, dtype=npdt)
    a = a.reshape(dims)
    return name, (a.astype(np.float64) if dt == 1 else a.astype(np.int64))

def attr(buf):
    name, val, ints, floats = None, None, [], []
    for f, w, v in iter_fields(buf):
        if f == 1: name = bytes(v).decode()
        elif f == 2: val = struct.unpack('<f', bytes(v))[0]
        elif f == 3: val = s64(v)
        elif f == 4: val = bytes(v).decode()
        elif f == 5: val = tensor(v)[1]
        elif f == 7:
            floats += list(struct.unpack('<%df' % (len(v)//4), bytes(v))) if w == 2 else [struct.unpack('<f', bytes(v))[0]]
        elif f == 8:
            if w == 0: ints.append(s64(v))
            else:
                p = 0
                while p < len(v):
                    x, p = _read_varint(v, p); ints.append(s64(x))
    if val is None: val = ints if ints else floats
    return name, val

def load(path):
    b = open(path, 'rb').read()
    g = [v for f, _, v in iter_fields(b) if f == 7][0]
    nodes, inits, ins, outs = [], {}, [], []
    for f, _, v in iter_fields(g):
        if f == 1:
            n = {'in': [], 'out': [], 'attr': {}}
            for ff, _, vv in iter_fields(v):
                if ff == 1: n['in'].append(bytes(vv).decode())
                elif ff == 2: n['out'].append(bytes(vv).decode())
                elif ff == 4: n['op'] = bytes(vv).decode()
                elif ff == 5:
                    k, a = attr(vv); n['attr'][k] = a
            nodes.append(n)
        elif f == 5:
            k, a = tensor(v); inits[k] = a
        elif f in (11, 12):
            nm = [bytes(vv).decode() for ff, _, vv in iter_fields(v) if ff == 1][0]
            (ins if f == 11 else outs).append(nm)
    return nodes, inits, [i for i in ins if i not in inits], outs

def conv(x, w, b, a, transpose=False):
    N, C, H, W = x.shape
    st = a.get('strides', [1, 1]); pd = a.get('pads', [0, 0, 0, 0]); dl = a.get('dilations', [1, 1]); g = a.get('group', 1)
    assert dl == [1, 1]
    if transpose:
        Ci, Co_g, kh, kw = w.shape
        assert g == 1 and pd == [0, 0, 0, 0]
        Ho, Wo = (H - 1) * st[0] + kh, (W - 1) * st[1] + kw
        y = np.zeros((N, Co_g, Ho, Wo))
        for i in range(kh):
            for j in range(kw):
                y[:, :, i:i + (H - 1) * st[0] + 1:st[0], j:j + (W - 1) * st[1] + 1:st[1]] += np.einsum('nchw,cd->ndhw', x, w[:, :, i, j])
        return y + (b.reshape(1, -1, 1, 1) if b is not None else 0)
    Co, Cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pd[0], pd[2]), (pd[1], pd[3])))
    Ho = (H + pd[0] + pd[2] - kh) // st[0] + 1; Wo = (W + pd[1] + pd[3] - kw) // st[1] + 1
    y = np.zeros((N, Co, Ho, Wo))
    cog = Co // g
    for gi in range(g):
        xs = xp[:, gi * Cg:(gi + 1) * Cg]
        ws = w[gi * cog:(gi + 1) * cog]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i:i + (Ho - 1) * st[0] + 1:st[0], j:j + (Wo - 1) * st[1] + 1:st[1]]
                y[:, gi * cog:(gi + 1) * cog] += np.einsum('nchw,dc->ndhw', patch, ws[:, :, i, j])
    return y + (b.reshape(1, -1, 1, 1) if b is not None else 0)

def maxpool(x, a):
    k = a['kernel_shape']; st = a.get('strides', [1, 1]); pd = a.get('pads', [0, 0, 0, 0])
    assert a.get('ceil_mode', 0) == 0
    xp = np.pad(x, ((0, 0), (0, 0), (pd[0], pd[2]), (pd[1], pd[3])), constant_values=-np.inf)
    H, W = xp.shape[2:]
    Ho = (H - k[0]) // st[0] + 1; Wo = (W - k[1]) // st[1] + 1
    y = np.full(x.shape[:2] + (Ho, Wo), -np.inf)
    for i in range(k[0]):
        for j in range(k[1]):
            y = np.maximum(y, xp[:, :, i:i + (Ho - 1) * st[0] + 1:st[0], j:j + (Wo - 1) * st[1] + 1:st[1]])
    return y

def resize_linear_half_pixel(x, scales):
    out = x
    for ax in (2, 3):
        n = out.shape[ax]; s = scales[ax]; no = int(np.floor(n * s))
        c = (np.arange(no) + 0.5) / s - 0.5
        c = np.clip(c, 0, n - 1)
        lo = np.floor(c).astype(int); hi = np.minimum(lo + 1, n - 1); f = c - lo
        sh = [1] * 4; sh[ax] = no; f = f.reshape(sh)
        out = np.take(out, lo, axis=ax) * (1 - f) + np.take(out, hi, axis=ax) * f
    assert scales[0] == 1 and scales[1] == 1
    return out

def run(nodes, inits, feeds):
    env = dict(inits); env.update(feeds); env[''] = None
    for n in nodes:
        I = [env[i] if i else None for i in n['in']]; a = n['attr']; op = n['op']
        if op == 'Conv': y = conv(I[0], I[1], I[2] if len(I) > 2 else None, a)
        elif op == 'ConvTranspose': y = conv(I[0], I[1], I[2] if len(I) > 2 else None, a, True)
        elif op == 'BatchNormalization':
            sc, bi, mu, var = [t.reshape(1, -1, 1, 1) for t in I[1:5]]
            y = (I[0] - mu) / np.sqrt(var + a.get('epsilon', 1e-5)) * sc + bi
        elif op == 'Relu': y = np.maximum(I[0], 0)
        elif op == 'LeakyRelu': y = np.where(I[0] >= 0, I[0], I[0] * a.get('alpha', 0.01))
        elif op == 'Sigmoid': y = 1 / (1 + np.exp(-I[0]))
        elif op == 'Clip': y = np.clip(I[0], I[1], I[2])
        elif op == 'MaxPool': y = maxpool(I[0], a)
        elif op == 'GlobalAveragePool': y = I[0].mean(axis=(2, 3), keepdims=True)
        elif op == 'Flatten':
            ax = a.get('axis', 1); y = I[0].reshape(int(np.prod(I[0].shape[:ax])), -1)
        elif op == 'Gemm':
            A = I[0].T if a.get('transA', 0) else I[0]; B = I[1].T if a.get('transB', 0) else I[1]
            y = a.get('alpha', 1.0) * A @ B + (a.get('beta', 1.0) * I[2] if len(I) > 2 else 0)
        elif op == 'Add': y = I[0] + I[1]
        elif op == 'Sub': y = I[0] - I[1]
        elif op == 'Mul': y = I[0] * I[1]
        elif op == 'Pow': y = np.power(I[0], I[1])
        elif op == 'Constant': y = a['value']
        elif op == 'Concat': y = np.concatenate(I, axis=a['axis'])
        elif op == 'Softmax':
            ax = a.get('axis', -1); e = np.exp(I[0] - I[0].max(axis=ax, keepdims=True)); y = e / e.sum(axis=ax, keepdims=True)
        elif op == 'Resize':
            assert a['mode'] == 'linear' and a['coordinate_transformation_mode'] == 'half_pixel'
            y = resize_linear_half_pixel(I[0], I[2])
        elif op == 'Shape': y = np.array(I[0].shape, dtype=np.int64)
        elif op == 'Gather': y = np.take(I[0], I[1], axis=a.get('axis', 0))
        elif op == 'Unsqueeze':
            axes = list(I[1]) if len(I) > 1 else a['axes']; y = I[0]
            for ax in sorted(axes): y = np.expand_dims(y, ax)
        elif op == 'Reshape':
            sh = [int(d) for d in I[1]]
            sh = [I[0].shape[i] if d == 0 else d for i, d in enumerate(sh)]
            y = I[0].reshape(sh)
        elif op == 'Transpose': y = np.transpose(I[0], a['perm'])
        elif op == 'Slice':
            st, en = I[1], I[2]; axes = I[3] if len(I) > 3 and I[3] is not None else range(len(st))
            steps = I[4] if len(I) > 4 and I[4] is not None else [1] * len(st)
            sl = [slice(None)] * I[0].ndim
            for s, e, ax, sp in zip(st, en, axes, steps): sl[int(ax)] = slice(int(s), int(min(e, 1 << 62)), int(sp))
            y = I[0][tuple(sl)]
        else: raise NotImplementedError(op)
        env[n['out'][0]] = y
    return env

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'models')
root = os.path.normpath(root)
total_fail = 0
for case in sorted(glob.glob(os.path.join(root, '*', ''))):
    nodes, inits, ins, outs = load(case + 'model.onnx')
    for ds in sorted(glob.glob(case + 'test_data_set_*')):
        feeds = {}
        for i, nm in enumerate(ins):
            tn, arr = decode_tensor(open('%s/input_%d.pb' % (ds, i), 'rb').read()); assert tn == nm
            feeds[nm] = arr.astype(np.float64)
        env = run(nodes, inits, feeds)
        worst = 0
        for i, nm in enumerate(outs):
            tn, ref = decode_tensor(open('%s/output_%d.pb' % (ds, i), 'rb').read()); assert tn == nm
            got = env[nm].astype(np.float32)
            assert got.shape == ref.shape, (got.shape, ref.shape)
            r = np.max(np.abs(got.astype(np.float64) - ref) / (1e-7 + 1e-3 * np.abs(ref)))
            worst = max(worst, r)
        ok = worst <= 1
        total_fail += not ok
        print('%-45s %s worst ratio %.4f' % (os.path.relpath(ds, root), 'PASS' if ok else 'FAIL', worst))
print('%d failed' % total_fail)
sys.exit(1 if total_fail else 0)
