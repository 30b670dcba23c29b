#!/bin/sh
# test_detect.sh - end-to-end tests of `tta detect` on the shipped detector and mosaics made here:
# predict (boxes, support, drawings, JSON), eval (the table, JSON keys, COCO results per
# policy), fuse (results files into one), search (a policy file that eval reads back with its
# merge rule), and bad input: a model that fits no layout, categories that disagree with the
# model, a missing image, malformed JSON, bad flags; each a clear error, a non-zero exit and no
# output file left behind.
# Usage: sh tests/cli/test_detect.sh [path/to/tta]. Ends with "N passed, N failed, N skipped".

TTA=${1:-build/tta}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0; SKIP=0
M=models/detector.onnx

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }

# expect_fail NAME PATTERN CMD...: non-zero exit, stderr matches PATTERN, $TMP/never not written
expect_fail() {
    name=$1; pat=$2; shift 2
    "$@" > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -eq 0 ] || [ $rc -gt 2 ]; then bad "$name: exit $rc (want 1 or 2): $(head -c 300 "$TMP/err")"; return; fi
    if ! grep -Eq -e "$pat" "$TMP/err"; then bad "$name: stderr lacks /$pat/: $(head -c 300 "$TMP/err")"; return; fi
    if [ -e "$TMP/never" ] || [ -e "$TMP/never.json" ] || ls "$TMP" | grep -q part; then
        bad "$name: wrote output"; rm -rf "$TMP/never" "$TMP/never.json" "$TMP"/*.part; return
    fi
    ok
}

"$TTA" detect --help | grep -q "fuse" && ok || bad "detect --help"
"$TTA" detect eval --help | grep -q -- "--results-dir" && ok || bad "detect eval --help"
"$TTA" detect predict --help | grep -q -- "--draw" && ok || bad "detect predict --help"
"$TTA" detect search --help | grep -q -- "--budget" && ok || bad "detect search --help"
"$TTA" detect fuse --help | grep -q -- "--conf-type" && ok || bad "detect fuse --help"
expect_fail "unknown subcommand" "unknown subcommand 'frob'" "$TTA" detect frob
expect_fail "bad merge" "unknown.*'average'|wbf" "$TTA" detect predict --model $M --merge average x.png
expect_fail "bad iou" "--iou: bad value '2'" "$TTA" detect predict --model $M --iou 2 x.png
expect_fail "a detector through the classifier" "detection model .*use .tta detect" "$TTA" predict --model $M x.png

if [ ! -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
    SKIP=$((SKIP + 20))
    echo "$PASS passed, $FAIL failed, $SKIP skipped"
    exit 0
fi
"$TTA" data mosaic --split test --seed 3 --count 40 -q -o "$TMP/test" > /dev/null 2>&1 || bad "mosaic test"
"$TTA" data mosaic --split val --seed 2 --count 30 -q -o "$TMP/val" > /dev/null 2>&1 || bad "mosaic val"

# ---- predict
"$TTA" detect predict --model $M --policy hflip --draw "$TMP/draw" --json "$TMP/p.json" \
    "$TMP/test/images/000000.png" "$TMP/test/images/000001.png" > "$TMP/out" 2> "$TMP/err" || bad "predict: $(cat "$TMP/err")"
grep -q "000000.png: [1-9][0-9]* box" "$TMP/out" && ok || bad "predict: no boxes for image 0: $(head -3 "$TMP/out")"
grep -Eq "support [12]/2" "$TMP/out" && ok || bad "predict: no support column"
grep -Eq "^  (T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot) +0\.[0-9]{3}" "$TMP/out" && ok || bad "predict: class and score"
[ -s "$TMP/draw/000000.png" ] && [ -s "$TMP/draw/000001.png" ] && ok || bad "predict --draw files"
grep -q '"support": ' "$TMP/p.json" && grep -q '"box": \[' "$TMP/p.json" && ok || bad "predict --json"
# the drawing is a PNG that tta reads back (RGB, upscaled to at least 128 px)
"$TTA" augment --policy identity "$TMP/draw/000000.png" -o "$TMP/grid.png" > /dev/null 2>&1 && ok || bad "drawing is not a readable PNG"

# ---- eval
"$TTA" detect eval --model $M --data "coco:$TMP/test" --policy "none=identity" --policy "flip=hflip" \
    --policy "$TMP/pol.txt" --boot 50 --json "$TMP/e.json" --results-dir "$TMP/res" > "$TMP/out" 2> "$TMP/err"
# (the third policy does not exist yet: the whole command must fail and write nothing)
[ $? -ne 0 ] && [ ! -e "$TMP/e.json" ] && [ ! -e "$TMP/res/0.json" ] && ok || bad "eval with a missing policy file wrote output"
"$TTA" detect eval --model $M --data "coco:$TMP/test" --policy "none=identity" --policy "flip=hflip" --merge wbf \
    --iou 0.6 --boot 50 --json "$TMP/e.json" --results-dir "$TMP/res" > "$TMP/out" 2> "$TMP/err" || bad "eval: $(cat "$TMP/err")"
grep -q "^one pass (identity) *1  nms iou=0.6" "$TMP/out" && ok || bad "eval: one-pass row: $(cat "$TMP/out")"
grep -q "^flip *2  wbf iou=0.6 " "$TMP/out" && ok || bad "eval: flip row"
for k in '"name"' '"views"' '"merge"' '"map"' '"map50"' '"map75"' '"ar100"' '"gain_ci"'; do
    grep -q "$k" "$TMP/e.json" || { bad "eval json lacks $k"; break; }
done && ok
[ -s "$TMP/res/0.json" ] && [ -s "$TMP/res/1.json" ] && ok || bad "eval --results-dir files"
grep -q '"support": 2' "$TMP/res/1.json" && ok || bad "flip results carry support 2"
# 40 images: AP of one pass on these mosaics is between 0.5 and 0.95
ap=$(grep "^one pass" "$TMP/out" | awk '{print $8}')
awk -v a="$ap" 'BEGIN {exit !(a > 0.5 && a < 0.95)}' && ok || bad "one-pass AP $ap out of range"

# ---- fuse: the two policies' results as two sources
"$TTA" detect fuse --merge wbf --weights 2,1 "$TMP/res/0.json" "$TMP/res/1.json" -o "$TMP/f.json" > "$TMP/out" 2> "$TMP/err" \
    || bad "fuse: $(cat "$TMP/err")"
grep -q "fused [0-9]* detections from 2 files" "$TMP/out" && ok || bad "fuse summary"
grep -q '"support": 2' "$TMP/f.json" && ok || bad "fuse: no box found by both files"
expect_fail "fuse weights count" "--weights needs 2 positive numbers" "$TTA" detect fuse --weights 1 "$TMP/res/0.json" "$TMP/res/1.json" -o "$TMP/never.json"
printf '[{"image_id": 1, "category_id": 2,\n "bbox": [1, 2, 3], "score": 0.5}]\n' > "$TMP/short.json"
expect_fail "fuse short bbox" "short.json: .*bbox" "$TTA" detect fuse "$TMP/short.json" -o "$TMP/never.json"
printf '[{"image_id": 1,\n  "category_id": 2 "bbox": [1, 2, 3, 4]}]\n' > "$TMP/broken.json"
expect_fail "fuse malformed JSON" "broken.json:2:[0-9]+" "$TTA" detect fuse "$TMP/broken.json" -o "$TMP/never.json"
expect_fail "fuse without -o" "-o OUT.json" "$TTA" detect fuse "$TMP/res/0.json"

# ---- search: a tiny pool on 30 validation mosaics; the policy file carries the merge rule
"$TTA" detect search --model $M --val "coco:$TMP/val" --test "coco:$TMP/test" --budget 2 --boot 50 \
    --pool "hflip; resize(80, 80)" -o "$TMP/pol.txt" --json "$TMP/s.json" > "$TMP/out" 2> "$TMP/err" || bad "search: $(cat "$TMP/err")"
grep -q "^# merge: " "$TMP/pol.txt" && ok || bad "search: policy file lacks the merge rule"
grep -q "test (40 images): one pass AP" "$TMP/out" && ok || bad "search: test line"
grep -q '"gain_ci"' "$TMP/s.json" && ok || bad "search json"
"$TTA" detect eval --model $M --data "coco:$TMP/test" --policy "$TMP/pol.txt" --boot 50 > "$TMP/out2" 2> "$TMP/err" || bad "eval of the searched policy"
merge=$(sed -n 's/^# merge: //p' "$TMP/pol.txt")
grep -q "  $merge " "$TMP/out2" && ok || bad "eval did not use the policy's merge ($merge): $(cat "$TMP/out2")"

# ---- bad input
expect_fail "classifier is no detector" "classification model, not a detector" "$TTA" detect eval --model models/fashion_cnn.onnx --data "coco:$TMP/test" --json "$TMP/never.json"
cp -r "$TMP/test" "$TMP/few"
# 11 categories, one of them renamed: neither the names nor the counts match the model's
sed -e 's/"id": 10, "name": "Ankle boot", "supercategory": "fashion"}/&, {"id": 11, "name": "Hat"}/' \
    -e 's/"name": "Bag"/"name": "Purse"/' "$TMP/test/annotations.json" > "$TMP/few/annotations.json"
expect_fail "categories disagree" "11 categories in the annotations, but the model has 10 classes" \
    "$TTA" detect eval --model $M --data "coco:$TMP/few" --json "$TMP/never.json"
rm "$TMP/few/annotations.json"; cp "$TMP/test/annotations.json" "$TMP/few/"
rm "$TMP/few/images/000007.png"
expect_fail "missing image" "000007.png" "$TTA" detect eval --model $M --data "coco:$TMP/few" --json "$TMP/never.json"
expect_fail "missing data set" "nowhere" "$TTA" detect eval --model $M --data "coco:$TMP/nowhere" --json "$TMP/never.json"
expect_fail "json into a missing folder" "cannot (create|write)" "$TTA" detect eval --model $M --data "coco:$TMP/test[0:3]" --boot 20 --json "$TMP/no/dir.json"
expect_fail "range past the end" "range" "$TTA" detect eval --model $M --data "coco:$TMP/test[0:99]"
expect_fail "unreadable image" "nothing.png" "$TTA" detect predict --model $M "$TMP/nothing.png"

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
