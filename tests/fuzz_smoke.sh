#!/bin/sh
# fuzz_smoke.sh - the fuzz part of `make test`: each libFuzzer target in build-fuzz/ (built by
# `make fuzz-build`, see fuzz/README.md) replays its regression inputs (tests/data/fuzz/TARGET/,
# every input that ever crashed) and its seed corpus (fuzz/corpus/TARGET/), one test per file,
# then fuzzes for FUZZ_SECONDS (default 3) as one more test. Ends "N passed, N failed, N skipped";
# without the binaries (no clang or fuzzer runtime) every target is counted as skipped.
# Inputs under tests/data/fuzz/open/ are known open findings and are not replayed; a target
# named in REPLAY_ONLY (none now: policy's runaway resizes are refused at plan time) would only
# replay here, so that `make test` does not fail by chance; `make fuzz` fuzzes them all.

cd "$(dirname "$0")/.." || exit 1
SECONDS_EACH=${FUZZ_SECONDS:-3}
REPLAY_ONLY=""
LOG=build/test-logs/fuzz
mkdir -p "$LOG" build-fuzz/artifacts 2>/dev/null
P=0; F=0; S=0
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for src in fuzz/fuzz_*.c; do
    t=$(basename "$src" .c); name=${t#fuzz_}; bin=build-fuzz/$t
    if [ ! -x "$bin" ]; then
        echo "$t: not built (no clang/libFuzzer), skipped"
        S=$((S + 1)); continue
    fi
    start=$(date +%s)
    # replay: one process, every file once; "Running: FILE" per input, so a failure names it
    files=$(find "tests/data/fuzz/$name" "fuzz/corpus/$name" -type f 2>/dev/null | sort)
    n=$(echo "$files" | grep -c .)
    # shellcheck disable=SC2086
    if [ "$n" -eq 0 ] || "$bin" -rss_limit_mb=2048 -timeout=10 $files > "$LOG/$t-replay.log" 2>&1; then
        P=$((P + n)); rep="$n replayed"
    else
        bad=$(grep '^Running: ' "$LOG/$t-replay.log" | tail -n 1 | sed 's/^Running: //')
        done_ok=$(grep -c '^Executed ' "$LOG/$t-replay.log")
        P=$((P + done_ok)); F=$((F + 1))
        rep="FAIL replaying $bad ($done_ok passed before it)"
        grep -E 'ERROR|runtime error' "$LOG/$t-replay.log" | head -n 3
    fi
    case "$REPLAY_ONLY" in
    *" $name "*)
        echo "$t: $rep, not fuzzed here (open findings: tests/data/fuzz/open/README)"
        continue ;;
    esac
    # a short fuzzing run from the committed seeds only (so that the outcome does not depend on
    # what longer runs left in build-fuzz/corpus), with a fixed seed (the same mutations each
    # time: `make test` does not fail by chance; long runs, `make fuzz`, explore at random); new
    # inputs go to a scratch folder
    rm -rf "build-fuzz/smoke-corpus/$t"; mkdir -p "build-fuzz/smoke-corpus/$t"
    dict=""; [ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
    # shellcheck disable=SC2086
    if "$bin" -seed=1 -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 $dict \
        -artifact_prefix="build-fuzz/artifacts/$t-" "build-fuzz/smoke-corpus/$t" "fuzz/corpus/$name" \
        > "$LOG/$t-fuzz.log" 2>&1; then
        P=$((P + 1)); fz="fuzzed $(grep -E '^#[0-9]+.*DONE' "$LOG/$t-fuzz.log" | tail -n 1 | sed -E 's/^#([0-9]+).*/\1/') execs"
    else
        F=$((F + 1)); fz="FAIL fuzzing (log $LOG/$t-fuzz.log)"
        grep -E 'ERROR|runtime error|Test unit written' "$LOG/$t-fuzz.log" | head -n 3
    fi
    echo "$t: $rep, $fz ($(( $(date +%s) - start ))s)"
done
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
