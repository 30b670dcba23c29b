#!/bin/sh
# report_browser.sh - the HTML reports in a real browser: small runs of each command that writes
# one (on the shipped models and data), then tests/report_browser.py opens each in headless
# Chromium (the Debian package `chromium`, installed by `make test` through scripts/setup.sh),
# with the network off: no console error, warning or failed load, the page's own script ran,
# every expected plot rendered with a size and text, every picture decoded; and saves a
# full-page screenshot as build/report-KIND.png for a person to look at. Without Chromium (or
# Python) every check is counted as skipped, with the reason, never as passed.
#
# Usage: sh tests/report_browser.sh [path/to/tta]. Ends with "N passed, N failed, N skipped".
cd "$(dirname "$0")/.." || exit 1
TTA=${1:-build/tta}
OUT=build/report-test
mkdir -p "$OUT"
PASS=0; FAIL=0; SKIP=0
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# browse KIND PLOT_ID...: checks $OUT/KIND.html, screenshot build/report-KIND.png
browse() {
    kind=$1; shift
    if [ ! -s "$OUT/$kind.html" ]; then
        echo "FAIL $kind: no report to open"; FAIL=$((FAIL + 1)); return
    fi
    "$PY" tests/report_browser.py "$OUT/$kind.html" "build/report-$kind.png" "$@" > "$OUT/$kind.log" 2>&1
    rc=$?
    if [ $rc = 77 ]; then
        echo "$kind: $(cat "$OUT/$kind.log")"; SKIP=$((SKIP + 1)); return
    fi
    p=$(grep -c '^ok ' "$OUT/$kind.log"); f=$(grep -c '^FAIL ' "$OUT/$kind.log")
    PASS=$((PASS + p)); FAIL=$((FAIL + f))
    grep '^FAIL ' "$OUT/$kind.log" | sed "s/^FAIL /FAIL $kind: /"
    if [ $rc != 0 ] && [ "$f" = 0 ]; then
        echo "FAIL $kind: the browser check did not finish: $(tail -c 400 "$OUT/$kind.log")"; FAIL=$((FAIL + 1))
    fi
    echo "$kind: $p checks passed, $f failed; screenshot build/report-$kind.png"
}

# run KIND CMD...: makes $OUT/KIND.html with the command
run() {
    kind=$1; shift
    rm -f "$OUT/$kind.html"
    "$@" --report "$OUT/$kind.html" > "$OUT/$kind.out" 2>&1 ||
        { echo "FAIL $kind: the command failed: $(tail -c 300 "$OUT/$kind.out")"; FAIL=$((FAIL + 1)); }
}

if [ -z "$PY" ]; then
    echo "skipped: no python3 to drive the browser"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
if [ ! -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
    echo "skipped: no Fashion-MNIST (dataset-fashion-mnist)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi

run eval "$TTA" eval --model models/fashion_cnn.onnx --data "fashion-mnist:test[0:400]" --policy "none=identity" \
    --policy flip --policy "shifts=shift(2, 0, wrap); shift(-2, 0, wrap); shift(0, 2, wrap)" --policy seed --random 3
browse eval plot-cumulative plot-views plot-reliability

run search "$TTA" search --model models/fashion_cnn.onnx --val "fashion-mnist:val[0:400]" --test "fashion-mnist:test[0:400]" \
    --budget 4 --pool "hflip; shift(2, 0, wrap); shift(-2, 0, wrap); shift(0, 2, wrap); rotate(10); hflip > shift(2, 0, wrap)" \
    --boot 500 --honest-repeats 0 -o "$OUT/search.policy"
browse search plot-budget-gain plot-budget-accuracy plot-adaptive plot-reliability

run frontier "$TTA" frontier --model models/fashion_tiny.onnx --model models/fashion_small.onnx --model models/fashion_cnn.onnx \
    --val "fashion-mnist:val[0:300]" --test "fashion-mnist:test[0:300]" --budgets 1,2,3 \
    --pool "hflip; shift(2, 0, wrap); shift(-2, 0, wrap); rotate(10)"
browse frontier plot-frontier

"$TTA" data mosaic --split test --seed 3 --count 16 -q -o "$OUT/mosaic-test" > /dev/null 2>&1
"$TTA" data mosaic --split val --seed 2 --count 12 -q -o "$OUT/mosaic-val" > /dev/null 2>&1
run detect-eval "$TTA" detect eval --model models/detector.onnx --data "coco:$OUT/mosaic-test" --policy "flip=hflip" \
    --policy "wbf=hflip; resize(125%) # merge: wbf iou=0.7" --boot 100
browse detect-eval plot-detect-metric plot-detect-gain
run detect-search "$TTA" detect search --model models/detector.onnx --val "coco:$OUT/mosaic-val" \
    --test "coco:$OUT/mosaic-test" --budget 3 --boot 100 --pool "hflip; resize(125%); resize(75%); vflip" \
    -o "$OUT/detect.policy"
browse detect-search plot-detect-step1 plot-detect-budget
run segment-eval "$TTA" segment eval --model models/segmenter.onnx --data "masks:$OUT/mosaic-test" --policy "flip=hflip" \
    --policy "d4=hflip; vflip; rot90(1)" --boot 50
browse segment-eval plot-segment-metric plot-segment-gain plot-segment-uncertainty
run segment-search "$TTA" segment search --model models/segmenter.onnx --val "masks:$OUT/mosaic-val" \
    --test "masks:$OUT/mosaic-test" --budget 3 --boot 50 --pool "hflip; vflip; scale(1.15); brightness(1.2)" \
    -o "$OUT/segment.policy"
browse segment-search plot-segment-step1 plot-segment-budget plot-segment-uncertainty

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
