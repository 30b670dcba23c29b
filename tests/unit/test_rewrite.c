/* test_rewrite.c - the graph rewrites: BatchNorm folding and activation fusion fire where they
 * should (operator counts before and after), and the rewritten graph computes the same outputs
 * as the graph as written and as PyTorch (the whole-model reference data). */
#include "core/tensor_compare.h"
#include "test.h"
#include "tta/runtime.h"
#include "tta/tensor_io.h"

static int count_op(const tta_model *m, const char *op) {
    const char *ops[64];
    int counts[64];
    int n = tta_model_op_counts(m, ops, counts, 64);
    for (int i = 0; i < n; i++)
        if (!strcmp(ops[i], op)) return counts[i];
    return 0;
}

static void run_both(const char *dir, const char *op_gone, int left, int expect_fused_min) {
    char path[512];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    tta_model *plain = NULL, *opt = NULL;
    tta_model_options no = {.no_rewrites = 1};
    CHECK(tta_model_load(path, &no, &plain) == TTA_OK);
    CHECK(tta_model_load(path, NULL, &opt) == TTA_OK);
    if (!plain || !opt) return;
    if (op_gone) {
        CHECK(count_op(plain, op_gone) > left);
        CHECK_EQ_INT(count_op(opt, op_gone), left);
    }
    CHECK(count_op(opt, "FusedConv") >= expect_fused_min);
    CHECK_EQ_INT(count_op(plain, "FusedConv"), 0);
    tta_tensor in = {0}, ref = {0};
    snprintf(path, sizeof path, "%s/test_data_set_1/input_0.pb", dir);
    CHECK(tta_tensor_read_pb(path, &in, NULL) == TTA_OK);
    snprintf(path, sizeof path, "%s/test_data_set_1/output_0.pb", dir);
    CHECK(tta_tensor_read_pb(path, &ref, NULL) == TTA_OK);
    tta_plan *pp = NULL, *po = NULL;
    CHECK(tta_plan_new(plain, &in, 1, NULL, &pp) == TTA_OK);
    CHECK(tta_plan_new(opt, &in, 1, NULL, &po) == TTA_OK);
    if (pp && po) {
        CHECK(tta_plan_run(pp, &in, 1) == TTA_OK);
        CHECK(tta_plan_run(po, &in, 1) == TTA_OK);
        char why[256];
        CHECK(tta_tensor_allclose(tta_plan_output(po, 0), tta_plan_output(pp, 0), 1e-4, 1e-5, why, sizeof why));
        CHECK(tta_tensor_allclose(tta_plan_output(po, 0), &ref, 1e-3, 1e-7, why, sizeof why));
    }
    tta_plan_free(pp);
    tta_plan_free(po);
    tta_tensor_destroy(&in);
    tta_tensor_destroy(&ref);
    tta_model_free(plain);
    tta_model_free(opt);
}

/* resnet_tiny keeps one BatchNormalization that follows no Conv (bn_final) */
TEST(resnet_batchnorm_folded_and_relu_fused) { run_both("tests/models/resnet_tiny_op13", "BatchNormalization", 1, 4); }
TEST(unet_batchnorm_folded) { run_both("tests/models/unet_tiny_op17", "BatchNormalization", 0, 4); }
/* Clip's bounds come from Constant nodes, inlined first */
TEST(mobilenet_clip_fused) { run_both("tests/models/mobilenetv2_tiny_op13", "Clip", 0, 4); }
TEST(yolo_leaky_relu_fused) { run_both("tests/models/yolo_tiny_op13", NULL, 0, 1); }
/* opset 17 exports SiLU as Sigmoid + Mul: three of the five Sigmoids are Conv -> SiLU */
TEST(yolo_silu_fused) { run_both("tests/models/yolo_tiny_op17", "Sigmoid", 2, 4); }

/* Steps of a plan (after fusion and layout conversion) running op_type. */
static int count_steps(const tta_plan *p, const char *op) {
    int n = 0;
    for (int i = 0; i < tta_plan_n_steps(p); i++) {
        tta_step_info s;
        if (tta_plan_step_info(p, i, &s) == TTA_OK && !strcmp(s.op_type, op)) n++;
    }
    return n;
}

/* Residual connections: Conv -> Add(R) -> Relu becomes one FusedConv step at plan time, where
 * R's shape is known; the outputs still match PyTorch's (run_both). Without rewrites the plan
 * keeps the Adds. */
TEST(resnet_residual_add_fused_in_plan) {
    run_both("tests/models/resnet_tiny_op17", NULL, 0, 4);
    tta_model *plain = NULL, *opt = NULL;
    tta_model_options no = {.no_rewrites = 1};
    CHECK(tta_model_load("tests/models/resnet_tiny_op17/model.onnx", &no, &plain) == TTA_OK);
    CHECK(tta_model_load("tests/models/resnet_tiny_op17/model.onnx", NULL, &opt) == TTA_OK);
    tta_tensor in = {0};
    CHECK(tta_tensor_read_pb("tests/models/resnet_tiny_op17/test_data_set_1/input_0.pb", &in, NULL) == TTA_OK);
    tta_plan *pp = NULL, *po = NULL;
    if (plain && opt) {
        CHECK(tta_plan_new(plain, &in, 1, NULL, &pp) == TTA_OK);
        CHECK(tta_plan_new(opt, &in, 1, NULL, &po) == TTA_OK);
    }
    if (pp && po) {
        CHECK_EQ_INT(count_steps(pp, "Add"), 3);
        CHECK_EQ_INT(count_steps(po, "Add"), 0);
        CHECK_EQ_INT(count_steps(po, "Relu"), 0);
        CHECK_EQ_INT(count_steps(pp, "FusedConv"), 0);
        CHECK(count_steps(po, "FusedConv") >= 7);
    }
    tta_plan_free(pp);
    tta_plan_free(po);
    tta_model_free(plain);
    tta_model_free(opt);
    tta_tensor_destroy(&in);
}

/* The plan options that replace the environment switches: no_blocked leaves no layout
 * conversion (Reorder) step, no_winograd changes no result beyond the ONNX tolerance. */
TEST(plan_options_no_blocked_and_no_winograd) {
    tta_model *m = NULL;
    CHECK(tta_model_load("tests/models/resnet_tiny_op17/model.onnx", NULL, &m) == TTA_OK);
    tta_tensor in = {0};
    CHECK(tta_tensor_read_pb("tests/models/resnet_tiny_op17/test_data_set_1/input_0.pb", &in, NULL) == TTA_OK);
    if (!m || !in.data) return;
    tta_plan *def = NULL, *plain = NULL, *nowino = NULL;
    tta_plan_options o_plain = {.no_blocked = 1}, o_nowino = {.no_winograd = 1};
    CHECK(tta_plan_new(m, &in, 1, NULL, &def) == TTA_OK);
    CHECK(tta_plan_new(m, &in, 1, &o_plain, &plain) == TTA_OK);
    CHECK(tta_plan_new(m, &in, 1, &o_nowino, &nowino) == TTA_OK);
    if (def && plain && nowino) {
        CHECK(count_steps(def, "Reorder") >= 1);
        CHECK_EQ_INT(count_steps(plain, "Reorder"), 0);
        CHECK(tta_plan_run(def, &in, 1) == TTA_OK);
        CHECK(tta_plan_run(plain, &in, 1) == TTA_OK);
        CHECK(tta_plan_run(nowino, &in, 1) == TTA_OK);
        char why[256];
        CHECK(tta_tensor_allclose(tta_plan_output(plain, 0), tta_plan_output(def, 0), 1e-3, 1e-5, why, sizeof why));
        CHECK(tta_tensor_allclose(tta_plan_output(nowino, 0), tta_plan_output(def, 0), 1e-3, 1e-5, why, sizeof why));
    }
    tta_plan_free(def);
    tta_plan_free(plain);
    tta_plan_free(nowino);
    tta_model_free(m);
    tta_tensor_destroy(&in);
}
