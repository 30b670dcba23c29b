#!/bin/sh
# test_eval.sh - end-to-end tests of `tta eval` and `tta predict` on a whole-model test network
# (tests/models/resnet_tiny_op13, 3-channel 32x32 input, fed 1-channel 28x28 Fashion-MNIST
# images: exercises channel replication and resizing) and on bad input. Checks figures that
# must agree with each other whatever the model: the identity policy's accuracy equals the
# identity view's, corrected - broken = n x (accuracy - baseline accuracy) for every policy, a
# NAME=POLICY row name, the JSON keys; and the same seed giving the same random baselines.
# Usage: sh tests/cli/test_eval.sh [path/to/tta]. Ends with "N passed, N failed".

TTA=${1:-build/tta}
M=tests/models/resnet_tiny_op13/model.onnx
DATA="fashion-mnist:test[0:60]"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }

expect_fail() {
    name=$1; pat=$2; shift 2
    "$@" > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -eq 0 ] || [ $rc -gt 2 ]; then bad "$name: exit $rc: $(head -c 300 "$TMP/err")"; return; fi
    grep -Eq "$pat" "$TMP/err" || { bad "$name: stderr lacks /$pat/: $(head -c 300 "$TMP/err")"; return; }
    ok
}

if ! "$TTA" eval --model $M --data "$DATA" --policy "none=identity" --policy flip --policy "shifts=shift(3, 0, wrap); shift(0, -3, wrap)" \
        --policy seed --merge mean --random 2 --seed 7 --json "$TMP/a.json" > "$TMP/a.txt" 2> "$TMP/a.err"; then
    bad "eval runs: $(tail -c 300 "$TMP/a.err")"
else
    ok
    for key in '"name"' '"views"' '"accuracy"' '"nll"' '"ece"' '"corrected"' '"broken"' '"cumulative_accuracy"' '"random"'; do
        grep -q "$key" "$TMP/a.json" && ok || bad "json lacks $key"
    done
    grep -q '"name": "none", "kind": "policy", "views": 1,' "$TMP/a.json" && ok || bad "row name from NAME=POLICY"
    grep -q '"name": "seed", "kind": "policy", "views": 8,' "$TMP/a.json" && ok || bad "seed has 8 views"
    # the identity policy scores exactly like the identity view alone, and corrects/breaks nothing
    none_acc=$(grep '"name": "none"' "$TMP/a.json" | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/')
    id_acc=$(grep '"view": "identity"' "$TMP/a.json" | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/')
    [ -n "$none_acc" ] && [ "$none_acc" = "$id_acc" ] && ok || bad "identity policy $none_acc vs identity view $id_acc"
    grep -q '"name": "none".*"corrected": 0, "broken": 0' "$TMP/a.json" && ok || bad "identity corrects nothing"
    # corrected - broken == 60 * (accuracy - baseline accuracy), for every policy
    bad_rows=$(grep '"kind": "policy"' "$TMP/a.json" | sed -E 's/.*"accuracy": ([0-9.]+).*"corrected": ([0-9]+), "broken": ([0-9]+).*/\1 \2 \3/' |
        awk -v base="$none_acc" '{ d = 60 * ($1 - base) - ($2 - $3); if (d > 0.01 || d < -0.01) print }')
    [ -z "$bad_rows" ] && ok || bad "net corrections disagree with accuracies: $bad_rows"
    grep -q "accuracy as views are added" "$TMP/a.txt" && ok || bad "cumulative accuracy line"
    grep -q "^random x1" "$TMP/a.txt" && ok || bad "random baseline row"
    # same seed, same random baselines
    "$TTA" eval --model $M --data "$DATA" --policy "none=identity" --random 2 --seed 7 --json "$TMP/b.json" > /dev/null 2>&1
    r1=$(grep '"random"' "$TMP/a.json"); r2=$(grep '"random"' "$TMP/b.json")
    [ -n "$r1" ] && [ "$r1" = "$r2" ] && ok || bad "random baselines not reproducible: $r1 / $r2"
fi

# an ensemble of two models: each model alone is also reported
if "$TTA" eval --model $M --model tests/models/resnet_tiny_op17/model.onnx --data "fashion-mnist:test[0:20]" --policy flip \
        --json "$TMP/e.json" > "$TMP/e.txt" 2>&1; then
    grep -q '"name": "flip", "kind": "policy", "views": 4,' "$TMP/e.json" && ok || bad "ensemble of 2 models x 2 views = 4"
    [ "$(grep -c '"kind": "model"' "$TMP/e.json")" = 2 ] && ok || bad "each model alone reported"
else
    bad "ensemble eval runs: $(tail -c 300 "$TMP/e.txt")"
fi

# predict on image files
"$TTA" augment --help > /dev/null 2>&1
if "$TTA" predict --model $M --policy flip --top 2 tests/data/datasets/folder/*/*.png > "$TMP/p.txt" 2> "$TMP/p.err"; then
    grep -q "entropy" "$TMP/p.txt" && grep -q "agreement" "$TMP/p.txt" && ok || bad "predict output: $(head -c 300 "$TMP/p.txt")"
else
    bad "predict runs: $(tail -c 300 "$TMP/p.err")"
fi

# bad input
expect_fail "eval without data" "required" "$TTA" eval --model $M
expect_fail "eval unknown data set" "unknown data set 'nope'" "$TTA" eval --model $M --data nope:test
expect_fail "eval bad range" "range" "$TTA" eval --model $M --data "fashion-mnist:test[5:2]"
expect_fail "eval bad policy" "line 1, column" "$TTA" eval --model $M --data "$DATA" --policy "hflip > frobnicate(3)"
expect_fail "eval bad merge" "unknown merge 'median'" "$TTA" eval --model $M --data "$DATA" --merge median
expect_fail "eval missing model" "nothere.onnx: cannot open" "$TTA" eval --model "$TMP/nothere.onnx" --data "$DATA"
expect_fail "eval model that is not a classifier" "one input; this one has 2" "$TTA" eval --model tests/data/models/two_inputs.onnx --data "$DATA"
expect_fail "predict truncated image" "trunc.png" sh -c "head -c 40 \$(ls tests/data/datasets/folder/*/*.png | head -n 1) > $TMP/trunc.png; \"$TTA\" predict --model $M $TMP/trunc.png"
expect_fail "eval json not writable" "cannot create" "$TTA" eval --model $M --data "fashion-mnist:test[0:2]" --policy flip --json /proc/nope/x.json

expect_fail "std of zero" "standard deviation of 0" "$TTA" eval --model $M --data "$DATA" --std 0
expect_fail "bad layout" "expected NCHW or NHWC" "$TTA" eval --model $M --data "$DATA" --layout CHW
expect_fail "layout that does not fit the model" "dim 1 must be 3, got shape \[2,32,32,3\]" "$TTA" eval --model $M --data "$DATA" --policy flip --layout NHWC
expect_fail "bad input size" "expected HxW" "$TTA" eval --model $M --data "$DATA" --input-size 32
# a preprocessing override changes the model input: mean 255 makes every pixel <= 0
"$TTA" eval --model $M --data "$DATA" --policy "none=identity" --mean 0.5 --json "$TMP/m.json" > /dev/null 2>&1
a1=$(grep '"name": "none"' "$TMP/a.json" | sed -E 's/.*"nll": ([0-9.]+).*/\1/')
a2=$(grep '"name": "none"' "$TMP/m.json" | sed -E 's/.*"nll": ([0-9.]+).*/\1/')
[ -n "$a2" ] && [ "$a1" != "$a2" ] && ok || bad "--mean changes the model input (NLL $a1 vs $a2)"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
