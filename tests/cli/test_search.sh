#!/bin/sh
# test_search.sh - end-to-end tests of `tta search` on a whole-model test network
# (tests/models/resnet_tiny_op13) with a small pool: the JSON keys and one entry per budget, the
# budget and the identity discipline (budget 1 is the identity, validation accuracy never falls
# as the budget grows), the policy file read back by `tta eval` with the same validation
# accuracy, the prediction cache (reused, stale for another model, rebuilt when truncated),
# weights in policy files ("view @ W") used by eval's merge, the --bench-subset timing, and bad
# flags. Usage: sh tests/cli/test_search.sh [path/to/tta]. Ends with "N passed, N failed".

TTA=${1:-build/tta}
M=tests/models/resnet_tiny_op13/model.onnx
M2=tests/models/resnet_tiny_op17/model.onnx
VAL="fashion-mnist:val[0:200]"
TEST="fashion-mnist:test[0:200]"
POOL="hflip; shift(2, 0, wrap); shift(-2, 0, wrap); rotate(10); hflip > shift(2, 0, wrap)"
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

# json_field FILE BUDGET KEY: the value of KEY in the pareto entry of that budget
json_field() {
    grep "\"budget\": $2, \"policy\"" "$1" | sed -E "s/.*\"$3\": (\[[^]]*\]|\"[^\"]*\"|[^,}]*).*/\1/"
}

# --honest-repeats 0: the best policy on validation is written whatever its estimate (the
# honest estimate has its own run below)
if ! "$TTA" search --model $M --val "$VAL" --test "$TEST" --budget 3 --pool "$POOL" --cache "$TMP/cache.bin" \
        --honest-repeats 0 -o "$TMP/p.txt" --json "$TMP/a.json" --threads 1 > "$TMP/a.txt" 2> "$TMP/a.err"; then
    bad "search runs: $(tail -c 400 "$TMP/a.err")"
else
    ok
    for key in '"budget"' '"policy"' '"val_accuracy"' '"test_accuracy"' '"test_gain_ci"' '"mcnemar_p"' \
               '"corrected"' '"broken"' '"cost"' '"families"' '"methods"' '"weights"' '"adaptive"' '"curve"'; do
        grep -q "$key" "$TMP/a.json" && ok || bad "json lacks $key"
    done
    [ "$(grep -c '"budget": [0-9]*, "policy"' "$TMP/a.json")" = 3 ] && ok || bad "one pareto entry per budget"
    # budget 1 is the identity alone, with no gain
    [ "$(json_field "$TMP/a.json" 1 policy)" = '"identity"' ] && ok || bad "budget 1 is the identity: $(json_field "$TMP/a.json" 1 policy)"
    [ "$(json_field "$TMP/a.json" 1 mcnemar_p)" = 1 ] && ok || bad "identity McNemar p = 1"
    [ "$(json_field "$TMP/a.json" 1 test_gain_ci)" = "[0.000000, 0.000000]" ] && ok || bad "identity CI [0, 0]"
    # views never exceed the budget; validation accuracy never falls as the budget grows
    v1=$(json_field "$TMP/a.json" 1 val_accuracy); v2=$(json_field "$TMP/a.json" 2 val_accuracy)
    v3=$(json_field "$TMP/a.json" 3 val_accuracy)
    awk -v a="$v1" -v b="$v2" -v c="$v3" 'BEGIN { exit !(a <= b && b <= c) }' && ok || bad "val accuracy falls: $v1 $v2 $v3"
    for b in 1 2 3; do
        nv=$(json_field "$TMP/a.json" $b views)
        [ -n "$nv" ] && [ "$nv" -le $b ] && ok || bad "budget $b has $nv views"
    done
    ci=$(json_field "$TMP/a.json" 3 test_gain_ci)
    echo "$ci" | grep -Eq '^\[-?[0-9.]+, -?[0-9.]+\]$' && ok || bad "CI format: $ci"
    grep -q "^step 1: each family alone" "$TMP/a.txt" && ok || bad "family tables"
    grep -q "^  shift x" "$TMP/a.txt" && ok || bad "shift x family"
    grep -q "^best policy for each budget" "$TMP/a.txt" && ok || bad "pareto table"
    grep -q "^adaptive TTA" "$TMP/a.txt" || grep -q "identity alone is the best" "$TMP/a.txt" && ok || bad "adaptive section"
    grep -q "5 to run" "$TMP/a.err" || grep -q "6 to run" "$TMP/a.err" && ok || bad "first run runs the model: $(head -c 300 "$TMP/a.err")"
    # the policy file: read by eval, which scores it as the search did on validation
    if "$TTA" eval --model $M --data "$VAL" --policy "$TMP/p.txt" --json "$TMP/e.json" --threads 1 > /dev/null 2> "$TMP/e.err"; then
        ok
        ea=$(grep '"kind": "policy"' "$TMP/e.json" | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/')
        [ -n "$ea" ] && [ "$ea" = "$v3" ] && ok || bad "eval of the policy file: $ea, search said $v3"
    else
        bad "eval reads the policy file: $(head -c 300 "$TMP/e.err")"
    fi
    "$TTA" predict --model $M --policy "$TMP/p.txt" tests/data/datasets/folder/ant/10.png > /dev/null 2>&1 && ok || bad "predict reads the policy file"
fi

# the honest estimate (repeated two-fold selection on validation): a row per budget in the text
# and the JSON, the identity's row all zero, and the budget written is the largest one whose
# estimate is supported (the identity when none is)
if "$TTA" search --model $M --val "$VAL" --test "$TEST" --budget 3 --pool "$POOL" --cache "$TMP/cache.bin" \
        --honest-repeats 3 -o "$TMP/h.txt" --json "$TMP/h.json" --threads 1 > "$TMP/h.out" 2> "$TMP/h.err"; then
    ok
    grep -q "^what the search will deliver, from validation alone: 15 searches" "$TMP/h.out" && ok || bad "honest table"
    rows=$(grep -o '{"budget": [0-9]*, "val_gain"' "$TMP/h.json" | wc -l)
    [ "$rows" = 3 ] && ok || bad "honest rows in json: $rows"
    grep -q '"budget": 1, "val_gain": 0.000000, "fold_gain": 0.000000, "held_out_gain": 0.000000' "$TMP/h.json" && ok ||
        bad "identity row: $(grep -o '"honest".\{0,200\}' "$TMP/h.json")"
    # the expected budget from the supported flags
    want=1
    for b in 2 3; do
        grep -q "{\"budget\": $b, \"val_gain\": [^}]*\"supported\": true" "$TMP/h.json" && want=$b
    done
    got=$(sed -nE 's/.*"chosen": \{"budget": ([0-9]+).*/\1/p' "$TMP/h.json")
    [ "$got" = "$want" ] && ok || bad "chosen budget $got, supported says $want"
    nviews=$(grep -vc '^#' "$TMP/h.txt")
    [ "$nviews" -le "$want" ] && ok || bad "policy file has $nviews views for budget $want"
    grep -q "^# honest estimate (validation only, 15 folds)" "$TMP/h.txt" && ok || bad "policy file notes the estimate"
else
    bad "honest search runs: $(tail -c 400 "$TMP/h.err")"
fi
expect_fail "bad --honest-repeats" "honest-repeats" "$TTA" search --model $M --val "$VAL" --test "$TEST" --budget 2 \
    --honest-repeats 99 -o "$TMP/x.txt"

# a second search (another objective and budget) reads every prediction from the cache
if "$TTA" search --model $M --val "$VAL" --test "$TEST" --budget 2 --objective calibrated-nll --pool "$POOL" \
        --cache "$TMP/cache.bin" -o "$TMP/p2.txt" --json "$TMP/b.json" --threads 1 > "$TMP/b.txt" 2> "$TMP/b.err"; then
    [ "$(grep -c '6 from the cache, 0 to run' "$TMP/b.err")" = 2 ] && ok || bad "cache not used: $(head -c 300 "$TMP/b.err")"
    grep -q '"objective": "calibrated-nll"' "$TMP/b.json" && ok || bad "objective in json"
    grep -q '"temperature"' "$TMP/b.json" && ok || bad "temperature in json"
else
    bad "search from the cache: $(tail -c 300 "$TMP/b.err")"
fi
# another model: the cache is stale and rebuilt
"$TTA" search --model $M2 --val "$VAL" --test "$TEST" --budget 1 --pool "hflip" --cache "$TMP/cache.bin" \
    -o "$TMP/p3.txt" --threads 1 > /dev/null 2> "$TMP/c.err" && grep -q "made for another model" "$TMP/c.err" && ok ||
    bad "stale cache: $(head -c 300 "$TMP/c.err")"
# a truncated cache: a warning naming it, then rebuilt and usable
head -c 1000 "$TMP/cache.bin" > "$TMP/cut.bin"
if "$TTA" search --model $M2 --val "$VAL" --test "$TEST" --budget 1 --pool "hflip" --cache "$TMP/cut.bin" \
        -o "$TMP/p4.txt" --threads 1 > /dev/null 2> "$TMP/d.err"; then
    grep -q "cut.bin: truncated.*rebuilding" "$TMP/d.err" && ok || bad "truncated cache warning: $(head -c 300 "$TMP/d.err")"
    "$TTA" search --model $M2 --val "$VAL" --test "$TEST" --budget 1 --pool "hflip" --cache "$TMP/cut.bin" \
        -o "$TMP/p4.txt" --threads 1 > /dev/null 2> "$TMP/d2.err"
    [ "$(grep -c '2 from the cache, 0 to run' "$TMP/d2.err")" = 2 ] && ok || bad "rebuilt cache: $(head -c 300 "$TMP/d2.err")"
else
    bad "search with a truncated cache: $(tail -c 300 "$TMP/d.err")"
fi

# weights in policy files: the identity at weight 0 leaves hflip alone
printf 'identity @ 0\nhflip @ 2.5\n' > "$TMP/w.txt"
if "$TTA" eval --model $M --data "$TEST" --policy "$TMP/w.txt" --policy "hflip; identity @ 1" --json "$TMP/w.json" \
        --threads 1 > /dev/null 2> "$TMP/w.err"; then
    wa=$(grep '"kind": "policy"' "$TMP/w.json" | head -n 1 | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/')
    ha=$(grep '"view": "hflip"' "$TMP/w.json" | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/')
    [ -n "$wa" ] && [ "$wa" = "$ha" ] && ok || bad "weighted merge: $wa, hflip alone $ha"
else
    bad "eval of a weighted policy: $(head -c 300 "$TMP/w.err")"
fi

# the subset-search timing (not under the sanitizers, which make it ~40x slower)
case "$TTA" in
*asan*) ;;
*) "$TTA" search --bench-subset > "$TMP/bench.txt" 2>&1 && grep -q "any of at most 4 views among 24 *12950" "$TMP/bench.txt" && ok ||
    bad "bench-subset: $(head -c 300 "$TMP/bench.txt")" ;;
esac
"$TTA" search --help | grep -q "usage: tta search" && ok || bad "help"

# bad input
expect_fail "search without budget" "required" "$TTA" search --model $M --val "$VAL" --test "$TEST" -o "$TMP/x.txt"
expect_fail "search budget 0" "give 1 to 16" "$TTA" search --model $M --val "$VAL" --test "$TEST" --budget 0 -o "$TMP/x.txt"
expect_fail "search budget 17" "give 1 to 16" "$TTA" search --model $M --val "$VAL" --test "$TEST" --budget 17 -o "$TMP/x.txt"
expect_fail "search bad objective" "unknown objective 'top5'" "$TTA" search --model $M --val "$VAL" --test "$TEST" --budget 2 --objective top5 -o "$TMP/x.txt"
expect_fail "search unknown flag" "unknown or incomplete option '--frobnicate'" "$TTA" search --frobnicate
expect_fail "search bad pool" "line 1, column" "$TTA" search --model $M --val "$VAL" --test "$TEST" --budget 2 --pool "hflip > frob(2)" -o "$TMP/x.txt"
expect_fail "search bad data" "unknown data set 'nope'" "$TTA" search --model $M --val nope:val --test "$TEST" --budget 2 --pool hflip -o "$TMP/x.txt"
expect_fail "search missing model" "nothere.onnx: cannot open" "$TTA" search --model "$TMP/nothere.onnx" --val "$VAL" --test "$TEST" --budget 2 -o "$TMP/x.txt"
expect_fail "search policy not writable" "cannot create" "$TTA" search --model $M --val "fashion-mnist:val[0:20]" --test "fashion-mnist:test[0:20]" --budget 2 --pool hflip -o /proc/nope/p.txt --threads 1
expect_fail "search json not writable" "cannot create" "$TTA" search --model $M --val "fashion-mnist:val[0:20]" --test "fashion-mnist:test[0:20]" --budget 2 --pool hflip -o "$TMP/x.txt" --json /proc/nope/x.json --threads 1

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
