#!/bin/sh
# test_reference.sh - `tta eval` on the shipped classifier against figures computed
# independently in PyTorch (tests/data/reference_eval.txt, made by scripts/reference_eval.py
# from the training weights): for every policy, the accuracy on fashion-mnist:test[0:2000] must
# agree to one image and the NLL to 1e-3 relative. The views used are exact on uint8 images
# (flip, circular and zero-filled shifts), so both sides see the same pixels.
# Usage: sh tests/cli/test_reference.sh [path/to/tta]. Ends with "N passed, N failed".

TTA=${1:-build/tta}
REF=tests/data/reference_eval.txt
MODEL=models/fashion_cnn.onnx
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0
if [ ! -f "$REF" ] || [ ! -f "$MODEL" ]; then
    echo "FAIL reference file or shipped model missing"
    echo "0 passed, 1 failed"
    exit 1
fi
set --
while IFS='|' read -r name text acc nll; do
    case "$name" in '#'*|'') continue ;; esac
    set -- "$@" --policy "$name=$text"
done < "$REF"
if ! "$TTA" eval --model "$MODEL" --data "fashion-mnist:test[0:2000]" "$@" --json "$TMP/e.json" > "$TMP/out" 2> "$TMP/err"; then
    echo "FAIL eval: $(tail -c 300 "$TMP/err")"
    echo "0 passed, 1 failed"
    exit 1
fi
while IFS='|' read -r name text acc nll; do
    case "$name" in '#'*|'') continue ;; esac
    line=$(grep "\"name\": \"$name\", \"kind\": \"policy\"" "$TMP/e.json")
    got_acc=$(echo "$line" | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/')
    got_nll=$(echo "$line" | sed -E 's/.*"nll": ([0-9.]+).*/\1/')
    if awk -v a="$got_acc" -v b="$acc" -v c="$got_nll" -v d="$nll" \
        'BEGIN { ok = (a - b <= 0.00051 && b - a <= 0.00051) && (c - d <= 1e-3 * d + 1e-6 && d - c <= 1e-3 * d + 1e-6); exit !ok }'; then
        PASS=$((PASS + 1))
    else
        FAIL=$((FAIL + 1))
        echo "FAIL $name: tta accuracy $got_acc NLL $got_nll, PyTorch accuracy $acc NLL $nll"
    fi
done < "$REF"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
