#!/bin/sh
# test_augment.sh - end-to-end tests of `tta augment`: a grid of the views of a policy is
# written as a PNG whose size follows from the view count, and bad policies and images fail
# with one line naming the problem (line and column for policies) and leave no file behind.
# Usage: sh tests/cli/test_augment.sh [path/to/tta]. Ends with "N passed, N failed".

TTA=${1:-build/tta}
IMG=$(ls tests/data/datasets/folder/*/*.png | head -n 1)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }

expect_fail() {
    name=$1; pat=$2; out=$3; shift 3
    "$@" > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -eq 0 ] || [ $rc -gt 2 ]; then bad "$name: exit $rc: $(head -c 300 "$TMP/err")"; return; fi
    grep -Eq "$pat" "$TMP/err" || { bad "$name: stderr lacks /$pat/: $(head -c 300 "$TMP/err")"; return; }
    [ -e "$out" ] && { bad "$name: left $out behind"; return; }
    ok
}

if "$TTA" augment --policy seed "$IMG" -o "$TMP/grid.png" > "$TMP/out" 2> "$TMP/err"; then
    ok
    # PNG signature, then the IHDR chunk
    [ "$(head -c 8 "$TMP/grid.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] && ok || bad "grid is not a PNG"
    "$TTA" augment --policy flip "$IMG" -o "$TMP/grid2.png" > /dev/null 2>&1 && ok || bad "flip grid"
    s8=$(wc -c < "$TMP/grid.png"); s2=$(wc -c < "$TMP/grid2.png")
    [ "$s8" -gt "$s2" ] && ok || bad "an 8-view grid ($s8 bytes) should be larger than a 2-view one ($s2)"
else
    bad "augment runs: $(head -c 300 "$TMP/err")"
fi
"$TTA" augment --policy "hflip; rotate(15)" --print "$IMG" -o "$TMP/p.png" > "$TMP/print" 2>&1
grep -q "rotate(15" "$TMP/print" && ok || bad "--print lists the views: $(head -c 200 "$TMP/print")"

expect_fail "misspelt transform" "line 1, column 1" "$TMP/bad1.png" "$TTA" augment --policy "hflp" "$IMG" -o "$TMP/bad1.png"
expect_fail "error on line 2" "line 2, column" "$TMP/bad2.png" "$TTA" augment --policy "hflip
rotate(10" "$IMG" -o "$TMP/bad2.png"
expect_fail "duplicate view" "twice|already|duplicate" "$TMP/bad3.png" "$TTA" augment --policy "hflip; hflip" "$IMG" -o "$TMP/bad3.png"
head -c 50 "$IMG" > "$TMP/trunc.png"
expect_fail "truncated image" "trunc.png" "$TMP/bad4.png" "$TTA" augment --policy flip "$TMP/trunc.png" -o "$TMP/bad4.png"
expect_fail "missing image" "nothere.png" "$TMP/bad5.png" "$TTA" augment --policy flip "$TMP/nothere.png" -o "$TMP/bad5.png"
expect_fail "crop larger than the image" "crop|larger|size" "$TMP/bad6.png" "$TTA" augment --policy "crop(tl, 500)" "$IMG" -o "$TMP/bad6.png"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
