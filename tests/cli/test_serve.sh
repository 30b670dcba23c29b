#!/bin/sh
# test_serve.sh - end-to-end smoke test of `tta serve` on the shipped classifier, on loopback:
# start on a free port (--port 0, the port read from the start-up line), wait for /healthz,
# POST the images of tests/data/serve/ and check each predicted class against `tta predict`
# with the same policy, a JSON body with two base64 images, malformed bodies (truncated PNG,
# garbage, empty, over --max-body with and without Content-Length, multipart, bad JSON, bad
# option) answered 400/413/415 with JSON errors, wrong method and path, /v1/model, /metrics
# counting exactly those requests, concurrent requests all answered, a client sending a byte
# every half second cut at --read-timeout while other requests are answered, and SIGTERM with
# a request half-sent: it is answered, then the server exits 0 (under ASan: without leaks).
# Also: bad flags, and a second server on a taken port. Client: curl, and
# tests/cli/serve_client.py (python3 standard library) for what curl cannot do.
# Usage: sh tests/cli/test_serve.sh [path/to/tta]. Ends with "N passed, N failed, N skipped".

TTA=${1:-build/tta}
TMP=$(mktemp -d)
PID=""
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
PASS=0; FAIL=0; SKIP=0
M=models/fashion_cnn.onnx
POL="hflip; shift(2, 0, wrap); shift(0, 2, wrap)"
CLIENT=tests/cli/serve_client.py

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }

# start_server LOG ARGS...: starts tta serve in the background (PID), waits for its start-up line
# (up to 60 s: the ASan build is slow to start) and sets PORT. Returns 1 if it did not start.
start_server() {
    log=$1; shift
    "$TTA" serve --model $M --port 0 "$@" > "$log.out" 2> "$log.err" &
    PID=$!
    i=0
    while [ $i -lt 600 ]; do
        PORT=$(sed -nE 's|.* on http://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$log.out" 2>/dev/null)
        [ -n "$PORT" ] && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# req NAME WANT_CODE CURL_ARGS...: one request; the body goes to $TMP/body; checks the status
req() {
    name=$1; rwant=$2; shift 2
    code=$(curl -s -m "${CURL_MAX:-60}" -o "$TMP/body" -w '%{http_code}' "$@")
    if [ "$code" != "$rwant" ]; then bad "$name: status $code, want $rwant: $(head -c 300 "$TMP/body")"; return 1; fi
    ok
}

# json_error NAME: the last body is a JSON error object with a message
json_error() {
    grep -q '^{"error": {"code": [0-9]*, "message": ".*"}}$' "$TMP/body" && ok || bad "$1: not a JSON error: $(head -c 200 "$TMP/body")"
}

command -v curl > /dev/null 2>&1 || sh scripts/setup.sh curl > /dev/null 2>&1
PY=python3 # Debian's own when there is one: it starts faster than a version manager's shim
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
if ! command -v curl > /dev/null 2>&1 || ! command -v $PY > /dev/null 2>&1; then
    echo "curl or python3 missing: skipped"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi

# ---- flags
"$TTA" serve --help | grep -q "POST /v1/predict" && ok || bad "serve --help"
"$TTA" serve --model $M --policy flip --task frob > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "expected classify, detect or segment" "$TMP/err" && ok || bad "bad --task: exit $rc"
"$TTA" serve --model $M > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--policy are required" "$TMP/err" && ok || bad "no --policy: exit $rc"
"$TTA" serve --model $M --policy flip --max-batch 0 > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--max-batch: expected an integer from 1 to 256, got '0'" "$TMP/err" && ok || bad "--max-batch 0: exit $rc"
"$TTA" serve --model $M --policy flip --max-body lots > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && ok || bad "--max-body lots: exit $rc"
"$TTA" serve --model $M --policy flip --adaptive-cost 1.5 --task segment > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -ne 0 ] && ok || bad "--adaptive-cost with segment accepted"
"$TTA" serve --model models/nothing.onnx --policy flip > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q "nothing.onnx" "$TMP/err" && ok || bad "missing model: exit $rc"

# ---- start
if ! start_server "$TMP/s" --policy "$POL" --max-body 64K --max-batch 8 --max-wait-ms 20 --read-timeout 3; then
    bad "server did not start: $(cat "$TMP/s.err")"
    echo "$PASS passed, $FAIL failed, $SKIP skipped"
    exit 1
fi
ok
U=http://127.0.0.1:$PORT
req healthz 200 "$U/healthz" && grep -q '"status": "ok"' "$TMP/body" && ok || bad "healthz body"
req model 200 "$U/v1/model" && grep -q '"task": "classify", "policy": "identity\\nhflip' "$TMP/body" &&
    grep -q '"views": 4' "$TMP/body" && grep -q '"Ankle boot"' "$TMP/body" && ok || bad "/v1/model: $(cat "$TMP/body")"

# a second server on the same port: a clear error, exit 1
"$TTA" serve --model $M --policy flip --port "$PORT" > /dev/null 2> "$TMP/err2"; rc=$?
[ $rc -eq 1 ] && grep -q "cannot listen on 127.0.0.1 port $PORT" "$TMP/err2" && ok || bad "port taken: exit $rc: $(cat "$TMP/err2")"

# ---- predictions agree with `tta predict` (same policy, one process)
"$TTA" predict --model $M --policy "$POL" --top 1 tests/data/serve/*.png > "$TMP/predict.txt" 2>&1 || bad "tta predict"
n200=0
for f in tests/data/serve/*.png; do
    want=$(grep -A1 "^$f:" "$TMP/predict.txt" | sed -nE 's/^ +1\. (.*[^ ]) +[0-9.]+$/\1/p')
    if req "predict $f" 200 -H 'Content-Type: image/png' --data-binary "@$f" "$U/v1/predict"; then
        n200=$((n200 + 1))
        got=$(sed -nE 's/^\{"model": [^[]*"results": \[\{"class": [0-9]+, "label": "([^"]*)".*/\1/p' "$TMP/body")
        [ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "predict $f: server says '$got', tta predict '$want'"
    fi
done
cp "$TMP/body" "$TMP/one.json"
$PY - "$TMP/one.json" <<'EOF' && ok || bad "response fields: $(cat "$TMP/one.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["model"] == "fashion_cnn.onnx" and r["task"] == "classify"
x = r["results"][0]
assert x["passes"] == 4 and 0 <= x["agreement"] <= 1 and x["entropy"] >= 0
assert len(x["top"]) == 5 and abs(sum(t["probability"] for t in x["top"]) - 1) < 0.05
EOF
# two base64 images in one JSON body, and an option
B=$(base64 -w0 tests/data/serve/00000.png)
printf '{"images": ["%s", "%s"], "top": 2}' "$B" "$B" > "$TMP/two.json"
if req "json two images" 200 -H 'Content-Type: application/json' --data-binary "@$TMP/two.json" "$U/v1/predict"; then
    n200=$((n200 + 1))
    $PY -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; assert len(r)==2 and len(r[0]["top"])==2 and r[0]["label"]=="Ankle boot"' "$TMP/body" \
        && ok || bad "json two images: $(head -c 300 "$TMP/body")"
fi
req "query top" 200 -H 'Content-Type: image/png' --data-binary @tests/data/serve/00001.png "$U/v1/predict?top=1" &&
    n200=$((n200 + 1)) && grep -q '"top": \[{[^]]*}\], "entropy"' "$TMP/body" && ok || bad "?top=1"

# ---- malformed and oversized requests: 400/413/415, JSON errors, the server carries on
head -c 100 tests/data/serve/00000.png > "$TMP/trunc.png"
head -c 70000 /dev/zero | tr '\0' 'x' > "$TMP/big.bin"
n400=0
req truncated 400 -H 'Content-Type: image/png' --data-binary "@$TMP/trunc.png" "$U/v1/predict" && n400=$((n400 + 1)) && json_error truncated
grep -q "truncated" "$TMP/body" && ok || bad "truncated: message $(cat "$TMP/body")"
req garbage 400 --data-binary 'garbage, not an image' "$U/v1/predict" && n400=$((n400 + 1)) && json_error garbage
req empty 400 -X POST "$U/v1/predict" && n400=$((n400 + 1)) && json_error empty
req "bad json" 400 -H 'Content-Type: application/json' --data-binary '{"image": "Zm9v' "$U/v1/predict" && n400=$((n400 + 1)) && json_error "bad json"
req "bad base64" 400 -H 'Content-Type: application/json' --data-binary '{"image": "@@@@"}' "$U/v1/predict" && n400=$((n400 + 1))
grep -q "invalid base64 character" "$TMP/body" && ok || bad "bad base64 message: $(cat "$TMP/body")"
req "bad option" 400 --data-binary "@tests/data/serve/00000.png" "$U/v1/predict?colour=red" && n400=$((n400 + 1)) && json_error "bad option"
req "oversized" 413 --data-binary "@$TMP/big.bin" "$U/v1/predict" && json_error oversized
req "oversized chunked" 413 -H 'Transfer-Encoding: chunked' --data-binary "@$TMP/big.bin" "$U/v1/predict" && json_error "oversized chunked"
req multipart 415 -F "file=@tests/data/serve/00000.png" "$U/v1/predict" && json_error multipart
req "wrong method" 405 "$U/v1/predict" && json_error "wrong method"
req "wrong path" 404 "$U/v2/predict" && json_error "wrong path"
req "still serving" 200 --data-binary "@tests/data/serve/00002.png" "$U/v1/predict" && n200=$((n200 + 1))

# ---- /metrics counts exactly those requests
req metrics 200 "$U/metrics"
m() { grep -F "$1 " "$TMP/body" | grep -v '^#' | awk '{print $2}'; }
[ "$(m 'tta_requests_total{path="/v1/predict",code="200"}')" = "$n200" ] && ok || bad "metrics: 200s $(m 'code="200"}') want $n200"
[ "$(m 'tta_requests_total{path="/v1/predict",code="400"}')" = "$n400" ] && ok || bad "metrics: 400s want $n400: $(grep code=\"400\" "$TMP/body")"
[ "$(m 'tta_requests_total{path="/v1/predict",code="413"}')" = 2 ] && ok || bad "metrics: 413s"
[ "$(m 'tta_requests_total{path="/v1/predict",code="415"}')" = 1 ] && ok || bad "metrics: 415s"
[ "$(m 'tta_errors_total{kind="bad_request"}')" = "$n400" ] && ok || bad "metrics: bad_request errors"
[ "$(m 'tta_request_duration_seconds_count')" = $((n200 + n400 + 2 + 1 + 1)) ] && ok || bad "metrics: latency count $(m tta_request_duration_seconds_count)"
imgs=$((n200 + 1)) # the JSON request holds two images
[ "$(m 'tta_batch_size_sum')" = "$imgs" ] && ok || bad "metrics: images in batches $(m tta_batch_size_sum), want $imgs"
[ "$(m 'tta_passes_per_image_sum')" = $((4 * imgs)) ] && ok || bad "metrics: passes $(m tta_passes_per_image_sum)"
grep -q '^# TYPE tta_request_duration_seconds histogram$' "$TMP/body" && grep -q '^tta_request_duration_seconds_bucket{le="+Inf"} ' "$TMP/body" \
    && ok || bad "metrics: histogram lines"

# ---- concurrent requests: every one answered, each with its image's class
$PY $CLIENT concurrent "$PORT" 24 tests/data/serve/*.png > "$TMP/conc.txt" 2>&1
[ "$(grep -c ' 200 ' "$TMP/conc.txt")" = 24 ] && ok || bad "concurrent: $(grep -v ' 200 ' "$TMP/conc.txt" | head -n 3)"
cbad=0
for f in tests/data/serve/*.png; do
    want=$(grep -A1 "^$f:" "$TMP/predict.txt" | sed -nE 's/^ +1\. (.*[^ ]) +[0-9.]+$/\1/p' | tr ' ' _)
    grep "^$(basename "$f") 200 " "$TMP/conc.txt" | grep -qv " $want\$" && cbad=1
done
[ $cbad = 0 ] && ok || bad "concurrent: a class differs from tta predict: $(cat "$TMP/conc.txt")"
curl -s "$U/metrics" > "$TMP/body"
echo "batches: $(m tta_batches_total) for $(m tta_batch_size_sum) images (batching is timing-dependent: not asserted)"

# ---- a slow client (a byte every half second) does not hold the server, and is cut
$PY $CLIENT slow "$PORT" 8 > "$TMP/slow.txt" 2>&1 &
SLOW=$!
sleep 1
req "while a slow client sends" 200 --data-binary "@tests/data/serve/00003.png" "$U/v1/predict"
wait $SLOW
grep -q "^cut$" "$TMP/slow.txt" && ok || bad "slow client not cut at --read-timeout: $(cat "$TMP/slow.txt")"
curl -s "$U/metrics" > "$TMP/body"
[ "$(m 'tta_errors_total{kind="read_timeout"}')" = 1 ] && ok || bad "metrics: read_timeout errors $(m 'kind="read_timeout"')"

# ---- SIGTERM with a request half-sent: it is answered, then exit 0
rm -f "$TMP/go"
$PY $CLIENT inflight "$PORT" tests/data/serve/00000.png "$TMP/go" > "$TMP/inflight.txt" 2>&1 &
CL=$!
i=0
while ! grep -q started "$TMP/inflight.txt" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM "$PID"
sleep 0.5
curl -s -m 2 -o /dev/null -w '%{http_code}' "$U/healthz" > "$TMP/after.txt" 2>/dev/null
touch "$TMP/go"
wait $CL
grep -q "^200 Ankle_boot$" "$TMP/inflight.txt" && ok || bad "in-flight request at SIGTERM: $(cat "$TMP/inflight.txt")"
case "$(cat "$TMP/after.txt")" in 200) bad "new request accepted while draining" ;; *) ok ;; esac
wait "$PID"; rc=$?
PID=""
[ $rc -eq 0 ] && ok || bad "exit $rc after SIGTERM: $(tail -n 20 "$TMP/s.err")"
grep -q "stopped" "$TMP/s.err" && ok || bad "no shutdown line: $(tail -n 5 "$TMP/s.err")"

# stop_server NAME: SIGTERM, then exit 0 expected
stop_server() {
    kill -TERM "$PID"
    wait "$PID"; rc=$?
    PID=""
    [ $rc -eq 0 ] && ok || bad "$1: exit $rc after SIGTERM: $(tail -n 20 "$TMP/$1.err")"
}

# ---- adaptive TTA: the identity first, the other views only for unsure images
if start_server "$TMP/a" --policy "$POL" --adaptive-cost 1.5 --max-batch 4; then
    U=http://127.0.0.1:$PORT
    for f in tests/data/serve/*.png; do curl -s -o "$TMP/a.json" --data-binary "@$f" "$U/v1/predict"; done
    grep -q '"identity_confidence": ' "$TMP/a.json" && ok || bad "adaptive: no identity_confidence: $(cat "$TMP/a.json")"
    curl -s "$U/metrics" > "$TMP/body"
    grep -q '^tta_adaptive_target_passes 1.5$' "$TMP/body" && grep -q '^tta_adaptive_threshold ' "$TMP/body" && ok ||
        bad "adaptive: metrics lack the threshold"
    # the first image always runs alone (nothing to compare its confidence with): 1 pass
    [ "$(m 'tta_passes_per_image_bucket{le="1"}')" -ge 1 ] && [ "$(m tta_passes_per_image_sum)" -lt 32 ] && ok ||
        bad "adaptive: passes $(m tta_passes_per_image_sum) for $(m tta_passes_per_image_count) images"
    stop_server a
else
    bad "adaptive server did not start: $(cat "$TMP/a.err")"
fi

# ---- detection and segmentation servers on a mosaic (needs the Fashion-MNIST package)
if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] &&
    "$TTA" data mosaic --split test --seed 3 --count 2 -q -o "$TMP/mos" > /dev/null 2>&1; then
    IMG=$TMP/mos/images/000000.png
    "$TTA" detect predict --model models/detector.onnx --policy hflip "$IMG" > "$TMP/det.txt" 2>&1
    if start_server "$TMP/d" --model models/detector.onnx --policy hflip; then
        req "detect" 200 --data-binary "@$IMG" "http://127.0.0.1:$PORT/v1/predict"
        want=$(sed -n 2p "$TMP/det.txt" | awk '{print $1}')
        $PY - "$TMP/body" "$want" "$(head -n 1 "$TMP/det.txt" | sed -E 's/.*: ([0-9]+) box.*/\1/')" <<'EOF2' && ok || bad "detect: $(head -c 300 "$TMP/body") vs $(cat "$TMP/det.txt")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["task"] == "detect"
b = r["results"][0]["boxes"]
assert len(b) == int(sys.argv[3]) and b[0]["label"] == sys.argv[2] and 1 <= b[0]["support"] <= 2
EOF2
        req "detect, bad image" 400 --data-binary "@$TMP/trunc.png" "http://127.0.0.1:$PORT/v1/predict" && json_error "detect, bad image"
        stop_server d
    else
        bad "detect server did not start: $(cat "$TMP/d.err")"
    fi
    "$TTA" segment predict --model models/segmenter.onnx --policy hflip -o "$TMP/segout" "$IMG" > /dev/null 2>&1
    if start_server "$TMP/g" --model models/segmenter.onnx --policy hflip; then
        req "segment" 200 --data-binary "@$IMG" "http://127.0.0.1:$PORT/v1/predict?maps=1"
        # the mask PNG is the one `tta segment predict` writes, byte for byte
        $PY - "$TMP/body" "$TMP/segout/000000.mask.png" <<'EOF2' && ok || bad "segment: $(head -c 300 "$TMP/body")"
import base64, json, sys
r = json.load(open(sys.argv[1]))["results"][0]
assert base64.b64decode(r["mask_png"]) == open(sys.argv[2], "rb").read()
assert r["uncertainty"] >= 0 and 0 <= r["disagreement"] <= 1 and r["passes"] == 2
assert base64.b64decode(r["uncertainty_png"])[:8] == b"\x89PNG\r\n\x1a\n"
assert sum(r["class_pixels"].values()) == r["width"] * r["height"]
EOF2
        stop_server g
    else
        bad "segment server did not start: $(cat "$TMP/g.err")"
    fi
else
    SKIP=$((SKIP + 4))
fi

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ $FAIL -eq 0 ]
