/* test_core.c - unit tests of the core and I/O layers and the loader's robustness: tensor
 * buffers, the allocation hook (counting and failing), .npy and .pb round trips, tolerance
 * comparison, every truncation of a model file, and failed allocations during load. */
#include <unistd.h>

#include "core/alloc.h"
#include "core/file_key.h"
#include "core/file_out.h"
#include "core/tensor_compare.h"
#include "test.h"
#include "tta/runtime.h"
#include "tta/tensor_io.h"

#define MODELS "tests/data/models/"

TEST(tensor_resize_reuses_buffer) {
    tta_tensor t = {0};
    int64_t big[2] = {4, 8}, small[2] = {2, 3};
    CHECK(tta_tensor_resize(&t, TTA_DTYPE_FLOAT32, 2, big) == TTA_OK);
    void *p = t.data;
    CHECK_EQ_INT(t.capacity, 128);
    CHECK(tta_tensor_resize(&t, TTA_DTYPE_INT32, 2, small) == TTA_OK);
    CHECK(t.data == p);
    CHECK_EQ_INT(tta_tensor_numel(&t), 6);
    CHECK_EQ_INT(tta_tensor_nbytes(&t), 24);
    char buf[64];
    CHECK(!strcmp(tta_shape_str(&t, buf, sizeof buf), "[2,3]"));
    int64_t neg[1] = {-1};
    CHECK(tta_tensor_resize(&t, TTA_DTYPE_FLOAT32, 1, neg) == TTA_ERR_SHAPE);
    CHECK(tta_tensor_resize(&t, TTA_DTYPE_STRING, 1, small) == TTA_ERR_UNSUPPORTED);
    int64_t huge[3] = {1LL << 40, 1LL << 40, 1LL << 40};
    CHECK(tta_tensor_resize(&t, TTA_DTYPE_FLOAT32, 3, huge) == TTA_ERR_SHAPE);
    tta_tensor_destroy(&t);
    CHECK(t.data == NULL && t.capacity == 0);
}

TEST(dtype_facts) {
    CHECK_EQ_INT(tta_dtype_size(TTA_DTYPE_FLOAT32), 4);
    CHECK_EQ_INT(tta_dtype_size(TTA_DTYPE_INT64), 8);
    CHECK_EQ_INT(tta_dtype_size(TTA_DTYPE_BOOL), 1);
    CHECK_EQ_INT(tta_dtype_size(TTA_DTYPE_FLOAT16), 2);
    CHECK_EQ_INT(tta_dtype_size(TTA_DTYPE_STRING), 0);
    CHECK(!strcmp(tta_dtype_name(TTA_DTYPE_UINT8), "uint8"));
}

/* ---- allocation hook: a counting allocator that can fail the n-th allocation */
static long n_allocs, fail_at = -1;
static void *counting_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    if (!ptr) {
        if (fail_at >= 0 && n_allocs == fail_at) {
            n_allocs++;
            return NULL;
        }
        n_allocs++;
    }
    return realloc(ptr, size);
}
static void counting_free(void *user, void *ptr) {
    (void)user;
    free(ptr);
}

TEST(alloc_hook_counts) {
    tta_allocator a = {counting_realloc, counting_free, NULL};
    n_allocs = 0;
    fail_at = -1;
    tta_set_allocator(&a);
    void *p = tta_malloc(10);
    char *s = tta_strdup("abc");
    CHECK_EQ_INT(n_allocs, 2);
    tta_free(p);
    tta_free(s);
    tta_set_allocator(NULL);
}

TEST(model_load_survives_every_failed_allocation) {
    void *buf;
    size_t size;
    CHECK(tta_read_file(MODELS "conv_relu.onnx", &buf, &size) == TTA_OK);
    tta_allocator a = {counting_realloc, counting_free, NULL};
    tta_set_allocator(&a);
    n_allocs = 0;
    fail_at = -1;
    tta_model *m = NULL;
    CHECK(tta_model_load_buffer(buf, size, "conv_relu", NULL, &m) == TTA_OK);
    tta_model_free(m);
    long total = n_allocs;
    CHECK(total > 10);
    int nomem = 0;
    for (long k = 0; k < total; k++) {
        n_allocs = 0;
        fail_at = k;
        m = NULL;
        tta_status st = tta_model_load_buffer(buf, size, "conv_relu", NULL, &m);
        if (st == TTA_OK) tta_model_free(m); /* protobuf-c's own allocations do not use the hook */
        else nomem += st == TTA_ERR_NOMEM;
        CHECK(st == TTA_OK || st == TTA_ERR_NOMEM);
        CHECK(st != TTA_OK || m != NULL);
    }
    CHECK(nomem > 0);
    tta_set_allocator(NULL);
    fail_at = -1;
    free(buf);
}

TEST(model_load_every_truncation_fails_cleanly) {
    void *buf;
    size_t size;
    CHECK(tta_read_file(MODELS "conv_relu.onnx", &buf, &size) == TTA_OK);
    int failures = 0;
    for (size_t n = 0; n < size; n++) {
        tta_model *m = (tta_model *)1;
        tta_status st = tta_model_load_buffer(buf, n, "cut", NULL, &m);
        if (st != TTA_OK) {
            failures++;
            CHECK(m == NULL);
            CHECK(tta_last_error()[0] != '\0');
        } else {
            tta_model_free(m); /* a prefix can be a valid smaller model */
        }
    }
    CHECK(failures > (int)size / 2);
    free(buf);
}

TEST(model_info_and_metadata) {
    tta_model *m;
    CHECK(tta_model_load(MODELS "conv_relu.onnx", NULL, &m) == TTA_OK);
    if (!m) return;
    CHECK_EQ_INT(tta_model_n_inputs(m), 1);
    CHECK_EQ_INT(tta_model_n_outputs(m), 1);
    tta_io_info io;
    CHECK(tta_model_input(m, 0, &io) == TTA_OK);
    CHECK(!strcmp(io.name, "x"));
    CHECK_EQ_INT(io.ndim, 4);
    CHECK_EQ_INT(io.dims[0], -1);
    CHECK(io.dim_names[0] && !strcmp(io.dim_names[0], "batch"));
    CHECK_EQ_INT(io.dims[1], 2);
    CHECK(tta_model_input(m, 1, &io) == TTA_ERR_INVALID_ARG);
    const char *note = tta_model_metadata(m, "tta.note");
    CHECK(note && !strcmp(note, "hand-built test model"));
    CHECK(tta_model_metadata(m, "nope") == NULL);
    tta_model_stats s;
    tta_model_stats_get(m, &s);
    CHECK_EQ_INT(s.n_nodes, 1); /* Conv + Relu fused by the rewrites */
    tta_model_free(m);
    tta_model_options no = {.no_rewrites = 1};
    CHECK(tta_model_load(MODELS "conv_relu.onnx", &no, &m) == TTA_OK);
    if (!m) return;
    tta_model_stats_get(m, &s);
    CHECK_EQ_INT(s.n_parameters, 9);
    CHECK_EQ_INT(s.n_nodes, 2);
    tta_model_free(m);
}

TEST(npy_round_trip_all_dtypes) {
    tta_dtype types[] = {TTA_DTYPE_FLOAT32, TTA_DTYPE_FLOAT64, TTA_DTYPE_UINT8, TTA_DTYPE_INT8, TTA_DTYPE_INT32,
                         TTA_DTYPE_INT64, TTA_DTYPE_BOOL};
    char path[] = "/tmp/tta_test_npy_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        for (int nd = 0; nd <= 3; nd++) {
            tta_tensor t = {0}, u = {0};
            int64_t dims[3] = {2, 3, 5};
            CHECK(tta_tensor_resize(&t, types[k], nd, dims) == TTA_OK);
            unsigned char *b = t.data;
            for (size_t i = 0; i < tta_tensor_nbytes(&t); i++) b[i] = (unsigned char)(i * 37 + 1);
            if (types[k] == TTA_DTYPE_BOOL)
                for (size_t i = 0; i < tta_tensor_nbytes(&t); i++) b[i] &= 1;
            CHECK(tta_tensor_write_npy(path, &t) == TTA_OK);
            CHECK(tta_tensor_read_npy(path, &u) == TTA_OK);
            CHECK(u.dtype == t.dtype);
            CHECK_EQ_INT(u.ndim, nd);
            CHECK(tta_tensor_allclose(&u, &t, 0, 0, NULL, 0));
            tta_tensor_destroy(&t);
            tta_tensor_destroy(&u);
        }
    }
    unlink(path);
}

TEST(npy_reads_numpy_written_file) {
    tta_tensor t = {0};
    CHECK(tta_tensor_read_npy("tests/data/conv_relu_input.npy", &t) == TTA_OK);
    CHECK(t.dtype == TTA_DTYPE_FLOAT32);
    CHECK_EQ_INT(t.ndim, 4);
    CHECK_EQ_INT(t.dims[1], 2);
    CHECK_NEAR(((float *)t.data)[0], -2.0, 0); /* ((0+0+0+0) % 9 - 4) / 2 */
    CHECK_NEAR(((float *)t.data)[5], 0.5, 0);  /* i=1, j=2: (3+2) % 9 - 4 = 1 -> 0.5 */
    tta_tensor_destroy(&t);
}

TEST(pb_round_trip_and_errors) {
    char path[] = "/tmp/tta_test_pb_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    tta_tensor t = {0}, u = {0};
    int64_t dims[2] = {3, 4};
    CHECK(tta_tensor_resize(&t, TTA_DTYPE_INT64, 2, dims) == TTA_OK);
    for (int i = 0; i < 12; i++) ((int64_t *)t.data)[i] = (int64_t)i * -1000000007LL;
    CHECK(tta_tensor_write_pb(path, &t, "ids") == TTA_OK);
    char *name = NULL;
    CHECK(tta_tensor_read_pb(path, &u, &name) == TTA_OK);
    CHECK(name && !strcmp(name, "ids"));
    tta_free(name);
    CHECK(tta_tensor_allclose(&u, &t, 0, 0, NULL, 0));
    tta_tensor_destroy(&u);
    /* truncation: every prefix fails cleanly or yields a smaller valid message */
    FILE *f = fopen(path, "rb");
    unsigned char buf[512];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t k = 1; k < n; k++) {
        f = fopen(path, "wb");
        fwrite(buf, 1, k, f);
        fclose(f);
        tta_status st = tta_tensor_read_pb(path, &u, NULL);
        CHECK(st == TTA_OK || st == TTA_ERR_PARSE);
        tta_tensor_destroy(&u);
    }
    CHECK(tta_tensor_read_pb("/nonexistent/x.pb", &u, NULL) == TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "/nonexistent/x.pb");
    tta_tensor_destroy(&t);
    unlink(path);
}

TEST(allclose_rule) {
    float a[3] = {1.0f, NAN, 100.0f}, b[3] = {1.0005f, NAN, 100.05f};
    tta_tensor ta = {TTA_DTYPE_FLOAT32, 1, {3}, a, 0}, tb = {TTA_DTYPE_FLOAT32, 1, {3}, b, 0};
    char why[128];
    CHECK(tta_tensor_allclose(&ta, &tb, 1e-3, 1e-7, why, sizeof why));
    b[2] = 100.15f; /* |diff| = 0.15 > 1e-7 + 0.10015 */
    CHECK(!tta_tensor_allclose(&ta, &tb, 1e-3, 1e-7, why, sizeof why));
    CHECK_STR_CONTAINS(why, "element 2");
    tb.dims[0] = 2;
    CHECK(!tta_tensor_allclose(&ta, &tb, 1e-3, 1e-7, why, sizeof why));
    CHECK_STR_CONTAINS(why, "shape");
}

/* Multiply-adds of a plan, against the count by hand from the shipped classifier's card: five
 * 3x3 convolutions 1->32 and 32->32 at 28x28, 32->64 and 64->64 at 14x14, 64->128 at 7x7, then a
 * 128 x 10 Gemm: 225,792 + 7,225,344 + 3,612,672 + 7,225,344 + 3,612,672 + 1,280 per image. */
TEST(plan_multiply_adds_by_hand) {
    tta_model *m = NULL;
    CHECK_EQ_INT(tta_model_load("models/fashion_cnn.onnx", NULL, &m), TTA_OK);
    if (!m) return;
    for (int batch = 1; batch <= 3; batch += 2) {
        tta_tensor x = {0};
        int64_t dims[4] = {batch, 1, 28, 28};
        tta_tensor_resize(&x, TTA_DTYPE_UINT8, 4, dims);
        memset(x.data, 0, tta_tensor_nbytes(&x));
        tta_plan *p = NULL;
        CHECK_EQ_INT(tta_plan_new(m, &x, 1, NULL, &p), TTA_OK);
        CHECK(p && tta_plan_multiply_adds(p) == 21903104.0 * batch);
        tta_plan_free(p);
        tta_tensor_destroy(&x);
    }
    CHECK(tta_plan_multiply_adds(NULL) == 0);
    tta_model_free(m);
}

/* Files are written whole or not at all (core/file_out.h): a finished write replaces the old
 * file, an abandoned one leaves it as it was, and no PATH.part stays behind either way. */
static int file_text_is(const char *path, const char *want) {
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(want) && !memcmp(buf, want, n);
}

TEST(file_out_whole_or_not_at_all) {
    char path[256], part[264];
    snprintf(path, sizeof path, "/tmp/tta_file_out_%d.txt", (int)getpid());
    snprintf(part, sizeof part, "%s.part", path);
    remove(path);
    tta_file_out o;
    CHECK_EQ_INT(tta_file_out_open(&o, path, "w"), TTA_OK);
    fputs("first", o.f);
    CHECK(access(path, F_OK) != 0); /* nothing at PATH until the write is whole */
    CHECK_EQ_INT(tta_file_out_finish(&o, 1), TTA_OK);
    CHECK(file_text_is(path, "first"));
    CHECK(access(part, F_OK) != 0);
    CHECK_EQ_INT(tta_file_out_open(&o, path, "w"), TTA_OK);
    fputs("sec", o.f); /* a write that fails half-way */
    CHECK_EQ_INT(tta_file_out_finish(&o, 0), TTA_OK);
    CHECK(file_text_is(path, "first")); /* the old file, untouched */
    CHECK(access(part, F_OK) != 0);
    CHECK_EQ_INT(tta_file_out_open(&o, "/nonexistent-dir/x.txt", "w"), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "/nonexistent-dir/x.txt: cannot create");
    remove(path);
}

/* Planning and running under allocation failure: every allocation of tta_plan_new and
 * tta_plan_run made to fail in turn gives an error (out of memory, named), never a crash, and
 * leaves nothing behind (the ASan build of this test checks leaks at exit). A small ResNet of the
 * test models (convolutions, pooling, residual adds, Gemm). */
TEST(plan_and_run_survive_every_failed_allocation) {
    tta_model *m = NULL;
    CHECK_EQ_INT(tta_model_load("tests/models/resnet_tiny_op13/model.onnx", NULL, &m), TTA_OK);
    if (!m) return;
    tta_tensor x = {0};
    int64_t dims[4] = {2, 3, 32, 32};
    tta_tensor_resize(&x, TTA_DTYPE_FLOAT32, 4, dims);
    for (int64_t i = 0; i < tta_tensor_numel(&x); i++) ((float *)x.data)[i] = (float)(i % 17) / 17.0f;
    tta_allocator a = {counting_realloc, counting_free, NULL};
    tta_set_allocator(&a);
    n_allocs = 0;
    fail_at = -1;
    tta_plan *p = NULL;
    tta_plan_options po = {.n_threads = 1};
    CHECK_EQ_INT(tta_plan_new(m, &x, 1, &po, &p), TTA_OK);
    CHECK_EQ_INT(tta_plan_run(p, &x, 1), TTA_OK);
    tta_plan_free(p);
    long total = n_allocs;
    CHECK(total > 20);
    int failures = 0;
    for (long k = 0; k < total; k++) {
        n_allocs = 0;
        fail_at = k;
        p = NULL;
        tta_status st = tta_plan_new(m, &x, 1, &po, &p);
        if (st == TTA_OK) st = tta_plan_run(p, &x, 1);
        if (st != TTA_OK) {
            failures++;
            CHECK(st == TTA_ERR_NOMEM || st == TTA_ERR_INTERNAL || st == TTA_ERR_UNSUPPORTED);
            CHECK(tta_last_error()[0] != '\0');
        }
        tta_plan_free(p);
    }
    CHECK(failures > total / 2);
    tta_set_allocator(NULL);
    fail_at = -1;
    if (getenv("TTA_TEST_VERBOSE")) fprintf(stderr, "  %ld allocations, %d failed cleanly\n", total, failures);
    tta_tensor_destroy(&x);
    tta_model_free(m);
}
