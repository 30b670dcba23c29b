#!/bin/sh
# install_test.sh - the installable library, as a C programmer uses it: `make install` into
# build/install-test, then checks the tree (versioned shared library with its SONAME and links,
# static library, headers, tta.pc, the CLI, the man page), that libtta.so exports the public API
# and nothing else (every TTA_API declaration of include/tta, only tta_ names), and builds
# examples/classify.c against the installed library through pkg-config, shared and static, and
# runs it on the shipped classifier. Ends "N passed, N failed, N skipped".
cd "$(dirname "$0")/.." || exit 1
P=0; F=0; S=0
ok() { P=$((P + 1)); }
bad() { F=$((F + 1)); echo "FAIL $1"; }
PREFIX=$PWD/build/install-test
rm -rf "$PREFIX"
if ! make --no-print-directory install PREFIX="$PREFIX" > build/install-test.log 2>&1; then
    tail -n 5 build/install-test.log
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi
V=$(sed -n 's/^#define TTA_VERSION "\([0-9.]*\)".*/\1/p' include/tta/export.h)
M=${V%%.*}
for f in lib/libtta.a "lib/libtta.so.$V" include/tta/classify.h include/tta/export.h lib/pkgconfig/tta.pc bin/tta \
    share/man/man1/tta.1; do
    [ -f "$PREFIX/$f" ] && ok || bad "missing $f"
done
[ "$(readlink "$PREFIX/lib/libtta.so.$M")" = "libtta.so.$V" ] && [ "$(readlink "$PREFIX/lib/libtta.so")" = "libtta.so.$M" ] &&
    ok || bad "shared library links"
readelf -d "$PREFIX/lib/libtta.so.$V" | grep -q "SONAME.*\[libtta.so.$M\]" && ok || bad "SONAME libtta.so.$M"
# exports: exactly the TTA_API functions of the headers
nm -D --defined-only "$PREFIX/lib/libtta.so.$V" | awk '$2 == "T" {print $3}' | sort > build/install-exports.txt
ls include/tta/*.h | grep -v export.h | xargs cat | tr '\n' ' ' | grep -o 'TTA_API [^;(]*(' | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | sort -u > build/install-api.txt
if cmp -s build/install-exports.txt build/install-api.txt; then
    ok
    echo "libtta.so exports $(wc -l < build/install-exports.txt) functions, each declared TTA_API in include/tta"
else
    bad "exports differ from the TTA_API declarations: $(diff build/install-api.txt build/install-exports.txt | head -n 6 | tr '\n' ' ')"
fi
# the example, through pkg-config
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
IMG=$(ls tests/data/datasets/folder/*/*.png | head -n 1)
if command -v pkg-config > /dev/null 2>&1; then
    [ "$(pkg-config --modversion tta)" = "$V" ] && ok || bad "pkg-config --modversion"
    # shellcheck disable=SC2046
    if ${CC:-cc} -std=c11 -Wall -Wextra -Werror examples/classify.c $(pkg-config --cflags --libs tta) -lm \
        -o build/example-classify 2> build/example.err; then
        ok
        if LD_LIBRARY_PATH="$PREFIX/lib" build/example-classify models/fashion_cnn.onnx "$IMG" > build/example.out 2>&1 &&
            grep -q "cancels the model's left/right bias: yes" build/example.out &&
            grep -q "^libtta $V (headers $V)" build/example.out; then
            ok
        else
            bad "example (shared): $(head -c 300 build/example.out)"
        fi
        ldd build/example-classify | grep -q "libtta.so.$M => $PREFIX/lib" 2>/dev/null ||
            LD_LIBRARY_PATH="$PREFIX/lib" ldd build/example-classify | grep -q "libtta.so.$M => $PREFIX/lib" && ok ||
            bad "the example does not load the installed libtta.so.$M"
    else
        bad "example does not build against the installed library: $(head -c 300 build/example.err)"
    fi
    # shellcheck disable=SC2046
    if ${CC:-cc} -std=c11 examples/classify.c $(pkg-config --cflags tta) "$PREFIX/lib/libtta.a" \
        $(pkg-config --static --libs-only-other --libs-only-l tta | sed 's/-ltta//') -lm -o build/example-classify-static 2> build/example.err &&
        build/example-classify-static models/fashion_cnn.onnx "$IMG" > /dev/null 2>&1; then
        ok
    else
        bad "example, static: $(head -c 300 build/example.err)"
    fi
else
    S=$((S + 4))
    echo "pkg-config missing: example skipped"
fi
echo "$P passed, $F failed, $S skipped"
[ "$F" = 0 ]
