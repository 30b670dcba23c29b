#!/bin/sh
# run_all.sh - every test of `make test`, in order: unit tests, the ONNX backend suite (against
# tests/conformance/expected_failures.txt), the whole-model, model-zoo and shipped-model
# reference cases,
# the same again at every instruction-set level below the machine's and with the other channel
# block, the CLI tests (tests/cli/test_mpi.sh among them: `mpirun -np 2` against one process),
# the HTML reports in headless Chromium (tests/report_browser.sh),
# everything again under AddressSanitizer + UBSan, the fuzz targets'
# smoke test (tests/fuzz_smoke.sh), the installed library with the example built against it
# (tests/install_test.sh), and the thread-safety test under ThreadSanitizer (tests/tsan/run.sh).
# Ends with one line "N passed, N failed, N skipped" summing them all (expected failures of the
# backend suite are counted as skipped). Exits non-zero if anything failed.

cd "$(dirname "$0")/.." || exit 1
TTA=build/tta
TTA_ASAN=build-asan/tta
EXPECTED=tests/conformance/expected_failures.txt
LOG=build/test-logs
mkdir -p "$LOG"
P=0; F=0; S=0

# add_counts LOGFILE: reads "N passed, N failed[, N skipped]" from its last such line
add_counts() {
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    if [ -z "$line" ]; then
        echo "  no summary line in $1: counted as 1 failure"
        F=$((F + 1)); return
    fi
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    s=0
    echo "$line" | grep -q skipped && s=$(echo "$line" | sed -E 's/.* ([0-9]+) skipped.*/\1/')
    P=$((P + p)); F=$((F + f)); S=$((S + s))
}

# conformance NAME BINARY DIRS...: the suite against the expected-failures list
conformance() {
    name=$1; bin=$2; shift 2
    start=$(date +%s)
    "$bin" conformance --expected-failures "$EXPECTED" "$@" > "$LOG/$name.log" 2>&1
    rc=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOG/$name.log" | tail -n 1)
    exp=$(grep -E '^expected failures:' "$LOG/$name.log" | tail -n 1)
    echo "$name: $line; $exp ($(( $(date +%s) - start ))s)"
    grep -E '^(FAIL|UNEXPECTED)' "$LOG/$name.log" | head -n 20
    if [ -z "$line" ]; then F=$((F + 1)); return; fi
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    uf=$(echo "$exp" | sed -E 's/.* ([0-9]+) unexpected failures.*/\1/')
    up=$(echo "$exp" | sed -E 's/.* ([0-9]+) unexpected passes.*/\1/')
    P=$((P + p - up)); F=$((F + uf + up)); S=$((S + f - uf))
    [ $rc -eq 0 ] || [ $((uf + up)) -gt 0 ] || F=$((F + 1))
}

echo "== unit tests"
for t in build/tests/test_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    "$t" > "$LOG/$n.log" 2>&1
    echo "$n: $(grep -E '^[0-9]+ passed' "$LOG/$n.log" | tail -n 1)"
    grep -E '^FAIL|failed$' "$LOG/$n.log" | grep -v '^[0-9]' | head -n 10
    add_counts "$LOG/$n.log"
done

echo "== ONNX backend suite"
conformance suite "$TTA"

echo "== whole models and shipped models (PyTorch references)"
# models_run BINARY LOGNAME: tests/models, and models/refs/NAME against models/NAME.onnx
models_run() {
    : > "$LOG/$2.log"
    [ -d tests/models ] && $1 conformance tests/models >> "$LOG/$2.log" 2>&1
    [ -d tests/zoo ] && $1 conformance tests/zoo >> "$LOG/$2.log" 2>&1 # common families (scripts/export_zoo.py)
    $1 conformance tests/data/cases >> "$LOG/$2.log" 2>&1 # hand-computed cases (scripts/make_test_models.py)
    for r in models/refs/*/; do
        [ -d "$r" ] || continue
        name=$(basename "$r")
        if [ -f "$r/model.onnx" ]; then # a variant made for the reference (see models/README.md)
            $1 conformance "$r" >> "$LOG/$2.log" 2>&1
        elif [ -f "models/$name.onnx" ]; then
            $1 conformance --model "models/$name.onnx" "$r" >> "$LOG/$2.log" 2>&1
        else
            echo "FAIL refs/$name: models/$name.onnx is missing" >> "$LOG/$2.log"
            echo "0 passed, 1 failed, 0 skipped" >> "$LOG/$2.log"
        fi
    done
    p=$(grep -E '^[0-9]+ passed' "$LOG/$2.log" | awk '{s += $1} END {print s + 0}')
    f=$(grep -E '^[0-9]+ passed' "$LOG/$2.log" | awk '{s += $3} END {print s + 0}')
    echo "$p passed, $f failed" >> "$LOG/$2.log"
    echo "$2: $p passed, $f failed"
    grep -E '^FAIL' "$LOG/$2.log" | head -n 20
    add_counts "$LOG/$2.log"
}
models_run "$TTA" models
# the same without graph rewrites: BatchNorm, activations and Identity run as written
export TTA_NO_REWRITES=1
models_run "$TTA" models-norewrite
unset TTA_NO_REWRITES
# and with every tensor plain and no Winograd: the oneDNN primitives on NCHW, as a second path
export TTA_NO_BLOCKED=1 TTA_NO_WINOGRAD=1
models_run "$TTA" models-plain
unset TTA_NO_BLOCKED TTA_NO_WINOGRAD

# Every instruction-set level below this machine's own, and the other channel block, on one
# machine: the kernel tests, the backend suite and the whole models again with our kernels and
# oneDNN capped (TTA_MAX_ISA) or the block forced (TTA_BLOCK). See src/core/cpu.h.
flags=$(grep -m 1 '^flags' /proc/cpuinfo 2>/dev/null)
case "$flags" in
*avx512f*avx512dq*avx512bw*|*avx512bw*avx512vl*) LEVELS="avx2:TTA_MAX_ISA=avx2 avx2-b16:TTA_MAX_ISA=avx2,TTA_BLOCK=16 avx512-b8:TTA_BLOCK=8 generic:TTA_MAX_ISA=generic" ;;
*" avx2 "*) LEVELS="avx2-b16:TTA_BLOCK=16 generic:TTA_MAX_ISA=generic" ;;
*) LEVELS="b16:TTA_BLOCK=16" ;;
esac
# isa_level TAG VARS BINARY TESTDIR: unit tests, suite and models with VARS (comma-separated) set
isa_level() {
    tag=$1; vars=$(echo "$2" | tr ',' ' '); bin=$3; tdir=$4
    for t in "$tdir"/test_*; do
        [ -x "$t" ] || continue
        n=$(basename "$t")-$tag
        env $vars "$t" > "$LOG/$n.log" 2>&1
        echo "$n: $(grep -E '^[0-9]+ passed' "$LOG/$n.log" | tail -n 1)"
        grep -E '^FAIL|failed$|ERROR|runtime error' "$LOG/$n.log" | grep -v '^[0-9]' | head -n 10
        add_counts "$LOG/$n.log"
    done
    # shellcheck disable=SC2086
    export $vars
    conformance "suite-$tag" "$bin"
    models_run "$bin" "models-$tag"
    # shellcheck disable=SC2086
    unset $(echo "$vars" | sed 's/=[^ ]*//g')
}
echo "== other instruction-set levels and blocks (this machine: $($TTA --isa))"
for l in $LEVELS; do
    isa_level "${l%%:*}" "${l#*:}" "$TTA" build/tests
done

# cli_tests BINARY SUFFIX: every tests/cli/test_*.sh with that tta binary
cli_tests() {
    for t in tests/cli/test_*.sh; do
        n=$(basename "$t" .sh)$2
        sh "$t" "$1" > "$LOG/$n.log" 2>&1
        echo "$n: $(tail -n 1 "$LOG/$n.log")"
        grep -E '^FAIL' "$LOG/$n.log" | head -n 20
        add_counts "$LOG/$n.log"
    done
}

echo "== command-line tests"
cli_tests "$TTA" ""

echo "== the HTML reports in a headless browser (tests/report_browser.sh; screenshots build/report-*.png)"
sh tests/report_browser.sh "$TTA" > "$LOG/report_browser.log" 2>&1
grep -vE '^[0-9]+ passed' "$LOG/report_browser.log"
echo "report browser: $(grep -E '^[0-9]+ passed' "$LOG/report_browser.log" | tail -n 1)"
add_counts "$LOG/report_browser.log"

if [ -x "$TTA_ASAN" ]; then
    echo "== ONNX backend suite under AddressSanitizer + UBSan"
    export ASAN_OPTIONS=exitcode=86:detect_leaks=1
    export UBSAN_OPTIONS=halt_on_error=1:exitcode=86:print_stacktrace=1
    for t in build-asan/tests/test_*; do
        [ -x "$t" ] || continue
        n=$(basename "$t")-asan
        "$t" > "$LOG/$n.log" 2>&1
        echo "$n: $(grep -E '^[0-9]+ passed' "$LOG/$n.log" | tail -n 1)"
        grep -E '^FAIL|ERROR|runtime error' "$LOG/$n.log" | head -n 10
        add_counts "$LOG/$n.log"
    done
    conformance suite-asan "$TTA_ASAN"
    models_run "$TTA_ASAN" models-asan
    cli_tests "$TTA_ASAN" "-asan"
    # the AVX2 level too, where the machine has more: both real-world paths under the sanitizers
    case "$LEVELS" in *avx2:*) isa_level asan-avx2 TTA_MAX_ISA=avx2 "$TTA_ASAN" build-asan/tests ;; esac
fi

echo "== fuzz targets (replay of tests/data/fuzz and the seed corpus, a few seconds of fuzzing each)"
sh tests/fuzz_smoke.sh > "$LOG/fuzz.log" 2>&1
grep -vE '^[0-9]+ passed' "$LOG/fuzz.log"
echo "fuzz: $(grep -E '^[0-9]+ passed' "$LOG/fuzz.log" | tail -n 1)"
add_counts "$LOG/fuzz.log"

echo "== the installed library (make install, pkg-config, examples/classify.c; tests/install_test.sh)"
sh tests/install_test.sh > "$LOG/install.log" 2>&1
grep -vE '^[0-9]+ passed' "$LOG/install.log"
echo "install: $(grep -E '^[0-9]+ passed' "$LOG/install.log" | tail -n 1)"
add_counts "$LOG/install.log"

echo "== threads (ThreadSanitizer: one model, a plan per thread; tests/tsan/run.sh)"
sh tests/tsan/run.sh > "$LOG/tsan.log" 2>&1
grep -vE '^[0-9]+ passed' "$LOG/tsan.log"
echo "tsan: $(grep -E '^[0-9]+ passed' "$LOG/tsan.log" | tail -n 1)"
add_counts "$LOG/tsan.log"

echo "logs in $LOG/"
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
