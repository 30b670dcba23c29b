#!/bin/sh
# bench.sh - `make bench`: the same models through tta and through ONNX Runtime (the anchor),
# at batch 1 and 64, same threads; one table row per model and batch.
#
# ONNX Runtime is the npm package onnxruntime-node (CPU provider), installed with
# `npm install --ignore-scripts` into bench/ort/ (its CPU binding and libonnxruntime.so ship in
# the package; the install script would try to download GPU files). Node and npm come from the
# Debian packages nodejs and npm when missing.
#
# Each figure is the median of RUNS separate runs of `build/tta bench --json` and
# `node bench/ort_bench.js --json` (alternated, so that load on the machine hits both alike);
# each run times SECONDS seconds after a warm-up. The raw JSON lines go to build/bench/raw.jsonl.
#
# Environment: BENCH_THREADS (default 2), BENCH_SECONDS (2), BENCH_RUNS (3),
# BENCH_BATCHES ("1 64"), BENCH_MODELS (default: models/*.onnx, tests/models/*/model.onnx and
# the model zoo build/zoo/*/model.onnx), BENCH_ZOO (default 1; 0 leaves the zoo out).
# ONEDNN_MAX_CPU_ISA and TTA_MAX_ISA are passed on to tta as they are (the ISA column shows what
# tta used: the "isa" key of `tta bench --json`, "-" when absent); ONNX Runtime ignores them.
#
# The model zoo: common image-model families at full width with seeded random weights
# (tests/zoo/README.md), generated into build/zoo/ by `scripts/export_zoo.py --variant full`
# when missing or older than that script (about a minute; python3-torch and
# python3-torchvision are installed with apt-get when missing). Never committed.
#
# Peak RSS is the whole process's: ONNX Runtime's includes Node itself (about 45 MB before
# anything is loaded). GFLOP/s: FLOPs per image of the Conv, ConvTranspose, Gemm and MatMul nodes
# (ort_bench.js --flops, from ONNX Runtime's profile of the unoptimised graph) times images/s;
# "peak" is the machine's fp32 multiply-add peak for the thread count, measured (bench/peak.c).
set -e

cd "$(dirname "$0")/.."
THREADS=${BENCH_THREADS:-2}
SECS=${BENCH_SECONDS:-2}
RUNS=${BENCH_RUNS:-3}
BATCHES=${BENCH_BATCHES:-"1 64"}
TTA=${TTA:-build/tta}
OUT=build/bench

# --- Node, npm and onnxruntime-node -------------------------------------------------------
# Debian's nodejs and npm packages; a node that ships its own npm (e.g. NodeSource's nodejs)
# is fine as it is.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    sh scripts/setup.sh nodejs npm
fi
command -v node >/dev/null 2>&1 || { echo "bench: node is not available" >&2; exit 1; }

if [ ! -d bench/ort/node_modules/onnxruntime-node ]; then
    command -v npm >/dev/null 2>&1 || { echo "bench: npm is not available" >&2; exit 1; }
    echo "bench: installing onnxruntime-node into bench/ort (npm, --ignore-scripts)" >&2
    if [ -f bench/ort/package-lock.json ]; then
        (cd bench/ort && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    else
        (cd bench/ort && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    fi
fi

[ -x "$TTA" ] || { echo "bench: $TTA is missing; run make first" >&2; exit 1; }
mkdir -p "$OUT"

# --- the model zoo (build/zoo, full variant) ------------------------------------------------
ZOO=build/zoo
USE_ZOO=0
if [ -z "${BENCH_MODELS:-}" ] && [ "${BENCH_ZOO:-1}" != 0 ]; then
    USE_ZOO=1
    if [ ! -f "$ZOO/.complete" ] ||
        [ -n "$(find scripts/export_zoo.py scripts/onnx_pb.py -newer "$ZOO/.complete" 2>/dev/null)" ]; then
        sh scripts/setup.sh python3-torch python3-torchvision # for the model zoo
        echo "bench: generating the model zoo in $ZOO (scripts/export_zoo.py --variant full, about a minute)" >&2
        rm -rf "$ZOO"
        if ! /usr/bin/python3 scripts/export_zoo.py --variant full --out "$ZOO" >"$OUT/zoo.log" 2>&1; then
            echo "bench: scripts/export_zoo.py failed (log: $OUT/zoo.log):" >&2
            tail -n 5 "$OUT/zoo.log" >&2
            exit 1
        fi
        : >"$ZOO/.complete"
    fi
fi

# --- models -------------------------------------------------------------------------------
if [ -n "${BENCH_MODELS:-}" ]; then
    MODELS=$BENCH_MODELS
else
    MODELS=""
    ZOOMODELS=""
    [ "$USE_ZOO" = 1 ] && ZOOMODELS="$ZOO/*/model.onnx"
    for f in models/*.onnx tests/models/*/model.onnx $ZOOMODELS; do
        [ -f "$f" ] && MODELS="$MODELS $f"
    done
fi
[ -n "$MODELS" ] || { echo "bench: no models found (models/*.onnx, tests/models/*/model.onnx, $ZOO)" >&2; exit 1; }

# A private copy: a rebuild of build/tta during the run (make in another shell) cannot break it.
cp "$TTA" "$OUT/tta"
TTA=$OUT/tta
: >"$OUT/raw.jsonl"
: >"$OUT/rows.txt"
ERRS="$OUT/errors.txt"
: >"$ERRS"

# Machine peak: measured by bench/peak.c (independent FMA chains on every thread; the clock the
# cores really run at, turbo included); if it cannot be built, estimated from /proc/cpuinfo
# (FMA width x the nominal clock x threads, which undercounts a turbo clock).
PEAK_GF=""
if ${CC:-cc} -O2 -fopenmp bench/peak.c -o "$OUT/peak" 2>/dev/null; then
    set -- $("$OUT/peak" "$THREADS")
    PEAK_GF=$1
    PEAK="$1 GFLOP/s fp32, measured ($2 multiply-adds on $THREADS threads, bench/peak.c)"
fi
if [ -z "$PEAK_GF" ]; then
    PEAK_GF=$(awk -v t="$THREADS" '
        /^flags/ && !f { f = 1; w = 8; if ($0 ~ / avx /) w = 16; if ($0 ~ / avx2 / && $0 ~ / fma /) w = 32;
                         if ($0 ~ / avx512f /) w = 64 }
        /^cpu MHz/ && !m { m = $4 }
        END { if (m > 0) printf "%.1f", w * m / 1000 * t; else print 0 }' /proc/cpuinfo)
    PEAK="$PEAK_GF GFLOP/s fp32, estimated from /proc/cpuinfo (nominal clock)"
fi
ORTV=$(node -e 'console.log(require("./bench/ort/node_modules/onnxruntime-node/package.json").version)')
echo "bench: tta vs ONNX Runtime $ORTV (CPU provider), $THREADS threads, median of $RUNS runs of ${SECS} s each"
[ -n "$PEAK" ] && echo "bench: machine peak about $PEAK"
for v in ONEDNN_MAX_CPU_ISA TTA_MAX_ISA; do
    eval "val=\${$v:-}"
    [ -n "$val" ] && echo "bench: $v=$val (passed on to tta; ONNX Runtime does not read it)"
done
echo

# Prints one table row from the JSON lines of both runtimes (median over runs of each figure).
row() { # name batch tta.jsonl ort.jsonl peak_gflops rows.txt
    node -e '
const fs = require("fs");
const [name, batch, a, b, peak, rows] = process.argv.slice(1);
const rd = (f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const med = (v) => { if (!v.length) return NaN; v = v.slice().sort((x, y) => x - y);
  const h = v.length >> 1; return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2; };
const A = rd(a), B = rd(b);
const ti = med(A.map((r) => r.images_per_s)), oi = med(B.map((r) => r.images_per_s));
const tm = med(A.map((r) => r.peak_rss_mb)), om = med(B.map((r) => r.peak_rss_mb));
const fl = B.map((r) => r.flops_per_image).find((x) => x > 0);
// what tta used, compacted: "avx512_core_bf16 (oneDNN), avx512 (tta), block 16" -> "avx512_core_bf16/avx512/b16"
const isaRaw = A.map((r) => r.isa).find((x) => typeof x === "string" && x.length);
const isa = isaRaw ? isaRaw.replace(/\s*\((oneDNN|tta)\)/g, "").replace(/block\s*/g, "b").replace(/,\s*/g, "/") : "-";
const f = (x, d) => (Number.isFinite(x) ? x.toFixed(d) : "fail");
const g = (x, d) => (fl > 0 && Number.isFinite(x) ? x.toFixed(d) : "-");
console.log(name.padEnd(24) + batch.padStart(6) + f(ti, 1).padStart(12) + f(oi, 1).padStart(12) +
  f(ti / oi, 2).padStart(9) + f(tm, 1).padStart(9) + f(om, 1).padStart(9) +
  g(fl / 1e6, 2).padStart(9) + g(ti * fl / 1e9, 2).padStart(9) + g(oi * fl / 1e9, 2).padStart(9) +
  (+peak > 0 ? g(100 * ti * fl / 1e9 / peak, 1) : "-").padStart(8) + "  " + isa);
// for the summary lines: name batch img/s-ratio memory-ratio (NaN when a side failed)
fs.appendFileSync(rows, [name, batch, ti / oi, tm / om].join(" ") + "\n");
' "$1" "$2" "$3" "$4" "$5" "$6"
}

printf '%-24s%6s%12s%12s%9s%9s%9s%9s%9s%9s%8s  %s\n' model batch "tta img/s" "ORT img/s" tta/ORT "tta MB" "ORT MB" \
    MFLOP/im "tta GF/s" "ORT GF/s" "tta %pk" ISA
for m in $MODELS; do
    case "$m" in
    */model.onnx) name=$(basename "$(dirname "$m")") ;;
    *) name=$(basename "$m" .onnx) ;;
    esac
    # models with a symbolic height and width are timed on their training size
    shape=""
    case "$name" in detector | segmenter) shape="--shape 1,1,64,64" ;; esac
    for b in $BATCHES; do
        : >"$OUT/tta.jsonl"
        : >"$OUT/ort.jsonl"
        i=0
        tta_ok=1
        ort_ok=1
        while [ "$i" -lt "$RUNS" ]; do
            i=$((i + 1))
            if [ "$tta_ok" = 1 ]; then
                # shellcheck disable=SC2086
                if "$TTA" bench "$m" --batch "$b" --threads "$THREADS" --seconds "$SECS" --json $shape \
                    >"$OUT/one.json" 2>"$OUT/one.err"; then
                    cat "$OUT/one.json" >>"$OUT/tta.jsonl"
                else
                    echo "tta, $name, batch $b: $(head -n 1 "$OUT/one.err")" >>"$ERRS"
                    tta_ok=0
                fi
            fi
            if [ "$ort_ok" = 1 ]; then
                flops=""
                [ "$i" = 1 ] && flops=--flops
                # shellcheck disable=SC2086
                if node bench/ort_bench.js "$m" --batch "$b" --threads "$THREADS" --seconds "$SECS" --json $flops $shape \
                    >"$OUT/one.json" 2>"$OUT/one.err"; then
                    cat "$OUT/one.json" >>"$OUT/ort.jsonl"
                else
                    echo "ORT, $name, batch $b: $(head -n 1 "$OUT/one.err")" >>"$ERRS"
                    ort_ok=0
                fi
            fi
        done
        cat "$OUT/tta.jsonl" "$OUT/ort.jsonl" >>"$OUT/raw.jsonl"
        row "$name" "$b" "$OUT/tta.jsonl" "$OUT/ort.jsonl" "$PEAK_GF" "$OUT/rows.txt"
    done
done
rm -f "$OUT/one.json" "$OUT/one.err" "$OUT/tta.jsonl" "$OUT/ort.jsonl" "$OUT/tta"

# the weakest rows: the smallest speed ratio, the largest memory ratio (rows where both ran)
echo
awk '
    function num(x) { return x ~ /^[0-9.eE+-]+$/ }
    num($3) && (!s || $3 < smin) { s = 1; smin = $3; sw = $1 ", batch " $2 }
    num($4) && (!m || $4 > mmax) { m = 1; mmax = $4; mw = $1 ", batch " $2 }
    END {
        if (s) printf "smallest ratio: %.2f (%s)\n", smin, sw; else print "smallest ratio: - (no row ran on both)"
        if (m) printf "largest memory ratio (tta MB / ORT MB): %.2f (%s)\n", mmax, mw
        else print "largest memory ratio (tta MB / ORT MB): - (no row ran on both)"
    }' "$OUT/rows.txt"
rm -f "$OUT/rows.txt"

echo
echo "img/s: images per second at the median latency per batch; MB: peak RSS of the process"
echo "(ORT's includes Node, about 45 MB); MFLOP/im: Conv/ConvTranspose/Gemm/MatMul FLOPs per image;"
echo "GF/s: achieved GFLOP/s, counting a direct convolution's FLOPs (tta's Winograd 3x3 convolutions do"
echo "fewer multiply-adds, so %pk can pass 100); %pk: tta's share of the machine peak; ISA: what tta used"
echo "(oneDNN's ISA / tta's own kernels' / channel block). Raw: $OUT/raw.jsonl"

# ---- augmentation cost beside the model (issue 4): the seed policy's 8 views of one image,
# against running the classifier on those 8 views (one batch of 8).
CLS=models/fashion_cnn.onnx
[ -f "$CLS" ] || CLS=tests/models/mobilenetv2_tiny_op17/model.onnx
IMG="$OUT/augment_input.png"
TTA=build/tta
cp "$(ls tests/data/datasets/folder/*/*.png | head -n 1)" "$IMG"
aug_us=$($TTA augment --policy seed "$IMG" --size 28x28 --bench 2000 -o /dev/null 2>/dev/null | sed -nE 's/.*: ([0-9.]+) us per image.*/\1/p')
model_ms=$($TTA bench "$CLS" --batch 8 --threads "$THREADS" --seconds "$SECS" --json 2>/dev/null | sed -nE 's/.*"latency_ms": ([0-9.]+).*/\1/p')
if [ -n "$aug_us" ] && [ -n "$model_ms" ]; then
    echo
    echo "augmentation: seed policy, 8 views of a 28x28 image: $aug_us us; $(basename "$CLS") on those 8 views: $model_ms ms;" \
        "augmentation / model = $(awk -v a="$aug_us" -v m="$model_ms" 'BEGIN { printf "%.1f%%", 100 * a / (m * 1000) }')"
fi
if $TTA search --help 2>/dev/null | grep -q -- --bench-subset; then
    echo
    $TTA search --bench-subset
fi

# ---- detection TTA beside the model (issue 12): the shipped detector on 500 test mosaics with a
# 4-pass policy; decoding, each view's NMS, de-augmenting and fusing as a share of the model's
# time, and fusion alone as views grow (100 views x 300 boxes).
if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
    [ -f "$OUT/mosaics/annotations.json" ] || $TTA data mosaic --split test --seed 3 --count 500 -q -o "$OUT/mosaics" > /dev/null
    echo
    $TTA detect bench --model models/detector.onnx --data "coco:$OUT/mosaics" --threads "$THREADS" \
        --policy "hflip; resize(125%); shift(4, 4, constant) # merge: wbf iou=0.7" || echo "detect bench failed" >> "$ERRS"
    # The same at a real detector's size: a YOLOv8n-style model at 640 x 640, 80 classes, seeded
    # random weights (scripts/export_zoo.py --variant detect, generated when missing), on 40
    # mosaics letterboxed to 640: every one of its 672,000 scores per view is above 0.001, the
    # worst case for decoding. BENCH_DETECT640=0 leaves it out (about 2 minutes).
    DET640=build/zoo_detect/yolov8/model.onnx
    if [ "${BENCH_DETECT640:-1}" != 0 ]; then
        if [ ! -f "$DET640" ] || [ scripts/export_zoo.py -nt "$DET640" ]; then
            sh scripts/setup.sh python3-torch python3-torchvision
            echo "bench: generating $DET640 (scripts/export_zoo.py --variant detect, about a minute)" >&2
            /usr/bin/python3 scripts/export_zoo.py --variant detect --out build/zoo_detect >"$OUT/zoo_detect.log" 2>&1 ||
                echo "export of the 640 detector failed (log: $OUT/zoo_detect.log)" >> "$ERRS"
        fi
        [ -f "$OUT/mosaics40/annotations.json" ] || $TTA data mosaic --split test --seed 3 --count 40 -q -o "$OUT/mosaics40" > /dev/null
        if [ -f "$DET640" ]; then
            echo
            $TTA detect bench --model "$DET640" --output-layout yolov8 --classes 80 --data "coco:$OUT/mosaics40" \
                --threads "$THREADS" --boxes 0 \
                --policy "hflip; resize(125%); shift(4, 4, constant) # merge: wbf iou=0.7" || echo "detect bench (640) failed" >> "$ERRS"
        fi
    fi
fi

# ---- segmentation TTA beside the model: the shipped segmenter on the same 500 mosaics (their
# masks) with a 4-pass policy; probabilities + de-augmenting and merging the views as a share of
# the model's time (goal: at most 10%), and the metrics apart.
if [ -f "$OUT/mosaics/annotations.json" ] && [ -f models/segmenter.onnx ]; then
    echo
    $TTA segment bench --model models/segmenter.onnx --data "masks:$OUT/mosaics" --threads "$THREADS" \
        --policy "hflip; vflip; shift(4, 4, constant)" || echo "segment bench failed" >> "$ERRS"
    # the same at a real segmenter's cost: the model zoo's U-Net (widths 32-512, 21 classes)
    if [ -f "$ZOO/unet/model.onnx" ]; then
        echo
        $TTA segment bench --model "$ZOO/unet/model.onnx" --data "masks:$OUT/mosaics" --threads "$THREADS" \
            --policy "hflip; vflip; shift(4, 4, constant)" || echo "segment bench (U-Net) failed" >> "$ERRS"
    fi
fi

# ---- `tta serve` under load (issue 17): wrk at concurrency 1, 8 and 64, a soak with the server's
# memory before and after, and `tta predict` in one process beside it (scripts/bench_serve.sh;
# about 3 minutes). BENCH_SERVE=0 leaves it out.
if [ "${BENCH_SERVE:-1}" != 0 ]; then
    echo
    BENCH_THREADS=$THREADS sh scripts/bench_serve.sh || echo "serve load test failed (scripts/bench_serve.sh)" >> "$ERRS"
fi

if [ -s "$ERRS" ]; then
    echo
    echo "failures:"
    sed 's/^/  /' "$ERRS"
    exit 1
fi
rm -f "$ERRS"
