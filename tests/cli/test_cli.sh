#!/bin/sh
# test_cli.sh - end-to-end tests of the `tta` command: the happy paths of info/run/compare/
# conformance on hand-built models with hand-computed references (tests/data, made by
# scripts/make_test_models.py), and bad input of every kind: each must exit non-zero (not by a
# signal), print one line naming the problem, and leave no partial output behind.
# Usage: sh tests/cli/test_cli.sh [path/to/tta]. Ends with "N passed, N failed".

TTA=${1:-build/tta}
D=tests/data
M=$D/models
SUITE=/usr/share/libonnx-testdata/data/node
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }

# expect_ok NAME PATTERN CMD...: exit 0 and stdout matches PATTERN (grep -E)
expect_ok() {
    name=$1; pat=$2; shift 2
    "$@" > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -ne 0 ]; then bad "$name: exit $rc: $(head -c 300 "$TMP/err")"; return; fi
    if [ -n "$pat" ] && ! grep -Eq "$pat" "$TMP/out"; then bad "$name: output lacks /$pat/: $(head -c 300 "$TMP/out")"; return; fi
    ok
}

# expect_fail NAME PATTERN CMD...: exit 1 or 2 (no signal, no sanitizer) and stderr matches PATTERN
expect_fail() {
    name=$1; pat=$2; shift 2
    "$@" > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -eq 0 ] || [ $rc -gt 2 ]; then bad "$name: exit $rc (want 1 or 2): $(head -c 300 "$TMP/err")"; return; fi
    if ! grep -Eq "$pat" "$TMP/err"; then bad "$name: stderr lacks /$pat/: $(head -c 300 "$TMP/err")"; return; fi
    lines=$(grep -vc '^usage\|^$\|^  \|^[A-Z]' "$TMP/err")
    [ "$lines" -le 3 ] || { bad "$name: $lines lines of error output"; return; }
    ok
}

# --- usage
expect_fail "no arguments" "usage" "$TTA"
expect_fail "unknown command" "unknown command" "$TTA" frobnicate
expect_ok "help" "conformance" "$TTA" --help
expect_ok "run --help" "output-dir" "$TTA" run --help

# --- instruction-set caps (src/core/cpu.h): honoured, and bad values refused with a clear error
expect_ok "--isa names oneDNN's level, ours and the block" "\(oneDNN\), [a-z0-9]+ \(tta\), block (8|16)" "$TTA" --isa
expect_ok "TTA_MAX_ISA=generic caps both" "^sse41 \(oneDNN\), generic \(tta\), block 8" env TTA_MAX_ISA=generic "$TTA" --isa
expect_ok "TTA_BLOCK=16 forces the block" "block 16" env TTA_BLOCK=16 "$TTA" --isa
expect_fail "bad TTA_MAX_ISA" "TTA_MAX_ISA='avx9': unknown instruction set" env TTA_MAX_ISA=avx9 "$TTA" run $M/conv_relu.onnx --input $D/conv_relu_input.npy --output-dir "$TMP/isa"
[ ! -e "$TMP/isa" ] || [ -z "$(ls "$TMP/isa")" ] && ok || bad "bad TTA_MAX_ISA left output behind"
expect_fail "bad TTA_BLOCK" "TTA_BLOCK='4': the channel block must be 8 or 16" env TTA_BLOCK=4 "$TTA" run $M/conv_relu.onnx --input $D/conv_relu_input.npy --output-dir "$TMP/isa"

# --- info
expect_ok "info shows symbolic batch" "in +x +float32 +\[batch, 2, 3, 3\]" "$TTA" info $M/conv_relu.onnx
expect_ok "info counts parameters" "parameters: 9" "$TTA" info $M/conv_relu.onnx
expect_ok "info counts ops" "Conv +1" "$TTA" info $M/conv_relu.onnx

# --- run and compare: hand-computed reference (scripts/make_test_models.py)
expect_ok "run .npy input" "" "$TTA" run $M/conv_relu.onnx --input $D/conv_relu_input.npy --output-dir "$TMP/o1"
expect_ok "output matches reference" "match" "$TTA" compare "$TMP/o1/output_0.pb" $D/cases/conv_relu/test_data_set_0/output_0.pb
expect_ok "run .pb input, batch 3" "" "$TTA" run $M/conv_relu.onnx --input $D/cases/conv_relu/test_data_set_1/input_0.pb --output-dir "$TMP/o3"
expect_ok "batch 3 matches reference" "match" "$TTA" compare "$TMP/o3/output_0.pb" $D/cases/conv_relu/test_data_set_1/output_0.pb
expect_fail "compare detects a mismatch" "differs" "$TTA" compare "$TMP/o1/output_0.pb" $D/cases/conv_relu/test_data_set_1/output_0.pb
expect_ok "conformance on hand-built cases" "^3 passed, 0 failed" "$TTA" conformance $D/cases

# --- broken model files
head -c 60 $M/conv_relu.onnx > "$TMP/truncated.onnx"
printf 'this is not a protobuf \377\377\377\377\377 at all' > "$TMP/garbage.onnx"
: > "$TMP/empty.onnx"
expect_fail "truncated model" "truncated.onnx: not a valid ONNX model" "$TTA" info "$TMP/truncated.onnx"
expect_fail "garbage model" "garbage.onnx: not a valid ONNX model" "$TTA" info "$TMP/garbage.onnx"
expect_fail "empty model" "empty.onnx: empty file" "$TTA" info "$TMP/empty.onnx"
expect_fail "missing model" "nothere.onnx: cannot open" "$TTA" info "$TMP/nothere.onnx"
expect_fail "directory as model" "cannot" "$TTA" info "$TMP"
expect_fail "external data" "initializer 'w': stored as external data" "$TTA" info $M/external_data.onnx
expect_fail "dangling input" "reads 'nowhere'" "$TTA" info $M/dangling_input.onnx
expect_fail "all unsupported ops in one message" "3 unsupported nodes: FancyOp v13 x2 .*Loop2 v13 x1" "$TTA" info $M/unsupported_ops.onnx
# hostile models from fuzzing (shared fuzz findings M1): a node whose first output has no name
# made shape inference dereference NULL (SIGSEGV in the release build)
H=$D/hostile
for f in n1_reducesum_no_output globalaveragepool_no_output; do
    expect_fail "omitted first output: $f" "node '' \((ReduceSum|GlobalAveragePool)\): its first output is omitted" \
        "$TTA" run $H/$f.onnx --input $H/x_2x3_float32.npy --output-dir "$TMP/h_$f"
    [ ! -e "$TMP/h_$f" ] && ok || bad "omitted first output: $f left output behind"
done
expect_fail "omitted first output: duplicated MatMul" "node '' \(MatMul\): its first output is omitted" \
    "$TTA" run $H/matmul_2d_dup_node_no_output.onnx --input $SUITE/test_matmul_2d/test_data_set_0/input_0.pb \
    --input $SUITE/test_matmul_2d/test_data_set_0/input_1.pb --output-dir "$TMP/h_mm"

# --- bad attributes and impossible shapes: found when the plan is made, named by node
IN=$D/conv_relu_input.npy
expect_fail "conv kernel_shape contradicts weights" "conv_bad" "$TTA" run $M/bad_attr_conv.onnx --input $IN --output-dir "$TMP/o"
expect_fail "transpose perm not a permutation" "tr_bad" "$TTA" run $M/bad_attr_transpose.onnx --input $IN --output-dir "$TMP/o"
expect_fail "softmax axis out of range" "sm_bad.*axis" "$TTA" run $M/bad_attr_softmax.onnx --input $IN --output-dir "$TMP/o"
expect_fail "reshape to impossible shape" "reshape_bad" "$TTA" run $M/bad_reshape.onnx --input $IN --output-dir "$TMP/o"

# --- wrong inputs
expect_fail "wrong rank" "input 'x' must have rank 4, got shape \[3,4,5\]" "$TTA" run $M/conv_relu.onnx --input $SUITE/test_relu/test_data_set_0/input_0.pb --output-dir "$TMP/o"
expect_fail "wrong dtype" "input 'x' must be float32, got int64" "$TTA" run $M/conv_relu.onnx --input $SUITE/test_gather_0/test_data_set_0/input_1.pb --output-dir "$TMP/o"
expect_fail "missing input" "has 2 inputs, 1 given" "$TTA" run $M/two_inputs.onnx --input $IN --output-dir "$TMP/o"
expect_fail "symbolic dim bound twice" "'batch'.*binds it" "$TTA" run $M/two_inputs.onnx --input $IN --input $D/cases/conv_relu/test_data_set_1/input_0.pb --output-dir "$TMP/o"
head -c 20 $D/cases/conv_relu/test_data_set_1/input_0.pb > "$TMP/trunc.pb"
expect_fail "truncated .pb input" "trunc.pb: " "$TTA" run $M/conv_relu.onnx --input "$TMP/trunc.pb" --output-dir "$TMP/o"
head -c 100 $IN > "$TMP/trunc.npy"
expect_fail "truncated .npy input" "trunc.npy: truncated" "$TTA" run $M/conv_relu.onnx --input "$TMP/trunc.npy" --output-dir "$TMP/o"
printf 'NUMPY garbage' > "$TMP/bad.npy"
expect_fail "garbage .npy input" "bad.npy: not a .npy file" "$TTA" run $M/conv_relu.onnx --input "$TMP/bad.npy" --output-dir "$TMP/o"
if [ -e "$TMP/o" ] && [ -n "$(ls "$TMP/o")" ]; then bad "failed runs left output in $TMP/o"; else ok; fi
expect_fail "output dir not creatable" "cannot create" "$TTA" run $M/conv_relu.onnx --input $IN --output-dir /proc/nope/out

# --- bench: the JSON keys make bench reads, the per-operator profile, bad options
expect_ok "bench json" '"images_per_s": [0-9.]+, "latency_ms": [0-9.]+.*"peak_rss_mb": [0-9.]+' \
    "$TTA" bench models/fashion_cnn.onnx --batch 4 --threads 2 --seconds 0.2 --json
expect_ok "bench profile" '^  FusedConv +dnnl +5 ' "$TTA" bench models/fashion_cnn.onnx --batch 4 --seconds 0.2 --profile
expect_ok "bench profile, symbolic dims" 'Resize +c ' "$TTA" bench models/segmenter.onnx --batch 2 --seconds 0.2 \
    --shape 1,1,64,64 --profile
expect_fail "bench batch 0" "batch wants a positive integer" "$TTA" bench models/fashion_cnn.onnx --batch 0
expect_fail "bench symbolic dims without --shape" "is symbolic; give its shape with --shape" "$TTA" bench \
    models/segmenter.onnx --batch 2
expect_fail "bench missing model" "nope.onnx" "$TTA" bench "$TMP/nope.onnx"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
