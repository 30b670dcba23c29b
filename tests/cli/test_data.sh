#!/bin/sh
# test_data.sh - end-to-end tests of `tta data mosaic`: the same seed writes the same files byte
# for byte, another seed other files, the output has one image and one mask per mosaic and a
# COCO annotations.json, and bad flags fail with one line and write nothing.
# Needs Fashion-MNIST (dataset-fashion-mnist); without it the data tests are skipped.
# Usage: sh tests/cli/test_data.sh [path/to/tta]. Ends with "N passed, N failed, N skipped".

TTA=${1:-build/tta}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0; SKIP=0

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }

# expect_fail NAME PATTERN CMD...: exit 2 (usage error), stderr matches PATTERN, nothing written
expect_fail() {
    name=$1; pat=$2; shift 2
    "$@" > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -eq 0 ] || [ $rc -gt 2 ]; then bad "$name: exit $rc (want 1 or 2): $(head -c 300 "$TMP/err")"; return; fi
    if ! grep -Eq -e "$pat" "$TMP/err"; then bad "$name: stderr lacks /$pat/: $(head -c 300 "$TMP/err")"; return; fi
    if [ -e "$TMP/never" ]; then bad "$name: wrote output"; rm -rf "$TMP/never"; return; fi
    ok
}

expect_fail "data without a data set" "usage" "$TTA" data
expect_fail "unknown data set" "unknown data set 'frob'" "$TTA" data frob
expect_fail "missing --split" "--split is required" "$TTA" data mosaic --count 2 -o "$TMP/never"
expect_fail "bad split" "'holdout' is not train, val or test" "$TTA" data mosaic --split holdout --count 2 -o "$TMP/never"
expect_fail "bad count" "--count: 'x' is not an integer" "$TTA" data mosaic --split val --count x -o "$TMP/never"
expect_fail "negative seed" "--seed: '-3'" "$TTA" data mosaic --split val --count 2 --seed -3 -o "$TMP/never"
expect_fail "size too small" "--size: '4' is not an integer in 8..4096" "$TTA" data mosaic --split val --count 2 --size 4 -o "$TMP/never"
expect_fail "min > max items" "items 4..2" "$TTA" data mosaic --split val --count 2 --min-items 4 --max-items 2 -o "$TMP/never"
expect_fail "unknown option" "unknown option '--colour'" "$TTA" data mosaic --split val --count 2 --colour red -o "$TMP/never"
expect_fail "missing value" "--seed needs a value" "$TTA" data mosaic --split val --count 2 -o "$TMP/never" --seed
expect_fail "missing data" "nowhere/train-images-idx3-ubyte.gz: cannot open" "$TTA" data mosaic --split val --count 2 --data-dir "$TMP/nowhere" -o "$TMP/never"
"$TTA" data mosaic --help | grep -q -- "--max-overlap" && ok || bad "mosaic --help"

if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
    run() { "$TTA" data mosaic --split test --count 20 --size 80 -q "$@" > "$TMP/out" 2> "$TMP/err" || bad "mosaic $*: $(cat "$TMP/err")"; }
    run --seed 5 -o "$TMP/a"
    run --seed 5 -o "$TMP/b"
    run --seed 6 -o "$TMP/c"
    diff -r "$TMP/a" "$TMP/b" > /dev/null && ok || bad "same seed gives different files"
    cmp -s "$TMP/a/annotations.json" "$TMP/c/annotations.json" && bad "another seed gives the same annotations" || ok
    [ "$(ls "$TMP/a/images" | wc -l)" -eq 20 ] && [ "$(ls "$TMP/a/masks" | wc -l)" -eq 20 ] && ok || bad "file counts"
    grep -q '"file_name": "000019.png", "width": 80, "height": 80' "$TMP/a/annotations.json" && ok || bad "images list"
    n=$(grep -c '"iscrowd": 0' "$TMP/a/annotations.json")
    [ "$n" -ge 20 ] && [ "$n" -le 100 ] && ok || bad "annotation count $n not in 20..100"
    grep -q '"split": "test", "seed": 5, "count": 20, "size": 80' "$TMP/a/annotations.json" && ok || bad "info"
    grep -q "wrote 20 mosaics of 80x80" "$TMP/out" && ok || bad "summary line"
    "$TTA" data mosaic --split val --count 1000 --seed 1 -o "$TMP/d" 2> "$TMP/err" > /dev/null
    grep -q "mosaic: 1000/1000" "$TMP/err" && ok || bad "progress on stderr"
else
    SKIP=$((SKIP + 8))
fi

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
