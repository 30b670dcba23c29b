#!/bin/sh
# test_frontier.sh - `tta frontier` end to end on two small models (tests/models/resnet_tiny and
# mobilenetv2_tiny) and 200 + 200 Fashion-MNIST images: the cost accounting (a TTA point costs
# its passes times the model's time and multiply-adds, an ensemble the sum of its members'), the
# Pareto marks against the points' own figures, the verdict lines, the SVG plot (well-formed XML
# with a point per row) and bad input.
#
# Usage: sh tests/cli/test_frontier.sh [path/to/tta]. Ends with "N passed, N failed, N skipped".
TTA=${1:-build/tta}
M1=tests/models/resnet_tiny_op13/model.onnx
M2=tests/models/mobilenetv2_tiny_op13/model.onnx
VAL="fashion-mnist:val[0:200]"
TEST="fashion-mnist:test[0:200]"
POOL="hflip; shift(2, 0, wrap); shift(-2, 0, wrap); rotate(10)"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0; SKIP=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }

if [ ! -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] && ! ls /usr/share/*/fashion* > /dev/null 2>&1; then
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi

if "$TTA" frontier --model $M1 --model $M2 --val "$VAL" --test "$TEST" --budgets 1,2,3 --pool "$POOL" \
        --threads 1 --json "$TMP/f.json" --plot "$TMP/f.svg" > "$TMP/f.out" 2> "$TMP/f.err"; then
    ok
    # cost accounting and Pareto marks, checked from the JSON by an independent reading (awk)
    awk '
        /"ms_per_image": .*"multiply_adds": .*}[,]?$/ && !/"kind"/ {
            n = split($0, a, /[:,}]/); name = ""; one_ms = ""; one_ma = ""
            for (i = 1; i <= n; i++) {
                if (a[i] ~ /"name"/) name = a[i + 1]
                if (a[i] ~ /"ms_per_image"/) one_ms = a[i + 1] + 0
                if (a[i] ~ /"multiply_adds"/) one_ma = a[i + 1] + 0
            }
            gsub(/[" ]/, "", name); mms[name] = one_ms; mma[name] = one_ma; models++
        }
        /"kind": / {
            line = $0; k++
            kind[k] = line; sub(/.*"kind": "/, "", kind[k]); sub(/".*/, "", kind[k])
            lab[k] = line; sub(/.*"label": "/, "", lab[k]); sub(/".*/, "", lab[k])
            v = line; sub(/.*"passes": /, "", v); passes[k] = v + 0
            v = line; sub(/.*"ms_per_image": /, "", v); ms[k] = v + 0
            v = line; sub(/.*"multiply_adds": /, "", v); ma[k] = v + 0
            v = line; sub(/.*"test_accuracy": /, "", v); acc[k] = v + 0
            par[k] = line ~ /"pareto": true/
        }
        END {
            bad = 0
            for (i = 1; i <= k; i++) {
                if (kind[i] == "ensemble") {
                    want_ms = 0; want_ma = 0; rest = lab[i]; sub(/^ensemble /, "", rest)
                    m = split(rest, parts, / \+ /)
                    for (j = 1; j <= m; j++) { want_ms += mms[parts[j]]; want_ma += mma[parts[j]] }
                    if (m != passes[i]) { print "ensemble members " m " != passes " passes[i]; bad++ }
                } else {
                    base = lab[i]; sub(/ \+ TTA.*/, "", base)
                    want_ms = passes[i] * mms[base]; want_ma = passes[i] * mma[base]
                }
                if (want_ms <= 0 || (ms[i] - want_ms) / want_ms > 1e-4 || (want_ms - ms[i]) / want_ms > 1e-4) {
                    print "cost of " lab[i] ": " ms[i] " ms, want " want_ms; bad++ }
                if (want_ma <= 0 || (ma[i] - want_ma) / want_ma > 1e-4 || (want_ma - ma[i]) / want_ma > 1e-4) {
                    print "multiply-adds of " lab[i] ": " ma[i] ", want " want_ma; bad++ }
                dom = 0
                for (j = 1; j <= k; j++)
                    if (j != i && ms[j] <= ms[i] && acc[j] >= acc[i] && (ms[j] < ms[i] || acc[j] > acc[i])) dom = 1
                if (par[i] != !dom) { print "pareto mark of " lab[i] ": " par[i]; bad++ }
            }
            if (models != 2) { print "models in json: " models; bad++ }
            if (k < 4) { print "points: " k; bad++ }
            print "points " k " bad " bad
        }' "$TMP/f.json" > "$TMP/check.txt"
    grep -q "bad 0$" "$TMP/check.txt" && ok || bad "json accounting: $(head -c 600 "$TMP/check.txt")"
    grep -q "^ensemble *2 " "$TMP/f.out" && ok || bad "ensemble row"
    [ "$(grep -c -- '    -> ' "$TMP/f.out")" = 2 ] || grep -q "no policy better than the model alone" "$TMP/f.out" && ok ||
        bad "a verdict per model: $(grep -c -- '    -> ' "$TMP/f.out")"
    grep -q "^smaller model + TTA against a larger model alone" "$TMP/f.out" && ok || bad "smaller-model section"
    # the plot: well-formed, a mark per point
    if command -v xmllint > /dev/null 2>&1; then
        xmllint --noout "$TMP/f.svg" 2> "$TMP/x.err" && ok || bad "svg is not well-formed: $(head -c 300 "$TMP/x.err")"
    else
        SKIP=$((SKIP + 1))
    fi
    marks=$(grep -c '<g><title>' "$TMP/f.svg")
    pts=$(grep -c '"kind": ' "$TMP/f.json")
    [ "$marks" = "$pts" ] && ok || bad "svg marks $marks, points $pts"
    head -c 5 "$TMP/f.svg" | grep -q '<svg' && ok || bad "svg header"
else
    bad "frontier runs: $(tail -c 400 "$TMP/f.err")"
fi

# budgets without 1: the model alone is still a point (every verdict compares against it)
if "$TTA" frontier --model $M1 --val "$VAL" --test "$TEST" --budgets 2,3 --pool "$POOL" --threads 1 > "$TMP/g.out" 2> "$TMP/g.err"; then
    grep -q "^model *1 " "$TMP/g.out" && ok || bad "budgets 2,3: no model-alone row"
else
    bad "budgets 2,3: $(tail -c 300 "$TMP/g.err")"
fi

# bad input: clear errors, exit 2 for usage, nothing left behind
"$TTA" frontier --model $M1 --val "$VAL" --test "$TEST" --budgets 4,2 > /dev/null 2> "$TMP/e1" ; rc=$?
[ $rc = 2 ] && grep -q "budgets '4,2'" "$TMP/e1" && ok || bad "decreasing budgets: exit $rc $(head -c 200 "$TMP/e1")"
"$TTA" frontier --val "$VAL" --test "$TEST" > /dev/null 2> "$TMP/e2"; rc=$?
[ $rc = 2 ] && grep -q "at least one --model" "$TMP/e2" && ok || bad "no model: exit $rc"
"$TTA" frontier --model "$TMP/none.onnx" --val "$VAL" --test "$TEST" --json "$TMP/n.json" > /dev/null 2> "$TMP/e3"; rc=$?
[ $rc = 1 ] && grep -q "none.onnx" "$TMP/e3" && [ ! -e "$TMP/n.json" ] && ok || bad "missing model: exit $rc $(head -c 200 "$TMP/e3")"
"$TTA" frontier --model $M1 --val "$VAL" --test "$TEST" --pool "bogus(1)" > /dev/null 2> "$TMP/e4"; rc=$?
[ $rc != 0 ] && grep -qi "bogus" "$TMP/e4" && ok || bad "bad pool: exit $rc $(head -c 200 "$TMP/e4")"

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
