#!/usr/bin/env python3
"""make_test_models.py - writes the small hand-built ONNX models of tests/data/models/.

They exercise the loader's and planner's error paths (bad attributes, unsupported ops, external
data, impossible shapes) and a symbolic batch dim, without any ONNX or PyTorch package: the
protobuf is encoded by hand here. Run with plain python3; the output is committed.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "models")


def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def key(field, wire):
    return varint((field << 3) | wire)


def f_varint(field, n):
    return key(field, 0) + varint(n)


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode()
    return key(field, 2) + varint(len(b)) + b


def f_float(field, x):
    return key(field, 5) + struct.pack("<f", x)


FLOAT, UINT8, INT64 = 1, 2, 7


def tensor(name, dims, dtype, raw, external=False):
    b = b"".join(f_varint(1, d) for d in dims) + f_varint(2, dtype) + f_bytes(8, name)
    if external:
        entry = f_bytes(1, "location") + f_bytes(2, "weights.bin")
        b += f_bytes(13, entry) + f_varint(14, 1)
    else:
        b += f_bytes(9, raw)
    return b


def floats_raw(vals):
    return struct.pack("<%df" % len(vals), *vals)


def ints_raw(vals):
    return struct.pack("<%dq" % len(vals), *vals)


def value_info(name, dtype, dims):
    shape = b""
    for d in dims:
        shape += f_bytes(1, f_bytes(2, d) if isinstance(d, str) else f_varint(1, d))
    tensor_type = f_varint(1, dtype) + f_bytes(2, shape)
    return f_bytes(1, name) + f_bytes(2, f_bytes(1, tensor_type))


def attr_int(name, v):
    return f_bytes(1, name) + f_varint(3, v) + f_varint(20, 2)


def attr_ints(name, vs):
    return f_bytes(1, name) + b"".join(f_varint(8, v) for v in vs) + f_varint(20, 7)


def attr_float(name, v):
    return f_bytes(1, name) + f_float(2, v) + f_varint(20, 1)


def node(op, inputs, outputs, name="", attrs=(), domain=""):
    b = b"".join(f_bytes(1, i) for i in inputs) + b"".join(f_bytes(2, o) for o in outputs)
    b += f_bytes(3, name) + f_bytes(4, op)
    b += b"".join(f_bytes(5, a) for a in attrs)
    if domain:
        b += f_bytes(7, domain)
    return b


def model(nodes, inputs, outputs, initializers=(), opset=13, metadata=()):
    g = b"".join(f_bytes(1, n) for n in nodes) + f_bytes(2, "g")
    g += b"".join(f_bytes(5, t) for t in initializers)
    g += b"".join(f_bytes(11, v) for v in inputs) + b"".join(f_bytes(12, v) for v in outputs)
    m = f_varint(1, 8) + f_bytes(2, "tta-tests") + f_bytes(7, g)
    m += f_bytes(8, f_bytes(1, "") + f_varint(2, opset))
    m += b"".join(f_bytes(14, f_bytes(1, k) + f_bytes(2, v)) for k, v in metadata)
    return m


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    x = value_info("x", FLOAT, ["batch", 2, 3, 3])
    # A valid model: y = Relu(Conv(x, w) + b), symbolic batch, metadata.
    w = tensor("w", [1, 2, 2, 2], FLOAT, floats_raw([1, 0, 0, -1, 0.5, 0.5, 0.5, 0.5]))
    b = tensor("b", [1], FLOAT, floats_raw([0.25]))
    y = value_info("y", FLOAT, ["batch", 1, 2, 2])
    write("conv_relu.onnx", model([node("Conv", ["x", "w", "b"], ["c"], "conv"), node("Relu", ["c"], ["y"], "relu")],
                                  [x], [y], [w, b], metadata=[("tta.note", "hand-built test model")]))
    # Conv whose kernel_shape attribute contradicts the weights.
    write("bad_attr_conv.onnx", model([node("Conv", ["x", "w"], ["y"], "conv_bad", [attr_ints("kernel_shape", [3, 3, 3])])],
                                      [x], [y], [w]))
    # Transpose with a perm that is not a permutation.
    write("bad_attr_transpose.onnx", model([node("Transpose", ["x"], ["y"], "tr_bad", [attr_ints("perm", [0, 0, 1, 2])])],
                                           [x], [y]))
    # Softmax with an axis out of range.
    write("bad_attr_softmax.onnx", model([node("Softmax", ["x"], ["y"], "sm_bad", [attr_int("axis", 7)])], [x], [y]))
    # Two different unsupported ops and one custom-domain op: reported together.
    write("unsupported_ops.onnx", model([node("FancyOp", ["x"], ["a"], "fancy1"), node("FancyOp", ["a"], ["b"], "fancy2"),
                                         node("Loop2", ["b"], ["c"], "loop"), node("Relu", ["c"], ["y"], "relu")],
                                        [x], [y]))
    # An initializer stored as external data.
    wext = tensor("w", [1, 2, 2, 2], FLOAT, b"", external=True)
    write("external_data.onnx", model([node("Conv", ["x", "w"], ["y"], "conv")], [x], [y], [wext]))
    # Reshape to a shape with the wrong element count.
    shape = tensor("shape", [2], INT64, ints_raw([5, 7]))
    write("bad_reshape.onnx", model([node("Reshape", ["x", "shape"], ["y"], "reshape_bad")], [x], [y], [shape]))
    # A node reading a tensor nobody defines.
    write("dangling_input.onnx", model([node("Relu", ["nowhere"], ["y"], "relu")], [x], [y]))
    # Two inputs sharing the symbolic dim "batch": Add(x, x2).
    x2 = value_info("x2", FLOAT, ["batch", 2, 3, 3])
    write("two_inputs.onnx", model([node("Add", ["x", "x2"], ["y"], "add")], [x, x2],
                                   [value_info("y", FLOAT, ["batch", 2, 3, 3])]))
    # Views sharing their input's buffer in the plan's arena, read after later steps:
    # a = Relu(x); r = Reshape(Flatten(a)) (same bytes as a); s = r + a; n = -s; y = n + r = -a.
    # If r's buffer were reused for s or n, y would not be -Relu(x).
    back = tensor("back", [4], INT64, ints_raw([-1, 2, 3, 3]))
    # 12 channels (not a multiple of the 8- or 16-channel block) into a global pool: y = GAP(Relu(Conv(x) + b)).
    write("padded_gap.onnx", model([node("Conv", ["x", "w12", "b12"], ["c"], "conv", [attr_ints("pads", [1, 1, 1, 1])]),
                                    node("Relu", ["c"], ["r"], "relu"), node("GlobalAveragePool", ["r"], ["y"], "gap")],
                                   [x], [value_info("y", FLOAT, ["batch", 12, 1, 1])],
                                   [tensor("w12", [12, 2, 3, 3], FLOAT, floats_raw(flat(PADDED_GAP_W))),
                                    tensor("b12", [12], FLOAT, floats_raw(PADDED_GAP_B))]))
    write("shared_buffers.onnx", model([node("Relu", ["x"], ["a"], "relu"), node("Flatten", ["a"], ["f"], "flatten"),
                                        node("Reshape", ["f", "back"], ["r"], "reshape"),
                                        node("Add", ["r", "a"], ["s"], "add1"), node("Neg", ["s"], ["n"], "neg"),
                                        node("Add", ["n", "r"], ["y"], "add2")],
                                       [x], [value_info("y", FLOAT, ["batch", 2, 3, 3])], [back]))


def conv_relu_reference(x):
    """y = relu(conv2d(x, w) + 0.25), 2x2 kernel, no padding, computed by explicit loops."""
    w = [[[1, 0], [0, -1]], [[0.5, 0.5], [0.5, 0.5]]]
    n = len(x)
    y = [[[[0.0] * 2 for _ in range(2)]] for _ in range(n)]
    for b in range(n):
        for i in range(2):
            for j in range(2):
                acc = 0.25
                for c in range(2):
                    for ki in range(2):
                        for kj in range(2):
                            acc += w[c][ki][kj] * x[b][c][i + ki][j + kj]
                y[b][0][i][j] = max(acc, 0.0)
    return y


def flat(v):
    return [a for b in v for a in flat(b)] if isinstance(v, list) else [v]


PADDED_GAP_W = [[[[((o + 1) * (c + 2) * (3 * i + j + 1) % 5 - 2) / 4.0 for j in range(3)] for i in range(3)]
                 for c in range(2)] for o in range(12)]
PADDED_GAP_B = [(o % 4) / 8.0 - 0.125 for o in range(12)]


def padded_gap_reference(x):
    """y[o] = mean over the 3x3 image of relu(conv3x3(x, w, pad 1) + b), by explicit loops."""
    y = []
    for img in x:
        out = []
        for o in range(12):
            total = 0.0
            for i in range(3):
                for j in range(3):
                    acc = PADDED_GAP_B[o]
                    for c in range(2):
                        for ki in range(3):
                            for kj in range(3):
                                ii, jj = i + ki - 1, j + kj - 1
                                if 0 <= ii < 3 and 0 <= jj < 3:
                                    acc += PADDED_GAP_W[o][c][ki][kj] * img[c][ii][jj]
                    total += max(acc, 0.0)
            out.append([[total / 9.0]])
        y.append(out)
    return y


def shared_buffers_reference(x):
    """y = -relu(x), elementwise."""
    return [[[[-max(v, 0.0) for v in row] for row in ch] for ch in img] for img in x]


def write_case(name, model_file, batches, reference=None, out_shape=(1, 2, 2)):
    """A case folder in the ONNX test-suite layout with hand-computed references."""
    case = os.path.join(OUT, "..", "cases", name)
    os.makedirs(case, exist_ok=True)
    with open(os.path.join(OUT, model_file), "rb") as f, open(os.path.join(case, "model.onnx"), "wb") as g:
        g.write(f.read())
    for k, n in enumerate(batches):
        d = os.path.join(case, "test_data_set_%d" % k)
        os.makedirs(d, exist_ok=True)
        # values in [-2, 2] that encode batch, channel, row and column
        x = [[[[((b * 7 + c * 5 + i * 3 + j) % 9 - 4) / 2.0 for j in range(3)] for i in range(3)] for c in range(2)]
             for b in range(n)]
        y = (reference or conv_relu_reference)(x)
        with open(os.path.join(d, "input_0.pb"), "wb") as f:
            f.write(tensor("x", [n, 2, 3, 3], FLOAT, floats_raw(flat(x))))
        with open(os.path.join(d, "output_0.pb"), "wb") as f:
            f.write(tensor("y", [n] + list(out_shape), FLOAT, floats_raw(flat(y))))
        if k == 0 and name == "conv_relu":  # the same input as .npy, for `tta run`
            hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 2, 3, 3), }" % n
            hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
            with open(os.path.join(OUT, "..", "conv_relu_input.npy"), "wb") as f:
                f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + floats_raw(flat(x)))


if __name__ == "__main__":
    main()
    write_case("conv_relu", "conv_relu.onnx", [1, 3])
    write_case("shared_buffers", "shared_buffers.onnx", [1, 4], shared_buffers_reference, (2, 3, 3))
    write_case("padded_gap", "padded_gap.onnx", [1, 5], padded_gap_reference, (12, 1, 1))
