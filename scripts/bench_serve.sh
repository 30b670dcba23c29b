#!/bin/sh
# bench_serve.sh - the load test of `tta serve` (part of `make bench`, also runnable alone):
# the shipped classifier with a 4-view policy, on loopback only, driven by wrk (Debian's
# package, installed when missing) at concurrency 1, 8 and 64 for a fixed time each; then the
# same server without batching (--max-batch 1) at 64; then a soak at concurrency 8 with the
# server's resident memory before and after; then the same images through `tta predict` in one
# process, the anchor: every image's views in their own forward pass, nothing batched across
# images. Prints requests/s, p50/p99 latency, errors (must be 0), the server's mean batch size
# and passes per image (from /metrics), and RSS. Exits 1 if a request failed or memory grew.
#
# Environment: BENCH_THREADS (2: threads of each model run), SERVE_SECONDS (10 per
# concurrency), SERVE_SOAK (120 s), SERVE_IMAGES (64 Fashion-MNIST test images, written to
# build/bench/serve_images; tests/data/serve/ when the data set package is missing).
set -e

cd "$(dirname "$0")/.."
THREADS=${BENCH_THREADS:-2}
SECS=${SERVE_SECONDS:-10}
SOAK=${SERVE_SOAK:-120}
NIMG=${SERVE_IMAGES:-64}
TTA=${TTA:-build/tta}
OUT=build/bench
MODEL=models/fashion_cnn.onnx
POLICY="hflip; shift(2, 0, wrap); shift(0, 2, wrap)"
mkdir -p "$OUT"
[ -x "$TTA" ] || { echo "bench_serve: $TTA is missing; run make first" >&2; exit 1; }
command -v wrk > /dev/null 2>&1 || sh scripts/setup.sh wrk
command -v wrk > /dev/null 2>&1 || { echo "bench_serve: wrk is not available" >&2; exit 1; }

# the images: Fashion-MNIST test images as PNG files (28 x 28 gray, about 500 bytes each)
IMGDIR=tests/data/serve
if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
    IMGDIR=$OUT/serve_images
    [ "$(ls "$IMGDIR" 2>/dev/null | wc -l)" = "$NIMG" ] || { rm -rf "$IMGDIR"; python3 scripts/make_serve_images.py "$IMGDIR" 0 "$NIMG"; }
fi
IMAGES=$(ls "$IMGDIR"/*.png)
NIMG=$(echo "$IMAGES" | wc -l)

# wrk's request script: POST the images in turn; one RESULT line at the end
LUA=$OUT/serve_post.lua
cat > "$LUA" << 'EOF'
local bodies, n = {}, 0
function init(args)
    for i, f in ipairs(args) do
        local h = assert(io.open(f, "rb"))
        bodies[i] = h:read("*a")
        h:close()
    end
    n = math.random(#bodies)
end
function request()
    n = n % #bodies + 1
    return wrk.format("POST", "/v1/predict", {["Content-Type"] = "image/png"}, bodies[n])
end
function done(s, latency, requests)
    local e = s.errors
    io.write(string.format("RESULT %d %.1f %.2f %.2f %d\n", s.requests, s.requests / (s.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.connect + e.read + e.write + e.timeout + e.status))
end
EOF

PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null' EXIT
FAILED=0

# start_server LOG ARGS...: sets PID and PORT
start_server() {
    log=$1; shift
    "$TTA" serve --model $MODEL --policy "$POLICY" --port 0 --threads "$THREADS" --max-connections 512 "$@" \
        > "$log" 2>&1 &
    PID=$!
    i=0
    PORT=""
    while [ -z "$PORT" ] && [ $i -lt 300 ]; do
        sleep 0.1; i=$((i + 1))
        PORT=$(sed -nE 's|.* on http://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$log")
        kill -0 "$PID" 2> /dev/null || break
    done
    [ -n "$PORT" ] || { echo "bench_serve: the server did not start: $(cat "$log")" >&2; exit 1; }
}

stop_server() {
    kill -TERM "$PID"
    wait "$PID" || { echo "bench_serve: the server exited with $? after SIGTERM" >&2; FAILED=1; }
    PID=""
}

rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status"; }

# snapshot: images in batches, batches and passes from one read of /metrics
snapshot() {
    curl -s "http://127.0.0.1:$PORT/metrics" | awk '
        $1 == "tta_batch_size_sum" { b = $2 } $1 == "tta_batch_size_count" { n = $2 }
        $1 == "tta_passes_per_image_sum" { p = $2 } END { print b + 0, n + 0, p + 0 }'
}

# run LABEL CONNECTIONS SECONDS: one wrk run, one table row
run() {
    label=$1; c=$2; d=$3
    t=$c; [ "$t" -gt 2 ] && t=2
    s0=$(snapshot)
    wrk -t "$t" -c "$c" -d "${d}s" --timeout 10s -s "$LUA" "http://127.0.0.1:$PORT/" -- $IMAGES > "$OUT/wrk.txt" 2>&1
    set -- $(grep '^RESULT' "$OUT/wrk.txt")
    [ $# -eq 6 ] || { echo "bench_serve: wrk failed: $(tail -n 3 "$OUT/wrk.txt")" >&2; FAILED=1; return; }
    sleep 0.2 # the last responses' metrics
    s1=$(snapshot)
    batch=$(echo "$s0 $s1" | awk '{ if ($5 > $2) printf "%.2f", ($4 - $1) / ($5 - $2); else print "-" }')
    passes=$(echo "$s0 $s1" | awk '{ if ($4 > $1) printf "%.2f", ($6 - $3) / ($4 - $1); else print "-" }')
    printf '%-28s %5d %9d %10s %9s %9s %7d %7s %7s %8s\n' "$label" "$c" "$2" "$3" "$4" "$5" "$6" "$batch" "$passes" "$(rss_mb)"
    [ "$6" = 0 ] || FAILED=1
}

echo "tta serve: $(basename $MODEL), policy \"$POLICY\" (4 views), $NIMG images of $IMGDIR, model threads $THREADS,"
echo "wrk on loopback, ${SECS} s per row; latency in ms; batch: images per forward pass; RSS: the server's, MB"
printf '%-28s %5s %9s %10s %9s %9s %7s %7s %7s %8s\n' server conns requests "req/s" p50 p99 errors batch passes RSS
start_server "$OUT/serve.log" --max-batch 16 --max-wait-ms 2 --queue 512
wrk -t 2 -c 8 -d 2s -s "$LUA" "http://127.0.0.1:$PORT/" -- $IMAGES > /dev/null 2>&1 # warm-up: plans per batch size
for c in 1 8 64; do run "batching (max 16, 2 ms)" $c "$SECS"; done
rss0=$(rss_mb)
run "soak (${SOAK} s)" 8 "$SOAK"
rss1=$(rss_mb)
stop_server
start_server "$OUT/serve1.log" --max-batch 1 --queue 512
wrk -t 2 -c 8 -d 2s -s "$LUA" "http://127.0.0.1:$PORT/" -- $IMAGES > /dev/null 2>&1
run "no batching (max 1)" 64 "$SECS"
stop_server

# the anchor: `tta predict` on the same images in one process (each image's 4 views in one pass)
LIST=""
i=0
while [ $i -lt 8 ]; do LIST="$LIST $IMAGES"; i=$((i + 1)); done
n=$((NIMG * 8))
t0=$(date +%s.%N)
TTA_THREADS=$THREADS "$TTA" predict --model $MODEL --policy "$POLICY" $LIST > /dev/null
t1=$(date +%s.%N)
echo
awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "tta predict, one process: %d images in %.2f s: %.1f images/s (%.2f ms per image)\n", n, b - a, n / (b - a), 1000 * (b - a) / n }'
echo "server RSS over the soak: $rss0 MB before, $rss1 MB after"
if awk -v a="$rss0" -v b="$rss1" 'BEGIN { exit !(b > a * 1.10 + 4) }'; then
    echo "bench_serve: the server's memory grew during the soak" >&2
    FAILED=1
fi
[ $FAILED = 0 ] || { echo "bench_serve: failed (errors above)" >&2; exit 1; }
