#!/bin/sh
# demo.sh - what `make demo` shows. Until the classification TTA job lands (issue 5), it shows
# the runtime on the shipped classifier: the model's description, a run on reference inputs
# checked against PyTorch's outputs, and the views of the reference policy on an image.
set -e
cd "$(dirname "$0")/.."
TTA=build/tta
MODEL=models/fashion_cnn.onnx
[ -f "$MODEL" ] || MODEL=tests/data/models/conv_relu.onnx
echo "== tta info $MODEL"
$TTA info "$MODEL"
REF=models/refs/fashion_cnn/test_data_set_0
if [ -d "$REF" ]; then
    echo "== tta run on the reference inputs, compared with PyTorch's outputs"
    out=$(mktemp -d)
    $TTA run "$MODEL" --input "$REF/input_0.pb" --output-dir "$out"
    $TTA compare "$out/output_0.pb" "$REF/output_0.pb"
    rm -rf "$out"
fi
echo "== the ONNX backend conformance suite"
$TTA conformance --expected-failures tests/conformance/expected_failures.txt | tail -n 2
