#!/bin/sh
# run.sh - the thread-safety test of `make test`: the library built with ThreadSanitizer in
# build-tsan/ (`make` with SAN=-fsanitize=thread), tests/tsan/test_threads.c built against it and
# run (one shared model, a plan and a classifier per thread, results equal to the single-thread
# run, no race reported), then the same program built with -DSHARED_PLAN, one plan run by every
# thread, which breaks the documented rule and must be reported as a data race: proof that the
# check can fail. Ends "N passed, N failed, N skipped"; skipped where the compiler cannot build
# with -fsanitize=thread.
cd "$(dirname "$0")/../.." || exit 1
B=build-tsan
SAN="-fsanitize=thread -fno-omit-frame-pointer"
LIBS="-lprotobuf-c -ldnnl -lpng -ljpeg -lz -ljansson -lm -lpthread"
if ! echo 'int main(void){return 0;}' | ${CC:-cc} -x c - -fsanitize=thread -o /tmp/tta_tsan_probe.$$ 2>/dev/null; then
    echo "ThreadSanitizer is not available: skipped"
    echo "0 passed, 0 failed, 2 skipped"
    exit 0
fi
rm -f /tmp/tta_tsan_probe.$$
mkdir -p $B
make --no-print-directory -j2 BUILD=$B OPT=-O1 SAN="$SAN" $B/libtta.a > $B/make.log 2>&1 || {
    tail -n 20 $B/make.log
    echo "0 passed, 2 failed"
    exit 1
}
P=0; F=0
${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 -g $SAN -fopenmp -Iinclude tests/tsan/test_threads.c $B/libtta.a $LIBS \
    -o $B/test_threads &&
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -DSHARED_PLAN -O1 -g $SAN -fopenmp -Iinclude tests/tsan/test_threads.c \
        $B/libtta.a $LIBS -o $B/test_threads_shared || { echo "0 passed, 2 failed"; exit 1; }
if TSAN_OPTIONS="halt_on_error=1 exitcode=66" $B/test_threads > $B/threads.log 2>&1; then
    P=$((P + 1))
    echo "threads: $(tail -n 1 $B/threads.log), no race reported"
else
    F=$((F + 1))
    echo "FAIL threads:"
    grep -E 'WARNING: ThreadSanitizer|FAIL|^ +#[0-3] ' $B/threads.log | head -n 12
fi
TSAN_OPTIONS="halt_on_error=1 exitcode=66" $B/test_threads_shared > $B/shared.log 2>&1
if grep -q 'WARNING: ThreadSanitizer: data race' $B/shared.log; then
    P=$((P + 1))
    echo "negative control (one plan shared by every thread): the race is reported"
else
    F=$((F + 1))
    echo "FAIL negative control: sharing one plan between threads was not reported as a race"
fi
echo "$P passed, $F failed, 0 skipped"
[ "$F" = 0 ]
