"""eval_classifiers.py - TTA versus a model ensemble at equal cost, for the shipped classifiers.

    /usr/bin/python3 scripts/eval_classifiers.py

Loads the weights scripts/train_classifier.py left in build/models/ (fashion_cnn.pt,
fashion_resnet.pt), computes each model's probabilities on the validation and test splits for the
TTA views of train_classifier.VIEWS, and prints a markdown table of accuracy and mean NLL for:
each model alone and with TTA policies, and the two-model ensemble (mean of probabilities), alone
and with each model under a TTA policy. "passes" is the number of forward passes per image (both
models cost about the same). The table is written to build/models/tta_vs_ensemble.md as well.
"""

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_data  # noqa: E402
import train_classifier as tc  # noqa: E402


def nll(p, y):
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-12))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work-dir", default=os.path.join(tc.ROOT, "build", "models"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    data = fashion_data.load_all()
    views = ["id", "hflip", "scale0.9", "scale1.1", "x+2", "x-2", "y+2", "y-2"]
    probs = {}  # (model, split) -> {view: probs}
    for arch in ("cnn", "resnet"):
        spec = tc.ARCHS[arch]
        net = spec["cls"]()
        path = os.path.join(args.work_dir, spec["name"] + ".pt")
        net.load_state_dict(torch.load(path))
        for split in ("val", "test"):
            probs[(arch, split)] = tc.view_probs(net, data[split][0], views, channels_last=True)
            print("computed %s %s" % (spec["name"], split), flush=True)

    def mean(ps):
        return np.mean(ps, axis=0)

    tta = {
        "none": ["id"],
        "hflip": ["id", "hflip"],
        "hflip + scales 0.9/1.1": ["id", "hflip", "scale0.9", "scale1.1"],
        "shifts +-2 px": ["id", "x+2", "x-2", "y+2", "y-2"],
    }
    rows = []  # (description, passes, {split: (acc, nll)})
    for arch in ("cnn", "resnet"):
        for pol, vs in tta.items():
            rows.append(("%s, TTA %s" % (tc.ARCHS[arch]["name"], pol), len(vs),
                         {s: mean([probs[(arch, s)][v] for v in vs]) for s in ("val", "test")}))
    for pol, vs in tta.items():
        rows.append(("ensemble cnn + resnet, TTA %s on each" % pol, 2 * len(vs),
                     {s: mean([probs[(a, s)][v] for a in ("cnn", "resnet") for v in vs])
                      for s in ("val", "test")}))

    lines = ["| predictor | passes | val acc | val NLL | test acc | test NLL |",
             "|---|---|---|---|---|---|"]
    for desc, passes, ps in sorted(rows, key=lambda r: (r[1], r[0])):
        cells = []
        for s in ("val", "test"):
            y = data[s][1]
            cells += ["%.4f" % float(np.mean(ps[s].argmax(1) == y)), "%.4f" % nll(ps[s], y)]
        lines.append("| %s | %d | %s |" % (desc, passes, " | ".join(cells)))
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(args.work_dir, "tta_vs_ensemble.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
