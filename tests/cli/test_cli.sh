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
expect_ok "--version" "^tta [0-9]+\.[0-9]+\.[0-9]+ \(library [0-9]+\.[0-9]+\.[0-9]+\)$" "$TTA" --version
# every command and sub-command answers --help on stdout with exit 0
for c in info run conformance eval predict search frontier compare bench augment data "data mosaic" \
    detect "detect predict" "detect eval" "detect search" "detect fuse" "detect bench" \
    segment "segment predict" "segment eval" "segment search" "segment bench"; do
    # shellcheck disable=SC2086
    expect_ok "$c --help" "usage" "$TTA" $c --help
done
# progress: to a file, plain lines with the count, the rate and the time; none with --quiet
# (wherever it stands); the table itself is unchanged
if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] && [ -f models/fashion_cnn.onnx ]; then
    "$TTA" eval --model models/fashion_cnn.onnx --data "fashion-mnist:test[0:600]" --policy flip=hflip \
        > "$TMP/p.out" 2> "$TMP/p.err"
    if grep -Eq '^models/fashion_cnn.onnx on fashion-mnist:test\[0:600\], 2 views: 600/600 images, [0-9.]+/s, in [0-9]+ s$' "$TMP/p.err" &&
        ! grep -q "$(printf '\r')" "$TMP/p.err"; then ok; else bad "progress line to a file: $(head -c 300 "$TMP/p.err")"; fi
    "$TTA" eval --model models/fashion_cnn.onnx --data "fashion-mnist:test[0:600]" --quiet --policy flip=hflip \
        > "$TMP/q.out" 2> "$TMP/q.err"
    if [ ! -s "$TMP/q.err" ] && grep -Eq '^flip +2 +0\.[0-9]{4}' "$TMP/q.out"; then ok
    else bad "--quiet: stderr $(head -c 200 "$TMP/q.err"), stdout $(head -c 200 "$TMP/q.out")"; fi
fi
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
# shared fuzz findings M2-M9, R2: shapes that overflow int64, float sizes out of range, empty
# attribute arrays, and tiny models that asked for gigabytes. Each must fail (or succeed) at
# once with a clear message: `timeout 20` turns a hang or a huge allocation into a failure.
hostile() { # NAME PATTERN MODEL INPUT
    expect_fail "hostile $1" "$2" timeout 20 "$TTA" run $H/$3 --input $H/$4 --output-dir "$TMP/h_$1"
    [ ! -e "$TMP/h_$1" ] && ok || bad "hostile $1 left output behind"
}
hostile "Tile repeats 2^62+1 (M2)" "Tile node: repeats\[0\] = 4611686018427387905 times dim 4 overflows int64" \
    tile_repeats_overflow.onnx x_4_float32.npy
hostile "Tile repeats, fuzzed (M2)" "Tile node: repeats\[2\] = [0-9]+ times dim 3 overflows int64" \
    tile_repeats_overflow_fuzz.onnx x_1x10x3x4_float32.npy
hostile "Tile element count overflow (M3)" "Tile node: output '2' of shape \[[0-9,]+\] would have more elements than int64" \
    tile_numel_overflow.onnx x_1x10x3x4_float32.npy
hostile "Expand count wraps to 16 (M3)" "Expand node: output 'e' of shape \[16777232,1099510579201\] would have more elements" \
    expand_numel_wrap.onnx x_1x1_float32.npy
hostile "Conv pads 2^40 (M3)" "Conv node: pads 1099511627776,1099511627776 on spatial axis 0 exceed the input size 4" \
    conv_pads_2pow40.onnx x_1x1x4x4_float32.npy
hostile "Resize scale 1e20 (M4)" "Resize node: output length 4e\+20 on axis 2 is out of range" \
    resize_scale_1e20.onnx x_1x1x4x4_float32.npy
hostile "Resize scale, fuzzed (M4)" "node '/Resize' \(Resize\): output length .* on axis 0 is out of range" \
    resize_scale_huge_fuzz.onnx x_1x3x32x32_float32.npy
hostile "Slice-1 empty axes (M7)" "Slice node: starts, ends, axes and steps must have the same length" \
    slice_axes_empty_attr.onnx x_1x1_float32.npy
hostile "Conv1d pads 2^24 (M9)" "Conv node: pads 1,16777215 on spatial axis 0 exceed the input size 3 plus the kernel extent 3" \
    conv1d_pads_16M.onnx x_4x4x3_float32.npy
hostile "ConstantOfShape 2^31 (R2)" "ConstantOfShape node: output 'c' of shape \[2147483648\] would have 2147483648 elements \(8589934592 bytes\), more than the memory limit" \
    constantofshape_2pow31.onnx x_1_float32.npy
# M6: Squeeze-1 with an empty axes attribute squeezes every unit dim (a result, not a crash)
expect_ok "Squeeze-1 empty axes (M6)" "" timeout 20 "$TTA" run $H/squeeze_axes_empty_attr.onnx \
    --input $H/x_1x1_float32.npy --output-dir "$TMP/h_sq"
[ -s "$TMP/h_sq/output_0.pb" ] && ok || bad "Squeeze-1 empty axes wrote no output"
# the memory limit: --max-memory, TTA_MAX_MEMORY, and their syntax
expect_fail "--max-memory too small" "conv_relu.onnx: .*more than the memory limit of 8 bytes" \
    "$TTA" run $M/conv_relu.onnx --input $D/conv_relu_input.npy --output-dir "$TMP/h_mm1" --max-memory 8B
expect_fail "TTA_MAX_MEMORY too small" "more than the memory limit of 12 bytes" \
    env TTA_MAX_MEMORY=12 "$TTA" run $M/conv_relu.onnx --input $D/conv_relu_input.npy --output-dir "$TMP/h_mm2"
expect_fail "TTA_MAX_MEMORY malformed" "TTA_MAX_MEMORY: bad memory size 'lots'" \
    env TTA_MAX_MEMORY=lots "$TTA" run $M/conv_relu.onnx --input $D/conv_relu_input.npy --output-dir "$TMP/h_mm3"
expect_fail "--max-memory malformed" "run: --max-memory: bad memory size '12X'" \
    "$TTA" run $M/conv_relu.onnx --input $D/conv_relu_input.npy --output-dir "$TMP/h_mm4" --max-memory 12X
expect_ok "--max-memory large enough" "" "$TTA" run $M/conv_relu.onnx --input $D/conv_relu_input.npy \
    --output-dir "$TMP/h_mm5" --max-memory 64M
expect_fail "bench --max-memory too small" "more than the memory limit of 8 bytes" \
    "$TTA" bench $M/conv_relu.onnx --seconds 0.1 --max-memory 8

# shared fuzz findings M8, T1, P1, R1 (a block of its own): a kernel whose prepare fails is
# released (the ASan build's LeakSanitizer fails the run otherwise), a .npy declaring 10^12
# elements is truncated (not out of memory), a view over 2^28 pixels is refused at plan time.
fuzz_fail() { # NAME PATTERN CMD...: fails at once, with a clear message, no sanitizer report
    n=$1; shift
    expect_fail "$n" "$@"
    if grep -q "Sanitizer" "$TMP/err"; then bad "$n: sanitizer report"; fi
}
fuzz_fail "Conv stride 0 (M8)" "Conv node: 'strides' value 0 must be >= 1" \
    timeout 20 "$TTA" run $H/conv_stride0.onnx --input $H/x_1x1x4x4_float32.npy --output-dir "$TMP/f_m8a"
fuzz_fail "MaxPool kernel 0 (M8)" "MaxPool node: 'kernel_shape' value 0 must be >= 1" \
    timeout 20 "$TTA" run $H/maxpool_kernel0.onnx --input $H/x_1x1x4x4_float32.npy --output-dir "$TMP/f_m8b"
fuzz_fail "AveragePool, fuzzed (M8)" "AveragePool node: missing attribute 'kernel_shape'" \
    timeout 20 "$TTA" run $H/averagepool_bad_attr_fuzz.onnx --input $H/x_2x3x6x6_float32.npy --output-dir "$TMP/f_m8c"
for f in a b; do
    fuzz_fail "MaxPool uint8, fuzzed $f (M8)" "MaxPool node: missing attribute 'kernel_shape'" \
        timeout 20 "$TTA" run $H/maxpool_uint8_bad_attr_fuzz_$f.onnx --input $H/x_1x1x5x5_uint8.npy --output-dir "$TMP/f_m8$f"
done
fuzz_fail "Resize mode, fuzzed (M8)" "Resize node: unsupported mode" \
    timeout 20 "$TTA" run $H/resize_bad_attr_fuzz.onnx --input $H/x_1x1x4x4_float32.npy \
    --input $H/scales_1_1_2_2_float32.npy --output-dir "$TMP/f_m8d"
[ ! -e "$TMP/f_m8a" ] && [ ! -e "$TMP/f_m8d" ] && ok || bad "M8 cases left output behind"
fuzz_fail ".npy of 10^12 elements (T1)" "npy_shape_1e12_float32_16B.npy: truncated data: 16 bytes, shape needs 4000000000000" \
    timeout 20 "$TTA" run $M/conv_relu.onnx --input $H/npy_shape_1e12_float32_16B.npy --output-dir "$TMP/f_t1"
for i in 0 1 2 3; do
    fuzz_fail ".npy huge shape, fuzzed $i (T1)" "npy_huge_shape_fuzz_$i.npy: truncated data: [0-9]+ bytes, shape needs [0-9]+" \
        timeout 20 "$TTA" compare $H/npy_huge_shape_fuzz_$i.npy $H/npy_huge_shape_fuzz_$i.npy
done
fuzz_fail "policy resize(21112) (P1)" "view 1: resize\(21112\) makes a 21112x21112 image from 12x10: too large" \
    timeout 20 "$TTA" augment --policy "resize(21112)" $H/img_12x10_rgb.png -o "$TMP/f_p1.png"
fuzz_fail "policy resize(30000)>resize(8) (P1)" "view 1: resize\(30000\) makes a 30000x30000 image" \
    timeout 20 "$TTA" augment --policy "resize(30000)>resize(8)" $H/img_12x10_rgb.png -o "$TMP/f_p1b.png"
[ ! -e "$TMP/f_p1.png" ] && ok || bad "P1 left output behind"

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
