#!/bin/sh
# test_report.sh - `--report FILE.html` of every command that writes one, on small runs of the
# shipped models and data: the file is written whole (no PATH.part left), parses as XML (the
# whole page, and each inline SVG alone, with xmllint), holds each expected plot (<svg
# class="plot" id="plot-...">) and table, references nothing outside itself (no http(s)://
# but the SVG namespace, every src and href a data: URI or a #fragment), and shows the same
# figures as the command's JSON; a report into a missing folder is refused before the run
# (exit 1, a message naming the file, nothing written). The same reports open in a headless
# browser in tests/report_browser.sh.
#
# Usage: sh tests/cli/test_report.sh [path/to/tta]. Ends with "N passed, N failed, N skipped".
TTA=${1:-build/tta}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0; SKIP=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }

# check_report NAME FILE PLOT_ID...: whole, well-formed, self-contained, every plot present
check_report() {
    name=$1; f=$2; shift 2
    if [ ! -s "$f" ]; then bad "$name: no report"; return; fi
    ok
    ls "$f".part > /dev/null 2>&1 && bad "$name: $f.part left behind" || ok
    if command -v xmllint > /dev/null 2>&1; then
        xmllint --noout "$f" 2> "$TMP/x.err" && ok || bad "$name: not well-formed XML: $(head -c 300 "$TMP/x.err")"
        # each inline SVG alone (each starts a line with <svg and ends one with </svg>)
        rm -f "$TMP"/svg-*.svg
        awk -v dir="$TMP" '/^<svg/ { n++; out = dir "/svg-" n ".svg" } out { print > out } /<\/svg>$/ { out = "" }' "$f"
        nsvg=0; badsvg=0
        for s in "$TMP"/svg-*.svg; do
            [ -f "$s" ] || continue
            nsvg=$((nsvg + 1))
            xmllint --noout "$s" 2> /dev/null || badsvg=$((badsvg + 1))
        done
        [ "$nsvg" -ge "$#" ] && [ "$badsvg" = 0 ] && ok || bad "$name: $nsvg inline SVGs, $badsvg not well-formed"
    else
        SKIP=$((SKIP + 2))
    fi
    for id in "$@"; do
        grep -q "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" id=\"$id\"" "$f" && ok || bad "$name: no plot $id"
    done
    out=$(grep -o 'https\?://[^" ]*' "$f" | grep -v '^http://www.w3.org/2000/svg$' | head -n 3)
    [ -z "$out" ] && ok || bad "$name: references out: $out"
    out=$(grep -oE '(src|href)="[^"]*' "$f" | grep -vE '^(src|href)="(data:|#)' | head -n 3)
    [ -z "$out" ] && ok || bad "$name: loads a file: $out"
    grep -q '</html>$' "$f" && ok || bad "$name: not closed"
}

# json_num FILE KEY_PATTERN: the first number after "KEY": on the first line matching the pattern
json_field() { grep -E "$2" "$1" | head -n 1 | sed -E "s/.*\"$3\": (-?[0-9.]+).*/\1/"; }

for c in eval search frontier "detect eval" "detect search" "segment eval" "segment search"; do
    # shellcheck disable=SC2086
    "$TTA" $c --help | grep -q -- "--report" && ok || bad "$c --help lacks --report"
done

if [ ! -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
    SKIP=$((SKIP + 1))
    # ---- tta search (--honest-repeats 0: the whole budget is kept, so adaptive TTA has a curve)
POOL="hflip; shift(2, 0, wrap); shift(-2, 0, wrap); shift(0, 2, wrap); rotate(10); hflip > shift(2, 0, wrap)"
if "$TTA" search --model $M --val "fashion-mnist:val[0:300]" --test "fashion-mnist:test[0:300]" --budget 3 --pool "$POOL" \
        --boot 200 --honest-repeats 0 -o "$TMP/s.pol" --json "$TMP/s.json" --report "$TMP/s.html" > "$TMP/s.out" 2> "$TMP/s.err"; then
    ok
    check_report search "$TMP/s.html" plot-budget-gain plot-budget-accuracy plot-adaptive plot-reliability
    for b in 1 2 3; do
        line=$(grep "{\"budget\": $b, \"policy\"" "$TMP/s.json")
        acc=$(printf '%.4f' "$(echo "$line" | sed -E 's/.*"test_accuracy": ([0-9.]+).*/\1/')")
        gain=$(printf '%+.4f' "$(echo "$line" | sed -E 's/.*"test_gain": (-?[0-9.]+).*/\1/')")
        grep -q "<tr><td>$b[^<]*</td>.*<td>$acc</td><td>[0-9.]*</td><td>$gain</td>" "$TMP/s.html" && ok ||
            bad "search: budget $b row lacks test accuracy $acc, gain $gain"
    done
else
    bad "search --report runs: $(tail -c 300 "$TMP/s.err")"
fi
"$TTA" search --model $M --val "fashion-mnist:val[0:50]" --test "fashion-mnist:test[0:50]" --budget 2 --pool hflip \
    -o "$TMP/never.pol" --report "$TMP/no/r.html" > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "r.html: cannot create" "$TMP/err" && [ ! -e "$TMP/never.pol" ] && ok ||
    bad "search: report into a missing folder: exit $rc: $(head -c 300 "$TMP/err")"

# ---- tta frontier (the --plot SVG and the report's plot are the same picture)
if "$TTA" frontier --model $M --model models/fashion_small.onnx --val "fashion-mnist:val[0:200]" \
        --test "fashion-mnist:test[0:200]" --budgets 1,2 --pool "hflip; shift(2, 0, wrap)" --threads 1 \
        --json "$TMP/f.json" --plot "$TMP/f.svg" --report "$TMP/f.html" > "$TMP/f.out" 2> "$TMP/f.err"; then
    ok
    check_report frontier "$TMP/f.html" plot-frontier
    n=$(grep -c '"kind": ' "$TMP/f.json")
    [ "$(grep -c '<tr><td class="t">\(model\|TTA\|ensemble\)</td>' "$TMP/f.html")" = "$n" ] && ok || bad "frontier: not $n table rows"
    grep '"kind": ' "$TMP/f.json" | sed -E 's/.*"test_accuracy": ([0-9.]+).*/\1/' | while read -r a; do
        grep -q "<td>$(printf '%.4f' "$a")</td>" "$TMP/f.html" || echo "missing $a"
    done > "$TMP/f.miss"
    [ ! -s "$TMP/f.miss" ] && ok || bad "frontier: test accuracies not in the table: $(head -c 200 "$TMP/f.miss")"
    # the standalone plot is the report's picture
    sed -n '/^<svg/,/<\/svg>$/p' "$TMP/f.html" > "$TMP/f-inline.svg"
    cmp -s "$TMP/f.svg" "$TMP/f-inline.svg" && ok || bad "frontier: --plot differs from the report's plot"
    grep -q "^  .*: TTA at [0-9]* passes" "$TMP/f.out" && grep -q "TTA at [0-9]* passes" "$TMP/f.html" && ok ||
        bad "frontier: verdicts not in the report"
else
    bad "frontier --report runs: $(tail -c 300 "$TMP/f.err")"
fi

echo "$PASS passed, $FAIL failed, $SKIP skipped"
    exit 0
fi

# ---- tta eval
M=models/fashion_cnn.onnx
if "$TTA" eval --model $M --data "fashion-mnist:test[0:300]" --policy "none=identity" --policy flip \
        --policy "shifts=shift(2, 0, wrap); shift(-2, 0, wrap); shift(0, 2, wrap)" --random 2 \
        --json "$TMP/e.json" --report "$TMP/e.html" > "$TMP/e.out" 2> "$TMP/e.err"; then
    ok
    check_report eval "$TMP/e.html" plot-cumulative plot-views plot-reliability
    grep -q 'id="table-policies"' "$TMP/e.html" && ok || bad "eval: no policy table"
    grep -q "^report written to $TMP/e.html" "$TMP/e.out" && ok || bad "eval: no 'report written' line"
    # the same figures as the JSON: every policy's accuracy and ECE in the table
    for p in none flip shifts; do
        acc=$(printf '%.4f' "$(json_field "$TMP/e.json" "\"name\": \"$p\"" accuracy)")
        ece=$(printf '%.4f' "$(json_field "$TMP/e.json" "\"name\": \"$p\"" ece)")
        grep -q "<td class=\"t\">$p</td><td>[0-9]*</td><td>$acc</td><td>[0-9.]*</td><td>$ece</td>" "$TMP/e.html" && ok ||
            bad "eval: table row of $p lacks accuracy $acc, ECE $ece"
    done
    # the diagram's one-pass ECE is the identity row's
    ece=$(printf '%.4f' "$(json_field "$TMP/e.json" '"name": "none"' ece)")
    grep -q "one pass (identity) (ECE $ece)" "$TMP/e.html" && ok || bad "eval: reliability legend lacks ECE $ece"
    # corrected images shown with their views: as many strips as the report says (at most 8)
    corr=$(grep -o '<div class="strip example"><h3>image [0-9]* (corrected)' "$TMP/e.html" | wc -l)
    want=$(sed -nE 's/.* corrected ([0-9]+) images?;.*/\1/p' "$TMP/e.html" | head -n 1)
    [ -n "$want" ] && [ "$corr" = "$([ "$want" -gt 8 ] && echo 8 || echo "$want")" ] && ok ||
        bad "eval: $corr corrected strips, report says ${want:-none}"
else
    bad "eval --report runs: $(tail -c 300 "$TMP/e.err")"
fi
"$TTA" eval --model $M --data "fashion-mnist:test[0:20]" --report "$TMP/no/such/dir/r.html" > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "r.html: cannot create" "$TMP/err" && ! grep -q "images, " "$TMP/err" && [ ! -e "$TMP/no" ] && ok ||
    bad "eval: report into a missing folder: exit $rc: $(head -c 300 "$TMP/err")"

# ---- tta search (--honest-repeats 0: the whole budget is kept, so adaptive TTA has a curve)
POOL="hflip; shift(2, 0, wrap); shift(-2, 0, wrap); shift(0, 2, wrap); rotate(10); hflip > shift(2, 0, wrap)"
if "$TTA" search --model $M --val "fashion-mnist:val[0:300]" --test "fashion-mnist:test[0:300]" --budget 3 --pool "$POOL" \
        --boot 200 --honest-repeats 0 -o "$TMP/s.pol" --json "$TMP/s.json" --report "$TMP/s.html" > "$TMP/s.out" 2> "$TMP/s.err"; then
    ok
    check_report search "$TMP/s.html" plot-budget-gain plot-budget-accuracy plot-adaptive plot-reliability
    for b in 1 2 3; do
        line=$(grep "{\"budget\": $b, \"policy\"" "$TMP/s.json")
        acc=$(printf '%.4f' "$(echo "$line" | sed -E 's/.*"test_accuracy": ([0-9.]+).*/\1/')")
        gain=$(printf '%+.4f' "$(echo "$line" | sed -E 's/.*"test_gain": (-?[0-9.]+).*/\1/')")
        grep -q "<tr><td>$b[^<]*</td>.*<td>$acc</td><td>[0-9.]*</td><td>$gain</td>" "$TMP/s.html" && ok ||
            bad "search: budget $b row lacks test accuracy $acc, gain $gain"
    done
else
    bad "search --report runs: $(tail -c 300 "$TMP/s.err")"
fi
"$TTA" search --model $M --val "fashion-mnist:val[0:50]" --test "fashion-mnist:test[0:50]" --budget 2 --pool hflip \
    -o "$TMP/never.pol" --report "$TMP/no/r.html" > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "r.html: cannot create" "$TMP/err" && [ ! -e "$TMP/never.pol" ] && ok ||
    bad "search: report into a missing folder: exit $rc: $(head -c 300 "$TMP/err")"

# ---- tta frontier (the --plot SVG and the report's plot are the same picture)
if "$TTA" frontier --model $M --model models/fashion_small.onnx --val "fashion-mnist:val[0:200]" \
        --test "fashion-mnist:test[0:200]" --budgets 1,2 --pool "hflip; shift(2, 0, wrap)" --threads 1 \
        --json "$TMP/f.json" --plot "$TMP/f.svg" --report "$TMP/f.html" > "$TMP/f.out" 2> "$TMP/f.err"; then
    ok
    check_report frontier "$TMP/f.html" plot-frontier
    n=$(grep -c '"kind": ' "$TMP/f.json")
    [ "$(grep -c '<tr><td class="t">\(model\|TTA\|ensemble\)</td>' "$TMP/f.html")" = "$n" ] && ok || bad "frontier: not $n table rows"
    grep '"kind": ' "$TMP/f.json" | sed -E 's/.*"test_accuracy": ([0-9.]+).*/\1/' | while read -r a; do
        grep -q "<td>$(printf '%.4f' "$a")</td>" "$TMP/f.html" || echo "missing $a"
    done > "$TMP/f.miss"
    [ ! -s "$TMP/f.miss" ] && ok || bad "frontier: test accuracies not in the table: $(head -c 200 "$TMP/f.miss")"
    # the standalone plot is the report's picture
    sed -n '/^<svg/,/<\/svg>$/p' "$TMP/f.html" > "$TMP/f-inline.svg"
    cmp -s "$TMP/f.svg" "$TMP/f-inline.svg" && ok || bad "frontier: --plot differs from the report's plot"
    grep -q "^  .*: TTA at [0-9]* passes" "$TMP/f.out" && grep -q "TTA at [0-9]* passes" "$TMP/f.html" && ok ||
        bad "frontier: verdicts not in the report"
else
    bad "frontier --report runs: $(tail -c 300 "$TMP/f.err")"
fi

# ---- detection and segmentation, on mosaics made here
"$TTA" data mosaic --split test --seed 3 --count 16 -q -o "$TMP/test" > /dev/null 2>&1 || bad "mosaic test"
"$TTA" data mosaic --split val --seed 2 --count 12 -q -o "$TMP/val" > /dev/null 2>&1 || bad "mosaic val"
D=models/detector.onnx
if "$TTA" detect eval --model $D --data "coco:$TMP/test" --policy "none=identity" --policy "flip=hflip" --boot 50 \
        --json "$TMP/de.json" --report "$TMP/de.html" > "$TMP/de.out" 2> "$TMP/de.err"; then
    ok
    check_report "detect eval" "$TMP/de.html" plot-detect-metric plot-detect-gain
    [ "$(grep -c '<svg xmlns="http://www.w3.org/2000/svg" class="detections"' "$TMP/de.html")" = 8 ] && ok ||
        bad "detect eval: not 4 images x 2 panels"
    grep -q '</title><rect x=.*stroke-width="2"/>' "$TMP/de.html" && grep -Eq '>[A-Za-z/ -]+ 0\.[0-9]{2} [12]/2</text>' "$TMP/de.html" &&
        ok || bad "detect eval: no labelled boxes with support k/2"
    ap=$(printf '%.4f' "$(json_field "$TMP/de.json" '"name": "flip"' map)")
    gain=$(printf '%+.4f' "$(json_field "$TMP/de.json" '"name": "flip"' gain)")
    grep -q "<td class=\"t\">flip</td><td>2</td><td class=\"t\">[^<]*</td><td>$ap</td>.*<td>$gain</td>" "$TMP/de.html" && ok ||
        bad "detect eval: flip row lacks AP $ap, gain $gain"
else
    bad "detect eval --report runs: $(tail -c 300 "$TMP/de.err")"
fi
if "$TTA" detect search --model $D --val "coco:$TMP/val" --test "coco:$TMP/test" --budget 2 --boot 50 --pool "hflip; vflip" \
        -o "$TMP/dp.txt" --json "$TMP/ds.json" --report "$TMP/ds.html" > "$TMP/ds.out" 2> "$TMP/ds.err"; then
    ok
    check_report "detect search" "$TMP/ds.html" plot-detect-step1 plot-detect-budget
    ap=$(printf '%.4f' "$(json_field "$TMP/ds.json" '"chosen"' test_map)")
    grep -q "<td class=\"t\">chosen policy</td>.*<td>$ap</td>" "$TMP/ds.html" && ok || bad "detect search: test AP $ap not in the table"
else
    bad "detect search --report runs: $(tail -c 300 "$TMP/ds.err")"
fi
S=models/segmenter.onnx
if "$TTA" segment eval --model $S --data "masks:$TMP/test" --policy "flip=hflip" --boot 50 \
        --json "$TMP/se.json" --report "$TMP/se.html" > "$TMP/se.out" 2> "$TMP/se.err"; then
    ok
    check_report "segment eval" "$TMP/se.html" plot-segment-metric plot-segment-gain plot-segment-uncertainty
    [ "$(grep -c '<div class="strip segmentation">' "$TMP/se.html")" = 4 ] && ok || bad "segment eval: not 4 image strips"
    [ "$(grep -c 'src="data:image/png;base64,' "$TMP/se.html")" = 20 ] && ok || bad "segment eval: not 5 pictures per image"
    miou=$(printf '%.4f' "$(json_field "$TMP/se.json" '"name": "flip"' miou)")
    grep -q "<td class=\"t\">flip</td><td>2</td><td class=\"t\">mean</td><td>$miou</td>" "$TMP/se.html" && ok ||
        bad "segment eval: flip row lacks mIoU $miou"
else
    bad "segment eval --report runs: $(tail -c 300 "$TMP/se.err")"
fi
if "$TTA" segment search --model $S --val "masks:$TMP/val" --test "masks:$TMP/test" --budget 2 --boot 50 --pool "hflip; vflip" \
        -o "$TMP/sp.txt" --json "$TMP/ss.json" --report "$TMP/ss.html" > "$TMP/ss.out" 2> "$TMP/ss.err"; then
    ok
    check_report "segment search" "$TMP/ss.html" plot-segment-step1 plot-segment-budget plot-segment-uncertainty
    miou=$(printf '%.4f' "$(json_field "$TMP/ss.json" '"chosen"' test_miou)")
    grep -q "<td class=\"t\">chosen policy</td>.*<td>$miou</td>" "$TMP/ss.html" && ok || bad "segment search: test mIoU $miou not in the table"
else
    bad "segment search --report runs: $(tail -c 300 "$TMP/ss.err")"
fi
"$TTA" segment eval --model $S --data "masks:$TMP/test" --report "$TMP/no/r.html" > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "r.html: cannot create" "$TMP/err" && ok || bad "segment eval: report into a missing folder: exit $rc"
"$TTA" detect eval --model $D --data "coco:$TMP/test" --report "$TMP/no/r.html" > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "r.html: cannot create" "$TMP/err" && ok || bad "detect eval: report into a missing folder: exit $rc"
ls "$TMP"/no > /dev/null 2>&1 && bad "a missing folder was created" || ok

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
