#!/bin/sh
# test_segment.sh - end-to-end tests of `tta segment` on the shipped segmenter and mosaics made
# here: predict (mask, overlay and uncertainty PNGs), eval (the table, JSON keys, saved class
# maps and entropy .npy per policy), search (a policy file that eval reads back with its merge
# rule), and bad input: a model that is no segmenter, a mask of another size, mask values above
# the class count, a missing pair, bad flags; each a clear error, a non-zero exit and no output
# file left behind.
# Usage: sh tests/cli/test_segment.sh [path/to/tta]. Ends with "N passed, N failed, N skipped".

TTA=${1:-build/tta}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0; SKIP=0
M=models/segmenter.onnx

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }

# expect_fail NAME PATTERN CMD...: non-zero exit, stderr matches PATTERN, $TMP/never* not written
expect_fail() {
    name=$1; pat=$2; shift 2
    "$@" > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -eq 0 ] || [ $rc -gt 2 ]; then bad "$name: exit $rc (want 1 or 2): $(head -c 300 "$TMP/err")"; return; fi
    if ! grep -Eq -e "$pat" "$TMP/err"; then bad "$name: stderr lacks /$pat/: $(head -c 300 "$TMP/err")"; return; fi
    if [ -e "$TMP/never.json" ] || [ -e "$TMP/never.txt" ] || ls "$TMP" | grep -q part; then
        bad "$name: wrote output"; rm -rf "$TMP/never.json" "$TMP/never.txt" "$TMP"/*.part; return
    fi
    ok
}

"$TTA" segment --help | grep -q "search" && ok || bad "segment --help"
"$TTA" segment eval --help | grep -q -- "--save-dir" && ok || bad "segment eval --help"
"$TTA" segment predict --help | grep -q "uncertainty" && ok || bad "segment predict --help"
"$TTA" segment search --help | grep -q -- "--cache-mb" && ok || bad "segment search --help"
expect_fail "unknown subcommand" "unknown subcommand 'frob'" "$TTA" segment frob
expect_fail "bad merge" "unknown merge 'avg'" "$TTA" segment eval --model $M --data masks:x --merge avg
expect_fail "bad overlap" "--overlap: bad value '2'" "$TTA" segment eval --model $M --data masks:x --overlap 2

if [ ! -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
    SKIP=$((SKIP + 16))
    echo "$PASS passed, $FAIL failed, $SKIP skipped"
    exit 0
fi
"$TTA" data mosaic --split test --seed 3 --count 24 -q -o "$TMP/test" > /dev/null 2>&1 || bad "mosaic test"
"$TTA" data mosaic --split val --seed 2 --count 16 -q -o "$TMP/val" > /dev/null 2>&1 || bad "mosaic val"

# ---- predict
"$TTA" segment predict --model $M --policy hflip -o "$TMP/pred" "$TMP/test/images/000000.png" > "$TMP/out" 2> "$TMP/err" \
    || bad "predict: $(cat "$TMP/err")"
[ -s "$TMP/pred/000000.mask.png" ] && [ -s "$TMP/pred/000000.overlay.png" ] && [ -s "$TMP/pred/000000.uncertainty.png" ] \
    && ok || bad "predict files"
grep -q "background" "$TMP/out" && grep -q "mutual_info" "$TMP/out" && ok || bad "predict output: $(cat "$TMP/out")"

# ---- eval
"$TTA" segment eval --model $M --data "masks:$TMP/test" --policy "flip=hflip" --boot 50 --json "$TMP/e.json" \
    --save-dir "$TMP/save" > "$TMP/out" 2> "$TMP/err" || bad "eval: $(cat "$TMP/err")"
grep -q "^one pass (identity) *1 mean" "$TMP/out" && ok || bad "eval: one-pass row: $(cat "$TMP/out")"
grep -q "^flip *2 mean" "$TMP/out" && ok || bad "eval: flip row"
for k in '"name"' '"views"' '"miou"' '"per_class_iou"' '"dice"' '"pixel_accuracy"' '"gain_ci"' '"uncertainty"' '"auroc"' '"aupr"'; do
    grep -q "$k" "$TMP/e.json" || { bad "eval json lacks $k"; break; }
done && ok
[ -s "$TMP/save/0/000000.png" ] && [ -s "$TMP/save/0/000023.entropy.npy" ] && ok || bad "eval --save-dir files"
# the saved entropy map is a 64 x 64 float32 .npy: 128-byte header + 16384 bytes
[ "$(wc -c < "$TMP/save/0/000023.entropy.npy")" -eq 16512 ] && ok || bad "entropy .npy size"
miou=$(grep "^one pass" "$TMP/out" | awk '{print $6}')
awk -v a="$miou" 'BEGIN {exit !(a > 0.5 && a < 0.95)}' && ok || bad "one-pass mIoU $miou out of range"

# ---- search: a tiny pool on 16 validation mosaics
"$TTA" segment search --model $M --val "masks:$TMP/val" --test "masks:$TMP/test" --budget 2 --boot 50 \
    --pool "hflip; vflip" -o "$TMP/pol.txt" --json "$TMP/s.json" > "$TMP/out" 2> "$TMP/err" || bad "search: $(cat "$TMP/err")"
grep -q "^# merge: " "$TMP/pol.txt" && ok || bad "search: policy file lacks the merge rule"
grep -q "test (24 images): one pass mIoU" "$TMP/out" && ok || bad "search: test line"
grep -q '"gain_ci"' "$TMP/s.json" && ok || bad "search json"
"$TTA" segment eval --model $M --data "masks:$TMP/test" --policy "$TMP/pol.txt" --boot 20 > "$TMP/out2" 2> "$TMP/err" \
    && ok || bad "eval of the searched policy: $(cat "$TMP/err")"

# ---- bad input
expect_fail "classifier is no segmenter" "not a segmenter|rank 2" "$TTA" segment eval --model models/fashion_cnn.onnx --data "masks:$TMP/test" --json "$TMP/never.json"
expect_fail "cache bound" "cache would take" "$TTA" segment search --model $M --val "masks:$TMP/val" --test "masks:$TMP/test" --budget 2 --cache-mb 0.01 -o "$TMP/never.txt"
cp -r "$TMP/test" "$TMP/bad"
rm "$TMP/bad/masks/000005.png"
expect_fail "missing pair" "000005.png" "$TTA" segment eval --model $M --data "masks:$TMP/bad" --json "$TMP/never.json"
cp "$TMP/test/images/000003.png" "$TMP/bad/masks/000005.png"   # a mask whose values run to 255 ... and above 10
"$TTA" data mosaic --split test --seed 9 --count 1 --size 80 -q -o "$TMP/big" > /dev/null 2>&1
cp "$TMP/big/masks/000000.png" "$TMP/bad/masks/000007.png"   # 80 x 80 for a 64 x 64 image
expect_fail "mask of another size" "000007.png.*(80|size)" "$TTA" segment eval --model $M --data "masks:$TMP/bad[6:8]" --json "$TMP/never.json"
expect_fail "mask values above the classes" "value|class" "$TTA" segment eval --model $M --data "masks:$TMP/bad[5:6]" --json "$TMP/never.json"
expect_fail "empty range" "range" "$TTA" segment eval --model $M --data "masks:$TMP/test[30:40]"

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
