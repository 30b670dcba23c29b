#!/bin/sh
# demo.sh - `make demo`: the main job on the shipped classifier and the Fashion-MNIST test set.
# The reference experiment's table for the `seed` preset and its sub-policies, the accuracy of
# each view alone, and the warnings against random augmentation (seeded, so reproducible).
# Figures also go to build/demo.json.
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
    --policy "all (seed)=seed" \
    --random 8 --seed 0 --json build/demo.json
echo
echo "every figure: build/demo.json"
