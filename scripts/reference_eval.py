#!/usr/bin/env python3
"""reference_eval.py - independent reference figures for the end-to-end test of `tta eval`.

    /usr/bin/python3 scripts/reference_eval.py      (after scripts/train_classifier.py)

Loads the PyTorch weights that scripts/train_classifier.py kept in build/models/, computes in
PyTorch the accuracy and mean NLL of TTA policies whose views are exact on uint8 images (flip,
circular shifts with torch.roll, zero-filled shifts) on the first 2,000 Fashion-MNIST test
images, merging by the mean of probabilities, and writes tests/data/reference_eval.txt:
one line per policy, "name|tta policy text|accuracy|nll". tests/cli/test_reference.sh runs
`tta eval` on the shipped ONNX model with the same policies and compares. Nothing here is used
by the tests themselves.
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_data  # noqa: E402
import train_classifier as tc  # noqa: E402

N = 2000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def roll(x, dx, dy):
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def shift0(x, dx, dy):
    return tc.view_shift(x, dx, dy)


# name, tta policy text, views as functions on float pixel batches [N,1,28,28] (0..255)
POLICIES = [
    ("none", "identity", [lambda x: x]),
    ("flip", "hflip", [lambda x: x, lambda x: x.flip(3)]),
    ("width shifts", "shift(3, 0, wrap); shift(-3, 0, wrap)",
     [lambda x: x, lambda x: roll(x, 3, 0), lambda x: roll(x, -3, 0)]),
    ("height shifts", "shift(0, 3, wrap); shift(0, -3, wrap)",
     [lambda x: x, lambda x: roll(x, 0, 3), lambda x: roll(x, 0, -3)]),
    ("zero-fill shifts", "shift(2, 0, constant); shift(0, -2, constant)",
     [lambda x: x, lambda x: shift0(x, 2, 0), lambda x: shift0(x, 0, -2)]),
    ("flip + shifts", "hflip; shift(3, 0, wrap); shift(-3, 0, wrap); shift(0, 3, wrap); shift(0, -3, wrap)",
     [lambda x: x, lambda x: x.flip(3), lambda x: roll(x, 3, 0), lambda x: roll(x, -3, 0),
      lambda x: roll(x, 0, 3), lambda x: roll(x, 0, -3)]),
]


@torch.no_grad()
def main():
    torch.set_num_threads(2)
    spec = tc.ARCHS["cnn"]
    net = spec["cls"]()
    net.load_state_dict(torch.load(os.path.join(ROOT, "build", "models", spec["name"] + ".pt")))
    net.eval()
    x_u8, y = fashion_data.load_split("test")
    x = torch.from_numpy(np.ascontiguousarray(x_u8[:N])).float().unsqueeze(1)
    y = y[:N]
    lines = []
    for name, text, views in POLICIES:
        p = np.mean([tc.probs_of_pixels(net, v(x)).double().numpy() for v in views], axis=0)
        acc = float(np.mean(p.argmax(1) == y))
        nll = float(-np.mean(np.log(np.maximum(p[np.arange(N), y], 1e-7))))
        lines.append("%s|%s|%.6f|%.6f" % (name, text, acc, nll))
        print(lines[-1])
    with open(os.path.join(ROOT, "tests", "data", "reference_eval.txt"), "w") as f:
        f.write("# made by scripts/reference_eval.py from build/models/%s.pt on fashion-mnist:test[0:%d]\n"
                % (spec["name"], N))
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
