#!/bin/sh
# test_mpi.sh - `mpirun -np 2 tta ...` against one process (src/cli/dist.h): tta eval (two models,
# --calibrate, random baselines), tta search (and its prediction cache), tta detect eval and tta
# segment eval, on small data whose images do not split evenly over the ranks (1,101 images are
# chunks of 500 + 500 + 101: rank 0 runs 500, rank 1 601). Every output must equal the single
# process's byte for byte: JSON (timing fields masked), stdout (timing columns masked), policy
# files, the prediction cache, saved masks and COCO results. Then failures: a bad data spec
# (every rank says so and the job exits non-zero), a corrupt image that only rank 1 reads (rank
# 0 names rank 1 and both stop), and a command that does not run distributed; each under a
# timeout, so a hang fails. Skipped, not passed, when mpirun is missing or tta has no MPI.
# Usage: sh tests/cli/test_mpi.sh [path/to/tta]. Ends with "N passed, N failed, N skipped".

TTA=${1:-build/tta}
case "$TTA" in /*) ;; *) TTA="$PWD/$TTA" ;; esac
ROOT=$PWD
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0; SKIP=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }
N_CASES=22

skip_all() {
    echo "skipped: $1"
    echo "0 passed, 0 failed, $N_CASES skipped"
    exit 0
}
command -v mpirun > /dev/null 2>&1 || skip_all "mpirun not installed (scripts/setup.sh installs openmpi-bin)"
ldd "$TTA" 2> /dev/null | grep -q libmpi || skip_all "$TTA was built without MPI (libopenmpi-dev missing at build time)"
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || skip_all "Fashion-MNIST not installed"

# The flags this machine needs, and only those:
#   --allow-run-as-root  Open MPI refuses to start as root without it (tests run as root here);
#   --oversubscribe      lets 2 ranks start where Open MPI counts fewer than 2 slots (a 1-core
#                        machine); with 2 cores it changes nothing (each rank is bound to a core).
# Nothing else was needed on this machine (Debian 12, Open MPI 4.1, 2 cores, in a container):
# shared memory (the vader transport, with its single-copy mechanism) works here.
MPIRUN="mpirun -np 2 --oversubscribe"
[ "$(id -u)" = 0 ] && MPIRUN="$MPIRUN --allow-run-as-root"
# Under AddressSanitizer: Open MPI's own allocations that live until exit are not ours; they are
# suppressed by library (tests/cli/mpi_lsan.supp), which needs whole stacks (Open MPI is built
# without frame pointers: fast_unwind_on_malloc=0) and its plug-ins still loaded at exit
# (mca_base_component_disable_dlclose), else their frames are "<unknown module>". No effect on a
# build without ASan. Only the runs under mpirun get these.
MPIRUN="env LSAN_OPTIONS=suppressions=$ROOT/tests/cli/mpi_lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS} \
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0 OMPI_MCA_mca_base_component_disable_dlclose=1 $MPIRUN"
LIMIT=300 # seconds for one run: a hang fails the test instead of stopping make test

# run_both NAME ARGS...: the command in $TMP/one (plain) and $TMP/two (mpirun -np 2), with the
# same relative output paths; stdout, stderr and exit status kept in each folder.
run_both() {
    name=$1; shift
    mkdir -p "$TMP/one/$name" "$TMP/two/$name"
    (cd "$TMP/one/$name" && timeout $LIMIT "$TTA" "$@" > out.txt 2> err.txt; echo $? > rc)
    (cd "$TMP/two/$name" && timeout $LIMIT $MPIRUN "$TTA" "$@" > out.txt 2> err.txt; echo $? > rc)
}

# mask_json FILE: timing fields replaced by T
mask_json() { sed -E 's/"(seconds|search_seconds|model_seconds)": [0-9.]+/"\1": T/g' "$1"; }
# mask_table FILE HEADER: the last column (seconds) of the rows of the first table whose header
# line starts with HEADER, up to the next blank line; and "ran in X s"
mask_table() {
    awk -v h="$2" '!d && index($0, h) == 1 { t = d = 1; print; next } t && /^$/ { t = 0 } t { $NF = "T" } { print }' "$1" |
        sed -E -e 's/ran in [0-9.]+ s/ran in T s/' -e 's/scored in [0-9.]+ s/scored in T s/'
}

# same NAME WHAT A B: A and B (already masked, in files) are equal
same() {
    if cmp -s "$3" "$4"; then ok; else bad "$1: $2 differs between 1 process and 2 ranks:"; diff "$3" "$4" | head -n 10; fi
}

# compare NAME HEADER FILES...: both runs exited 0, then JSON and stdout masked, other files as they are
compare() {
    name=$1; header=$2; shift 2
    a=$TMP/one/$name; b=$TMP/two/$name
    if [ "$(cat "$a/rc")" != 0 ] || [ "$(cat "$b/rc")" != 0 ]; then
        bad "$name: exit $(cat "$a/rc") (1 process), $(cat "$b/rc") (2 ranks): $(tail -c 400 "$b/err.txt")"
        return
    fi
    mask_table "$a/out.txt" "$header" > "$a/out.m"; mask_table "$b/out.txt" "$header" > "$b/out.m"
    [ -s "$a/out.m" ] && same "$name" stdout "$a/out.m" "$b/out.m" || bad "$name: no stdout"
    for f in "$@"; do
        if [ ! -e "$a/$f" ] || [ ! -e "$b/$f" ]; then bad "$name: $f missing"; continue; fi
        case "$f" in
        *.json) mask_json "$a/$f" > "$a/$f.m"; mask_json "$b/$f" > "$b/$f.m"; same "$name" "$f" "$a/$f.m" "$b/$f.m" ;;
        *) if diff -r "$a/$f" "$b/$f" > /dev/null; then ok; else bad "$name: $f differs"; fi ;;
        esac
    done
}

# the first model from a deep folder: the progress label keeps " (rank 0's share)" whatever the
# checkout's path (a 96-character label once cut it off in a CI clone)
DEEP=$TMP/models/a-folder-name-long-enough/that-a-checkout-in-a-deep-place/does-not-cut-the-label
mkdir -p "$DEEP" && cp "$ROOT/models/fashion_tiny.onnx" "$DEEP/"
FM=$DEEP/fashion_tiny.onnx
FM2=$ROOT/models/fashion_small.onnx

# ---- tta eval: an ensemble of two models (two tables), a calibration split (a third), random views
run_both eval eval --model "$FM" --model "$FM2" --data "fashion-mnist:test[0:1101]" --policy seed --policy flip \
    --calibrate "fashion-mnist:val[0:700]" --random 2 --seed 5 --json e.json
compare eval "policy " e.json
grep -q "fashion_tiny.onnx on fashion-mnist:test\[0:1101\], [0-9]* views (rank 0's share)" "$TMP/two/eval/err.txt" && ok ||
    bad "eval: the ranks did not split the images (no \"rank 0's share\" for the first model)"

# ---- tta search: the prediction cache is rank 0's, and a second run reads every view from it
run_both search search --model "$FM" --val "fashion-mnist:val[0:1101]" --test "fashion-mnist:test[0:600]" \
    --budget 3 --pool small --boot 200 --cache c.bin -o p.txt --json s.json
compare search "(no timing column)" s.json p.txt c.bin
(cd "$TMP/two/search" && timeout $LIMIT $MPIRUN "$TTA" search --model "$FM" --val "fashion-mnist:val[0:1101]" \
    --test "fashion-mnist:test[0:600]" --budget 3 --pool small --boot 200 --cache c.bin -o p2.txt --json s2.json \
    > out2.txt 2> err2.txt)
grep -q "17 from the cache, 0 to run" "$TMP/two/search/err2.txt" && ok || bad "search: 2 ranks did not read the cache"
mask_json "$TMP/two/search/s2.json" | sed 's/p2\.txt/p.txt/' > "$TMP/s2.m"
same search "JSON from the cache" "$TMP/one/search/s.json.m" "$TMP/s2.m"

# ---- detection and segmentation mosaics: 299 images (256 + 43) and 75 (32 + 32 + 11)
"$TTA" data mosaic --split test --seed 3 --count 299 -q -o "$TMP/mos" > /dev/null 2>&1 || bad "mosaic"
run_both detect detect eval --model "$ROOT/models/detector.onnx" --data "coco:$TMP/mos" --policy none=identity \
    --policy flip=hflip --policy multiscale --boot 100 --json d.json --results-dir res
compare detect "policy " d.json res
run_both segment segment eval --model "$ROOT/models/segmenter.onnx" --data "masks:$TMP/mos[0:75]" --policy flip=hflip \
    --policy "shift(2, 0, wrap)" --boot 100 --json g.json --save-dir saved
compare segment "policy " g.json saved

# ---- failures, each within the time limit
# a bad data spec: every rank says so, the job exits non-zero, nothing is written
run_both badspec eval --model "$FM" --data "fashion-mnist:nosuch" --json never.json
[ "$(cat "$TMP/two/badspec/rc")" != 0 ] && [ "$(cat "$TMP/two/badspec/rc")" != 124 ] && ok ||
    bad "bad spec: exit $(cat "$TMP/two/badspec/rc") (124: timed out)"
[ "$(grep -c "nosuch" "$TMP/two/badspec/err.txt")" -ge 2 ] && ok || bad "bad spec: not both ranks said why: $(cat "$TMP/two/badspec/err.txt")"
[ ! -e "$TMP/two/badspec/never.json" ] && [ -z "$(ls "$TMP/two/badspec" | grep part)" ] && ok || bad "bad spec: wrote output"

# a corrupt image in rank 1's share only: rank 1 says what, rank 0 that rank 1 failed
good=$ROOT/tests/data/datasets/folder/ant/2.png
printf 'this is not an image' > "$TMP/bad.png"
awk -v g="$good" -v b="$TMP/bad.png" 'BEGIN { print "path,label"; for (i = 0; i < 600; i++) print (i == 550 ? b : g) ",1" }' \
    > "$TMP/list.txt"
(cd "$TMP" && timeout $LIMIT $MPIRUN "$TTA" eval --model "$FM" --data "list:$TMP/list.txt" --policy flip --json never.json \
    > out.txt 2> err.txt; echo $? > rc)
rc=$(cat "$TMP/rc")
[ "$rc" != 0 ] && [ "$rc" != 124 ] && ok || bad "corrupt image on rank 1: exit $rc (124: timed out)"
grep -q "bad.png: not a PNG or JPEG" "$TMP/err.txt" && grep -q "rank 1 of 2 failed" "$TMP/err.txt" && ok ||
    bad "corrupt image on rank 1: $(head -c 500 "$TMP/err.txt")"
[ ! -e "$TMP/never.json" ] && ok || bad "corrupt image on rank 1: wrote output"

# a command that does not split its work refuses to run under mpirun
(cd "$TMP" && timeout $LIMIT $MPIRUN "$TTA" info "$FM" > out.txt 2> err.txt; echo $? > rc)
[ "$(cat "$TMP/rc")" = 2 ] && grep -q "info: not split across MPI ranks" "$TMP/err.txt" && ok ||
    bad "info under mpirun: exit $(cat "$TMP/rc"): $(head -c 300 "$TMP/err.txt")"

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
