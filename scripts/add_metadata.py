#!/usr/bin/python3
"""add_metadata.py - appends metadata_props entries to an ONNX model file in place.

    /usr/bin/python3 scripts/add_metadata.py MODEL.onnx KEY=VALUE [KEY=VALUE ...]

Protobuf lets a repeated field be appended to a serialized message, so this is a byte append of
ModelProto field 14 (see onnx_pb.py); the weights and graph are untouched. A key the model
already has is refused (no duplicates). Used once on models/detector.onnx to add tta.stride=16
and on models/segmenter.onnx to add tta.stride=8, which the training scripts
(scripts/train_detector.py, scripts/train_segmenter.py) now write themselves.
"""
import sys

import onnx_pb


def main():
    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        sys.exit(__doc__)
    path = sys.argv[1]
    data = open(path, "rb").read()
    have = onnx_pb.describe_model(data)["metadata"]
    props = [tuple(a.split("=", 1)) for a in sys.argv[2:]]
    for k, _ in props:
        if k in have:
            sys.exit("%s: already has %s = %s" % (path, k, have[k]))
    with open(path, "ab") as f:
        f.write(onnx_pb.metadata_bytes(props))
    check = onnx_pb.describe_model(open(path, "rb").read())["metadata"]
    for k, v in props:
        assert check.get(k) == v, k
    print("%s: added %s" % (path, ", ".join("%s=%s" % p for p in props)))


if __name__ == "__main__":
    main()
