"""onnx_pb.py - the few protobuf pieces the model scripts need, without the `onnx` package.

Debian's python3-torch can export ONNX but there is no `onnx` Python package here, so this module
writes and reads the handful of messages we touch, straight from the wire format:

- TensorProto (reference vectors): dims = field 1 (repeated int64, varints), data_type = field 2,
  name = field 8, raw_data = field 9 (little-endian element bytes).
- ModelProto.metadata_props (field 14): repeated StringStringEntryProto {key = 1, value = 2}.
  Protobuf lets a repeated field be appended to a serialized message, so adding metadata is a
  byte append to torch.onnx.export's output.
- A small reader that walks a ModelProto and returns its opset, inputs, outputs, node op types,
  initializer sizes and metadata, to check what was written.
"""

import struct

import numpy as np

# TensorProto.DataType values used here.
FLOAT = 1
UINT8 = 2
INT8 = 3
INT32 = 6
INT64 = 7

_NP_OF = {FLOAT: np.float32, UINT8: np.uint8, INT8: np.int8, INT32: np.int32, INT64: np.int64}
_CODE_OF = {np.dtype(v): k for k, v in _NP_OF.items()}

# ---------------------------------------------------------------- wire format: writing


def varint(n):
    """Encodes a non-negative int (or a negative int64 as 10-byte two's complement) as a varint."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire_type):
    return varint((field << 3) | wire_type)


def field_varint(field, n):
    return key(field, 0) + varint(n)


def field_bytes(field, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return key(field, 2) + varint(len(data)) + bytes(data)


def encode_tensor(array, name=""):
    """Serializes a numpy array as an onnx TensorProto (dims, data_type, name, raw_data)."""
    a = np.asarray(array)
    code = _CODE_OF.get(a.dtype)
    if code is None:
        raise ValueError("unsupported dtype %s" % a.dtype)
    out = bytearray()
    for d in a.shape:  # dims: repeated int64, written unpacked (tag 0x08 per value)
        out += field_varint(1, int(d))
    out += field_varint(2, code)
    if name:
        out += field_bytes(8, name)
    out += field_bytes(9, a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes(order="C"))
    return bytes(out)


def metadata_bytes(props):
    """ModelProto field 14 entries for an ordered list (or dict) of (key, value) strings."""
    items = props.items() if isinstance(props, dict) else props
    out = bytearray()
    for k, v in items:
        out += field_bytes(14, field_bytes(1, str(k)) + field_bytes(2, str(v)))
    return bytes(out)

# ---------------------------------------------------------------- wire format: reading


def read_varint(buf, pos):
    shift = 0
    n = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def fields(buf):
    """Yields (field, wire_type, value) for each field of a serialized message.
    value is an int for varints and fixed-width types, a memoryview for length-delimited ones."""
    buf = memoryview(buf)
    pos = 0
    while pos < len(buf):
        k, pos = read_varint(buf, pos)
        f, wt = k >> 3, k & 7
        if wt == 0:
            v, pos = read_varint(buf, pos)
        elif wt == 1:
            v = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wt == 2:
            n, pos = read_varint(buf, pos)
            if pos + n > len(buf):
                raise ValueError("truncated length-delimited field %d" % f)
            v = buf[pos:pos + n]
            pos += n
        elif wt == 5:
            v = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ValueError("unsupported wire type %d (field %d)" % (wt, f))
        yield f, wt, v


def _packed_or_single(wt, v):
    if wt == 0:
        return [v]
    out = []
    pos = 0
    while pos < len(v):
        x, pos = read_varint(v, pos)
        out.append(x)
    return out


def _int64(x):
    return x - (1 << 64) if x >= 1 << 63 else x


def decode_tensor(buf):
    """Parses a TensorProto written with raw_data (or float_data/int32_data) into (name, array)."""
    dims, dtype, name, raw = [], None, "", None
    floats, ints = [], []
    for f, wt, v in fields(buf):
        if f == 1:
            dims += [_int64(x) for x in _packed_or_single(wt, v)]
        elif f == 2:
            dtype = v
        elif f == 8:
            name = bytes(v).decode("utf-8")
        elif f == 9:
            raw = bytes(v)
        elif f == 4:  # float_data, packed or not
            if wt == 2:
                floats += list(struct.unpack("<%df" % (len(v) // 4), v))
            else:
                floats.append(struct.unpack("<f", struct.pack("<I", v))[0])
        elif f == 5:
            ints += _packed_or_single(wt, v)
    if dtype not in _NP_OF:
        raise ValueError("unsupported tensor data_type %r" % dtype)
    npt = np.dtype(_NP_OF[dtype]).newbyteorder("<")
    if raw is not None:
        arr = np.frombuffer(raw, dtype=npt)
    elif floats:
        arr = np.array(floats, dtype=npt)
    else:
        arr = np.array(ints, dtype=npt)
    return name, arr.astype(_NP_OF[dtype]).reshape(tuple(dims))


def _value_info(buf):
    """ValueInfoProto -> (name, elem_type, [dim value or param])."""
    name, elem, dims = "", None, []
    for f, _, v in fields(buf):
        if f == 1:
            name = bytes(v).decode()
        elif f == 2:  # TypeProto
            for tf, _, tv in fields(v):
                if tf == 1:  # tensor_type
                    for ttf, _, ttv in fields(tv):
                        if ttf == 1:
                            elem = ttv
                        elif ttf == 2:  # TensorShapeProto
                            for sf, _, sv in fields(ttv):
                                if sf == 1:  # Dimension
                                    d = None
                                    for df, _, dv in fields(sv):
                                        d = _int64(dv) if df == 1 else bytes(dv).decode()
                                    dims.append(d)
    return name, elem, dims


def describe_model(data):
    """Walks a serialized ModelProto; returns a dict with ir_version, opsets, producer, inputs,
    outputs, op_types (ordered as nodes appear), node count, initializer count and bytes, and
    metadata (dict)."""
    info = {"ir_version": None, "opsets": {}, "producer": "", "inputs": [], "outputs": [],
            "op_types": [], "nodes": 0, "initializers": 0, "initializer_bytes": 0,
            "metadata": {}}
    for f, _, v in fields(data):
        if f == 1:
            info["ir_version"] = v
        elif f == 2:
            info["producer"] = bytes(v).decode()
        elif f == 8:  # OperatorSetIdProto
            dom, ver = "", None
            for of, _, ov in fields(v):
                if of == 1:
                    dom = bytes(ov).decode()
                elif of == 2:
                    ver = ov
            info["opsets"][dom] = ver
        elif f == 14:
            k = val = ""
            for mf, _, mv in fields(v):
                if mf == 1:
                    k = bytes(mv).decode()
                elif mf == 2:
                    val = bytes(mv).decode()
            info["metadata"][k] = val
        elif f == 7:  # GraphProto
            init_names = set()
            for gf, _, gv in fields(v):
                if gf == 1:  # NodeProto
                    info["nodes"] += 1
                    for nf, _, nv in fields(gv):
                        if nf == 4:
                            info["op_types"].append(bytes(nv).decode())
                elif gf == 5:  # initializer
                    info["initializers"] += 1
                    for tf, _, tv in fields(gv):
                        if tf == 9:
                            info["initializer_bytes"] += len(tv)
                        elif tf == 8:
                            init_names.add(bytes(tv).decode())
                elif gf == 11:
                    info["inputs"].append(_value_info(gv))
                elif gf == 12:
                    info["outputs"].append(_value_info(gv))
            info["inputs"] = [i for i in info["inputs"] if i[0] not in init_names]
    return info


def write_tensor_file(path, array, name=""):
    data = encode_tensor(array, name)
    with open(path, "wb") as f:
        f.write(data)
    back_name, back = decode_tensor(data)  # check the encoding by reading it back
    if back_name != name or back.dtype != array.dtype or back.shape != array.shape or \
            not np.array_equal(back, array, equal_nan=True):
        raise AssertionError("%s: tensor did not decode back to what was written" % path)
    return data


if __name__ == "__main__":
    # Self-check: round trips of tensors and metadata.
    rng = np.random.default_rng(0)
    for a in (rng.integers(0, 256, (2, 1, 3, 3), dtype=np.uint8),
              rng.standard_normal((4, 10)).astype(np.float32),
              np.zeros((0, 5), np.float32), np.array(3.5, np.float32)):
        n, b = decode_tensor(encode_tensor(a, "t"))
        assert n == "t" and b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)
    md = metadata_bytes([("a", "1"), ("tta.x", "y,z")])
    got = {}
    for f, _, v in fields(md):
        assert f == 14
        kv = {ff: bytes(vv).decode() for ff, _, vv in fields(v)}
        got[kv[1]] = kv[2]
    assert got == {"a": "1", "tta.x": "y,z"}
    assert varint(300) == b"\xac\x02" and read_varint(varint(-1), 0)[0] == (1 << 64) - 1
    print("onnx_pb self-check passed")
