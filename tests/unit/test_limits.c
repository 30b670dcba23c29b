/* test_limits.c - unit tests of the limits that keep hostile sizes out: the checked arithmetic of
 * src/core/checked.h (element counts and byte sizes that would wrap), the saturating
 * tta_tensor_numel/nbytes, the memory-size syntax of --max-memory and TTA_MAX_MEMORY, and the
 * plan's memory limit (option, environment, default; every allocation counted, none over), and the
 * augmentation plan's bound on how much a transform may grow an image. */
#include <stdint.h>
#include <stdlib.h>

#include "core/checked.h"
#include "test.h"
#include "tta/augment.h"
#include "tta/runtime.h"
#include "tta/tensor_io.h"

#define MODELS "tests/data/models/"
#define HOSTILE "tests/data/hostile/"

TEST(checked_mul_and_add) {
    int64_t r;
    CHECK(!tta_mul_overflows(3, 4, &r));
    CHECK_EQ_INT(r, 12);
    CHECK(tta_mul_overflows((int64_t)1 << 62, 2, &r));
    CHECK(tta_mul_overflows(4, ((int64_t)1 << 62) + 1, &r)); /* the Tile repeat of finding M2 */
    CHECK(tta_mul_overflows(INT64_MIN, -1, &r));
    CHECK(!tta_mul_overflows(INT64_MAX, 1, &r));
    CHECK(!tta_mul_overflows(0, INT64_MAX, &r));
    CHECK_EQ_INT(r, 0);
    CHECK(tta_add_overflows(INT64_MAX, 1, &r));
    CHECK(tta_add_overflows(((int64_t)1 << 62) + 4, (int64_t)1 << 62, &r)); /* Pad 2^62 + 2^62 */
    CHECK(!tta_add_overflows(-5, 3, &r));
    CHECK_EQ_INT(r, -2);
}

TEST(checked_numel_and_nbytes) {
    int64_t n;
    /* Expand to [16 (2^20+1), 2^40-2^20+1]: the product is 16 modulo 2^64 */
    int64_t wrap16[2] = {16 * ((1 << 20) + 1), ((int64_t)1 << 40) - (1 << 20) + 1};
    CHECK(tta_numel_overflows(2, wrap16, &n));
    CHECK_EQ_INT(n, INT64_MAX);
    int64_t empty[3] = {((int64_t)1 << 40), 0, ((int64_t)1 << 40)}; /* empty, however large the rest */
    CHECK(!tta_numel_overflows(3, empty, &n));
    CHECK_EQ_INT(n, 0);
    int64_t neg[2] = {2, -1};
    CHECK(tta_numel_overflows(2, neg, &n));
    CHECK(!tta_numel_overflows(0, NULL, &n)); /* a scalar */
    CHECK_EQ_INT(n, 1);
    int64_t big[1] = {(int64_t)1 << 61};
    CHECK(!tta_numel_overflows(1, big, &n));
    CHECK(!tta_nbytes_overflows(1, big, 2, &n));
    CHECK_EQ_INT(n, (int64_t)1 << 62);
    CHECK(tta_nbytes_overflows(1, big, 4, &n)); /* 2^63 bytes */
    CHECK_EQ_INT(n, INT64_MAX);
}

TEST(tensor_sizes_saturate_and_resize_refuses) {
    tta_tensor t = {.dtype = TTA_DTYPE_FLOAT32, .ndim = 2, .dims = {(int64_t)1 << 40, (int64_t)1 << 40}};
    CHECK_EQ_INT(tta_tensor_numel(&t), INT64_MAX);
    CHECK(tta_tensor_nbytes(&t) == (size_t)INT64_MAX);
    tta_tensor u = {0};
    CHECK(tta_tensor_resize(&u, TTA_DTYPE_FLOAT32, 2, t.dims) == TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "[1099511627776,1099511627776] is too large");
    int64_t d[1] = {((int64_t)1 << 61) + 1}; /* the elements fit int64, the bytes do not */
    CHECK(tta_tensor_resize(&u, TTA_DTYPE_FLOAT32, 1, d) == TTA_ERR_SHAPE);
    CHECK(u.data == NULL && u.capacity == 0);
    tta_tensor_destroy(&u);
}

TEST(memory_size_syntax) {
    size_t v = 0;
    CHECK(tta_parse_memory_size("1024", &v) == TTA_OK);
    CHECK(v == 1024);
    CHECK(tta_parse_memory_size("8B", &v) == TTA_OK);
    CHECK(v == 8);
    CHECK(tta_parse_memory_size("1k", &v) == TTA_OK);
    CHECK(v == 1024);
    CHECK(tta_parse_memory_size("512M", &v) == TTA_OK);
    CHECK(v == (size_t)512 << 20);
    CHECK(tta_parse_memory_size("4G", &v) == TTA_OK);
    CHECK(v == (size_t)4 << 30);
    CHECK(tta_parse_memory_size("2GiB", &v) == TTA_OK);
    CHECK(v == (size_t)2 << 30);
    CHECK(tta_parse_memory_size("1T", &v) == TTA_OK);
    CHECK(v == (size_t)1 << 40);
    const char *bad[] = {"", "0", "0G", "-1", "12X", "4GG", "G", "1.5G", "4 G", "99999999999999999999",
                         "99999999999T"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(tta_parse_memory_size(bad[i], &v) == TTA_ERR_INVALID_ARG);
        CHECK_STR_CONTAINS(tta_last_error(), "bad memory size");
    }
    CHECK(tta_parse_memory_size(NULL, &v) == TTA_ERR_INVALID_ARG);
}

TEST(default_memory_limit) {
    size_t d = tta_default_max_memory();
    CHECK(d > 0);
    CHECK(d <= (size_t)4 << 30);
}

/* Plans conv_relu ([1,2,3,3] in) with the given limit, then runs it; returns the first failure. */
static tta_status plan_and_run(const tta_model *m, size_t limit) {
    float x[18] = {0};
    tta_tensor in = {.dtype = TTA_DTYPE_FLOAT32, .ndim = 4, .dims = {1, 2, 3, 3}, .data = x};
    tta_plan_options o = {.n_threads = 1, .max_memory = limit};
    tta_plan *p = NULL;
    tta_status st = tta_plan_new(m, &in, 1, &o, &p);
    if (!st) st = tta_plan_run(p, &in, 1);
    if (!st) st = tta_plan_run(p, &in, 1); /* steady state: nothing more to claim */
    tta_plan_free(p);
    return st;
}

TEST(plan_memory_limit_option) {
    tta_model *m = NULL;
    unsetenv("TTA_MAX_MEMORY");
    CHECK(tta_model_load(MODELS "conv_relu.onnx", NULL, &m) == TTA_OK);
    if (!m) return;
    CHECK(plan_and_run(m, 0) == TTA_OK); /* the default */
    CHECK(plan_and_run(m, (size_t)1 << 20) == TTA_OK);
    CHECK(plan_and_run(m, 8) == TTA_ERR_NOMEM);
    CHECK_STR_CONTAINS(tta_last_error(), "conv_relu.onnx: node 'conv'");
    CHECK_STR_CONTAINS(tta_last_error(), "output 'y' of shape [1,1,2,2] would have 4 elements (16 bytes)");
    CHECK_STR_CONTAINS(tta_last_error(), "more than the memory limit of 8 bytes");
    /* the smallest limit that works: one byte less fails (every allocation is counted once) */
    size_t lo = 1, hi = (size_t)1 << 20;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (plan_and_run(m, mid) == TTA_OK) hi = mid;
        else lo = mid + 1;
    }
    CHECK(lo >= 16);
    CHECK(plan_and_run(m, lo) == TTA_OK);
    CHECK(plan_and_run(m, lo - 1) == TTA_ERR_NOMEM);
    tta_model_free(m);
}

TEST(plan_memory_limit_environment) {
    tta_model *m = NULL;
    CHECK(tta_model_load(MODELS "conv_relu.onnx", NULL, &m) == TTA_OK);
    if (!m) return;
    setenv("TTA_MAX_MEMORY", "8", 1);
    CHECK(plan_and_run(m, 0) == TTA_ERR_NOMEM);
    CHECK_STR_CONTAINS(tta_last_error(), "memory limit of 8 bytes");
    CHECK(plan_and_run(m, (size_t)1 << 20) == TTA_OK); /* the option wins */
    setenv("TTA_MAX_MEMORY", "1M", 1);
    CHECK(plan_and_run(m, 0) == TTA_OK);
    setenv("TTA_MAX_MEMORY", "plenty", 1);
    CHECK(plan_and_run(m, 0) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "TTA_MAX_MEMORY: bad memory size 'plenty'");
    unsetenv("TTA_MAX_MEMORY");
    tta_model_free(m);
}

/* The hostile models of tests/data/hostile, through the API: refused at plan time, nothing big
 * allocated. */
static tta_status plan_hostile(const char *name, int ndim, const int64_t *dims) {
    tta_model *m = NULL;
    tta_status st = tta_model_load(name, NULL, &m);
    if (st) return st;
    float x[16] = {0};
    tta_tensor in = {.dtype = TTA_DTYPE_FLOAT32, .ndim = ndim, .data = x};
    for (int i = 0; i < ndim; i++) in.dims[i] = dims[i];
    tta_plan *p = NULL;
    st = tta_plan_new(m, &in, 1, NULL, &p);
    if (!st) st = tta_plan_run(p, &in, 1);
    tta_plan_free(p);
    tta_model_free(m);
    return st;
}

TEST(plan_refuses_hostile_sizes) {
    unsetenv("TTA_MAX_MEMORY");
    int64_t d1[1] = {1}, d4[1] = {4}, d11[2] = {1, 1};
    CHECK(plan_hostile(HOSTILE "constantofshape_2pow31.onnx", 1, d1) == TTA_ERR_NOMEM);
    CHECK_STR_CONTAINS(tta_last_error(), "(8589934592 bytes), more than the memory limit");
    CHECK(plan_hostile(HOSTILE "expand_numel_wrap.onnx", 2, d11) == TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "would have more elements than int64 counts");
    CHECK(plan_hostile(HOSTILE "tile_repeats_overflow.onnx", 1, d4) == TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "overflows int64");
}

/* A transform may grow the image to at most 64 times its input's pixels (or 4 M pixels): the
 * fuzzer's resize(10556) of a 12x10 image before an 8x9 output once took 100 s; it is now refused
 * at plan time, naming the view and the transform. Real growth stays allowed: resize(800%) of
 * 28x28 (64 times), anything up to 4 M pixels, and the final resize to any output size. */
TEST(augment_plan_refuses_runaway_growth) {
    struct {
        const char *policy;
        int in_h, in_w, out_h, out_w, ok;
    } cases[] = {
        {"resize(10556)", 12, 10, 8, 9, 0},
        {"resize(9450) > resize(8)", 12, 10, 0, 0, 0},
        {"resize(800%)", 28, 28, 0, 0, 1},
        {"resize(2000)", 12, 10, 0, 0, 1},      /* 2000 x 1667: under 4 M pixels */
        {"hflip", 12, 10, 2048, 2048, 1},        /* the final resize is exempt */
        {"resize(125%)", 6000, 8000, 0, 0, 1},   /* a 48 M-pixel photo grown by 1.56 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tta_policy pol;
        CHECK_EQ_INT(tta_policy_parse(&pol, cases[i].policy, NULL), TTA_OK);
        tta_aug_plan *plan = NULL;
        tta_status st = tta_aug_plan_new(&plan, &pol, cases[i].in_h, cases[i].in_w, cases[i].out_h, cases[i].out_w);
        if (cases[i].ok) {
            CHECK_EQ_INT(st, TTA_OK);
        } else {
            CHECK_EQ_INT(st, TTA_ERR_INVALID_ARG);
            CHECK_STR_CONTAINS(tta_last_error(), "at most 64 times the input's pixels");
            CHECK_STR_CONTAINS(tta_last_error(), "view 1: resize(");
        }
        tta_aug_plan_free(plan);
        tta_policy_destroy(&pol);
    }
}
