#!/bin/sh
# hostile_table.sh - the hostile-input table of issue 14: each hostile model, tensor and policy of
# tests/data/hostile/ through the release `tta` (the cases tests/cli/test_cli.sh checks), with
# the first line of the error, the exit code, the wall time and the peak resident memory
# (GNU time's %M). Prints a Markdown table. Usage: sh scripts/hostile_table.sh [path/to/tta]
cd "$(dirname "$0")/.." || exit 1
TTA=${1:-build/tta}
H=tests/data/hostile
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ -x /usr/bin/time ] || sh scripts/setup.sh time
echo "| input | what it declares | exit | time | peak memory | message |"
echo "|---|---|---|---|---|---|"
row() { # FILE WHAT CMD...
    f=$1; what=$2; shift 2
    /usr/bin/time -f "%e %M" -o "$TMP/t" "$@" > /dev/null 2> "$TMP/err"
    rc=$?
    set -- $(tail -n 1 "$TMP/t")
    msg=$(grep -v '^Command exited' "$TMP/err" | head -n 1 | sed 's/|/\\|/g' | cut -c1-150)
    [ -n "$msg" ] || msg="(accepted: a valid input)"
    printf '| `%s` | %s | %d | %.2f s | %.0f MB | %s |\n' "$f" "$what" "$rc" "$1" "$(echo "$2 / 1024" | bc -l)" "$msg"
}
run() { row "$1" "$2" "$TTA" run "$H/$1" --input "$H/$3" --output-dir "$TMP/out"; }
run tile_repeats_overflow.onnx "Tile repeats 2^62+1" x_4_float32.npy
run tile_repeats_overflow_fuzz.onnx "Tile repeats (fuzzed)" x_1x10x3x4_float32.npy
run tile_numel_overflow.onnx "Tile output beyond int64" x_1x10x3x4_float32.npy
run expand_numel_wrap.onnx "Expand count wrapping to 16" x_1x1_float32.npy
run conv_pads_2pow40.onnx "Conv pads 2^40" x_1x1x4x4_float32.npy
run conv1d_pads_16M.onnx "Conv1d pads 2^24 (51 s, 10.6 GB before)" x_4x4x3_float32.npy
run conv_stride0.onnx "Conv stride 0" x_1x1x4x4_float32.npy
run maxpool_kernel0.onnx "MaxPool kernel 0" x_1x1x4x4_float32.npy
run resize_scale_1e20.onnx "Resize scale 1e20" x_1x1x4x4_float32.npy
run resize_scale_huge_fuzz.onnx "Resize scale (fuzzed)" x_1x3x32x32_float32.npy
run slice_axes_empty_attr.onnx "Slice-1 empty axes" x_1x1_float32.npy
run constantofshape_2pow31.onnx "ConstantOfShape [2^31] (8.2 GB before)" x_1_float32.npy
run globalaveragepool_no_output.onnx "a node with an omitted output (SIGSEGV before)" x_2x3_float32.npy
row npy_shape_1e12_float32_16B.npy ".npy of 10^12 elements in 16 bytes" "$TTA" compare "$H/npy_shape_1e12_float32_16B.npy" "$H/npy_shape_1e12_float32_16B.npy"
row 'resize(21112)' "a 446 M-pixel view of a 12x10 image (5.3 GB before)" "$TTA" augment --policy "resize(21112)" "$H/img_12x10_rgb.png" -o "$TMP/a.png"
row 'resize(10556)' "a 93 M-pixel intermediate before an 8x9 output (100 s before)" "$TTA" augment --policy "resize(10556)" --size 8x9 "$H/img_12x10_rgb.png" -o "$TMP/b.png"
row 'rot90(6.7e20)' "quarter turns past 2^63 (UB before)" "$TTA" augment --policy "rot90(666666666666666666662)" "$H/img_12x10_rgb.png" -o "$TMP/c.png"
