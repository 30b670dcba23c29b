# Makefile - builds libtta (static and shared), the `tta` command and the tests.
#
#   make          build/tta, build/libtta.a, build/libtta.so (the command with MPI when mpicc is
#                 there; MPI=0 without)
#   make demo     the main job on the shipped model and data
#   make test     every test (unit, conformance, whole models, CLI); ends "N passed, N failed"
#   make asan     the same build with AddressSanitizer and UBSan (float-to-int overflow included), in build-asan/
#   make bench    benchmarks (ours beside the anchor)
#   make install  PREFIX=/usr/local (DESTDIR too): lib/libtta.a, lib/libtta.so.VERSION (SONAME
#                 libtta.so.MAJOR), include/tta/*.h, lib/pkgconfig/tta.pc, bin/tta, man1/tta.1
#   make fuzz     libFuzzer targets (fuzz/, clang + ASan + UBSan, in build-fuzz/), each run for
#                 FUZZ_SECONDS (default 60); fails on any crash, leak, timeout or sanitizer report
#
# Generated code (protobuf-c from Debian's onnx.proto) goes to $(BUILD)/gen and is never
# committed.

BUILD ?= build
PREFIX ?= /usr/local
VERSION := $(shell sed -n 's/^\#define TTA_VERSION "\([0-9.]*\)".*/\1/p' include/tta/export.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
CC ?= cc
OPT ?= -O2
SAN ?=
CFLAGS ?= $(OPT) -g
ONNX_PROTO ?= /usr/include/onnx/onnx.proto

# The set-up targets build on every core unless the caller gave -j itself.
JOBS := $(if $(findstring -j,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1))

WARN := -Wall -Wextra -Wno-missing-field-initializers
# -fno-math-errno: nothing reads errno after a math call, and without it sqrt & co. stay libm
# calls inside loops that would otherwise vectorise.
# -fvisibility=hidden: libtta.so exports the public API (TTA_API, include/tta/export.h) and
# nothing else; the static library, the CLI and the tests link everything as before.
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -fopenmp -fno-math-errno $(WARN) $(CFLAGS) $(SAN) \
	-Iinclude -Isrc -I$(BUILD)/gen -MMD -MP
LDLIBS := -lprotobuf-c -ldnnl -lpng -ljpeg -lz -ljansson -lm
ALL_LDFLAGS := -fopenmp $(SAN) $(LDFLAGS)

# MPI, for the `tta` command only (src/cli/dist.c; the library never uses it): built in when
# Open MPI's mpicc is installed (scripts/setup.sh installs it), unless MPI=0. `mpirun -np K tta
# eval ...` then splits the images across K ranks. build/mpi.flags records the choice, so that
# turning it on or off rebuilds dist.o and relinks the command.
MPI ?= auto
ifneq ($(MPI),0)
MPI_CFLAGS := $(shell mpicc --showme:compile 2>/dev/null || pkg-config --cflags ompi-c 2>/dev/null)
MPI_LIBS := $(shell mpicc --showme:link 2>/dev/null || pkg-config --libs ompi-c 2>/dev/null)
endif
MPI_DEF := $(if $(MPI_LIBS),-DTTA_WITH_MPI $(MPI_CFLAGS))
MPI_STAMP := $(BUILD)/mpi.flags
$(shell mkdir -p $(BUILD) && (echo '$(MPI_DEF) $(MPI_LIBS)' | cmp -s - $(MPI_STAMP) || echo '$(MPI_DEF) $(MPI_LIBS)' > $(MPI_STAMP)))

# src/serve/http.c is the server's libmicrohttpd front end: linked into the `tta` command only,
# so that libtta itself does not depend on libmicrohttpd.
LIB_SRC := $(sort $(shell find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/serve/http.c'))
CLI_SRC := $(sort $(wildcard src/cli/*.c)) src/serve/http.c
HTTP_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
GEN_SRC := $(BUILD)/gen/onnx.pb-c.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/onnx.pb-c.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(filter-out tests/unit/test_main.c,$(TEST_SRC)))

.PHONY: all setup demo test asan bench clean format tests fuzz fuzz-build install
all: $(BUILD)/tta $(BUILD)/libtta.a $(BUILD)/libtta.so

setup:
	@sh scripts/setup.sh

$(BUILD)/gen/onnx.pb-c.c $(BUILD)/gen/onnx.pb-c.h: $(ONNX_PROTO)
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)

$(BUILD)/obj/gen/onnx.pb-c.o: $(BUILD)/gen/onnx.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -fPIC -fvisibility=hidden $(CFLAGS) $(SAN) -I$(BUILD)/gen -c $< -o $@

$(BUILD)/obj/%.o: %.c $(BUILD)/gen/onnx.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libtta.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libtta.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libtta.so.$(SOMAJOR) -o $@ $^ $(ALL_LDFLAGS) $(LDLIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/tta $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(BUILD)/libtta.a $(DESTDIR)$(PREFIX)/lib/libtta.a
	install -m 755 $(BUILD)/libtta.so $(DESTDIR)$(PREFIX)/lib/libtta.so.$(VERSION)
	ln -sf libtta.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libtta.so.$(SOMAJOR)
	ln -sf libtta.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libtta.so
	install -m 644 include/tta/*.h $(DESTDIR)$(PREFIX)/include/tta/
	install -m 755 $(BUILD)/tta $(DESTDIR)$(PREFIX)/bin/tta
	install -m 644 man/tta.1 $(DESTDIR)$(PREFIX)/share/man/man1/tta.1
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' tta.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/tta.pc

$(BUILD)/obj/src/cli/dist.o: ALL_CFLAGS += $(MPI_DEF)
$(BUILD)/obj/src/cli/dist.o: $(MPI_STAMP)

$(BUILD)/tta: $(CLI_OBJ) $(BUILD)/libtta.a $(MPI_STAMP)
	$(CC) -o $@ $(CLI_OBJ) $(BUILD)/libtta.a $(ALL_LDFLAGS) $(LDLIBS) $(HTTP_LIBS) $(MPI_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/obj/tests/unit/test_main.o $(BUILD)/libtta.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/obj/tests/unit/test_main.o $(BUILD)/libtta.a $(ALL_LDFLAGS) $(LDLIBS)

tests: $(TEST_BIN)

demo: setup
	@$(MAKE) $(JOBS) --no-print-directory all
	@sh scripts/demo.sh

test: setup
	@$(MAKE) $(JOBS) --no-print-directory all tests
	@$(MAKE) $(JOBS) --no-print-directory BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer" build-asan/tta tests
	@sh scripts/setup.sh $(FUZZ_PACKAGES) && $(MAKE) --no-print-directory fuzz-build || \
		echo "fuzz targets not built (clang or its fuzzer runtime missing): smoke test skipped"
	@sh scripts/setup.sh $(REPORT_PACKAGES) || \
		echo "chromium not installed: the browser test of the HTML reports will be skipped"
	@sh tests/run_all.sh

asan: setup
	@$(MAKE) $(JOBS) --no-print-directory BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer" build-asan/tta tests

bench: setup
	@$(MAKE) $(JOBS) --no-print-directory all
	@sh scripts/bench.sh

# Fuzzing: the library with clang, ASan and UBSan (UBSan fatal, so libFuzzer sees it) and
# fuzzer-no-link coverage, then one binary per fuzz/fuzz_*.c. Artefacts of failures go to
# build-fuzz/artifacts/, new corpus entries to build-fuzz/corpus/ (fuzz/corpus/ is the committed seed).
# -Wno-pass-failed: clang cannot vectorise every `omp simd` loop at -O1; -Wno-psabi: vectors passed
# by value to always_inline helpers (nn_norm.c), which never become calls.
FUZZ_SECONDS ?= 60
FUZZ_PACKAGES := clang libclang-rt-14-dev libomp-14-dev
# the browser that the test of the HTML reports opens them in (tests/report_browser.sh)
REPORT_PACKAGES := chromium
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_OPTS := -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 -print_final_stats=1

fuzz-build:
	@$(MAKE) $(JOBS) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="-O1 -g -Wno-pass-failed -Wno-psabi" \
		SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" build-fuzz/libtta.a
	@$(MAKE) $(JOBS) --no-print-directory $(FUZZ_TARGETS:%=build-fuzz/%)

build-fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h build-fuzz/libtta.a
	clang -std=c11 -D_GNU_SOURCE -O1 -g $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer -Iinclude -Isrc $< -o $@ \
		build-fuzz/libtta.a -fopenmp $(LDLIBS)

fuzz:
	@sh scripts/setup.sh $(FUZZ_PACKAGES)
	@$(MAKE) --no-print-directory fuzz-build
	@mkdir -p build-fuzz/artifacts
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus/$$t; \
		echo "== $$t for $(FUZZ_SECONDS) s (log build-fuzz/$$t.log)"; \
		d=fuzz/$${t#fuzz_}.dict; [ -f $$d ] && d=-dict=$$d || d=; \
		build-fuzz/$$t $(FUZZ_OPTS) $$d -artifact_prefix=build-fuzz/artifacts/$$t- \
			build-fuzz/corpus/$$t fuzz/corpus/$${t#fuzz_} > build-fuzz/$$t.log 2>&1 || \
			{ grep -E 'ERROR|runtime error|Test unit written' build-fuzz/$$t.log | head -n 5; echo "$$t: FAILED"; exit 1; }; \
		grep -E '^(Done|stat::number_of_executed_units)|cov:.*DONE' build-fuzz/$$t.log | tail -n 2; \
	done

format:
	clang-format -i $$(find src include tests fuzz -name '*.[ch]')

clean:
	rm -rf build build-asan build-fuzz build-tsan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
