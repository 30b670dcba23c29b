#!/bin/sh
# demo.sh - `make demo`: the main job on the shipped classifier and the Fashion-MNIST test set.
# The reference experiment's table for the `seed` preset and its sub-policies, the accuracy of
# each view alone, and the warnings against random augmentation (seeded, so reproducible); then
# the policy search of at most 4 passes per image on the validation split, reported on the test
# split. Figures also go to build/demo.json and build/demo-search.json.
set -e
cd "$(dirname "$0")/.."
TTA=build/tta
MODEL=${MODEL:-models/fashion_cnn.onnx}
DATA=${DATA:-fashion-mnist:test}
if [ ! -f "$MODEL" ]; then
    echo "demo: $MODEL is missing (see models/README.md to rebuild it)" >&2
    exit 1
fi
$TTA info "$MODEL" | head -n 8
echo
$TTA eval --model "$MODEL" --data "$DATA" \
    --policy "none=identity" \
    --policy "flip=hflip" \
    --policy "width shifts=shift(3, 0, wrap); shift(-3, 0, wrap)" \
    --policy "height shifts=shift(0, 3, wrap); shift(0, -3, wrap)" \
    --policy "height + width shifts=shift(3, 0, wrap); shift(-3, 0, wrap); shift(0, 3, wrap); shift(0, -3, wrap)" \
    --policy "flip + shifts=hflip; shift(3, 0, wrap); shift(-3, 0, wrap); shift(0, 3, wrap); shift(0, -3, wrap)" \
    --policy "rotations=rotate(10, bilinear, edge); rotate(-10, bilinear, edge)" \
    --policy "all=seed" \
    --random 4 --seed 0 --json build/demo.json

# ---- the policy search: the best policy of at most 4 passes per image, chosen on the
# validation split (never trained on) and reported on the test split, with its confidence.
echo
echo "== policy search on the validation split, reported on the test split"
# a compact pool keeps the demo to a few minutes; `--pool default` searches 82 candidates
POOL="hflip; shift(1, 0, wrap); shift(-1, 0, wrap); shift(0, 1, wrap); shift(0, -1, wrap); scale(0.9); scale(1.1); rotate(5); rotate(-5); hflip > scale(1.1)"
$TTA search --model "$MODEL" --val fashion-mnist:val --test "$DATA" --budget 4 --pool "$POOL" \
    --cache build/demo-search.cache -o build/demo-policy.txt --json build/demo-search.json
echo
echo "chosen policy (build/demo-policy.txt):"
cat build/demo-policy.txt
echo
echo "every figure: build/demo.json, build/demo-search.json"
