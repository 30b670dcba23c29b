/* classify.c - an example of libtta's public API, built against the installed library:
 *
 *     cc classify.c $(pkg-config --cflags --libs tta) -o classify
 *     ./classify MODEL.onnx IMAGE.png ["POLICY"]
 *
 * 1. An ONNX classifier with test-time augmentation: load the model, parse a policy, read the
 *    image, and print the merged top class with each view's vote.
 * 2. The same TTA around a model of the user's own, through the callback interface: here a
 *    two-class "model" in plain C that tells whether the image is brighter on its left or its
 *    right half; with hflip among the views, its merged answer is exactly 50/50 (the mirror
 *    view says the opposite), which the program checks.
 * Exit status 0 when both parts ran. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tta/classify.h>
#include <tta/image.h>
#include <tta/runtime.h>

static int fail(const char *what) {
    fprintf(stderr, "classify: %s: %s\n", what, tta_last_error());
    return 1;
}

/* The user's model: input [N, 1, H, W] float pixels in 0..1 (the format below), output logits
 * [N, 2]: left half minus right half, and the opposite. */
static tta_status left_or_right(void *user, const tta_tensor *in, tta_tensor *out) {
    (void)user;
    if (in->ndim != 4 || in->dims[1] != 1) /* how a callback reports a failure */
        return tta_set_error(TTA_ERR_SHAPE, "left_or_right: expects [N, 1, H, W] input, got rank %d", in->ndim);
    int64_t n = in->dims[0], h = in->dims[2], w = in->dims[3];
    int64_t dims[2] = {n, 2};
    tta_status st = tta_tensor_resize(out, TTA_DTYPE_FLOAT32, 2, dims);
    if (st) return st;
    const float *x = in->data;
    float *y = out->data;
    for (int64_t i = 0; i < n; i++) {
        double d = 0;
        for (int64_t r = 0; r < h; r++)
            for (int64_t c = 0; c < w; c++) d += (c < w / 2 ? 1 : -1) * x[(i * h + r) * w + c];
        y[i * 2] = (float)(d / (h * w) * 8);
        y[i * 2 + 1] = (float)(-d / (h * w) * 8);
    }
    return TTA_OK;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: classify MODEL.onnx IMAGE [POLICY]   (libtta %s)\n", tta_version());
        return 2;
    }
    const char *policy_text = argc > 3 ? argv[3] : "hflip; shift(1, 0, wrap); shift(-1, 0, wrap)";
    printf("libtta %s (headers %s)\n", tta_version(), TTA_VERSION);

    /* 1. an ONNX model with TTA */
    tta_model *model = NULL;
    tta_classifier *cls = NULL;
    tta_policy pol;
    tta_image img = {0};
    if (tta_model_load(argv[1], NULL, &model)) return fail(argv[1]);
    if (tta_classifier_new(&cls, model, NULL)) return fail("classifier");
    if (tta_policy_parse(&pol, policy_text, "policy")) return fail("policy");
    if (tta_image_read(&img, argv[2])) return fail(argv[2]);
    int k = 0;
    if (tta_classify_views(cls, &pol, &img, 1, NULL, &k)) return fail("classify");
    float *probs = malloc(sizeof(float) * (size_t)k), *views = malloc(sizeof(float) * (size_t)k * pol.n_views);
    if (!probs || !views) return 1;
    if (tta_classify(cls, &pol, &img, 1, TTA_MERGE_MEAN, NULL, probs, views)) return fail("classify");
    int best = 0;
    for (int c = 1; c < k; c++)
        if (probs[c] > probs[best]) best = c;
    printf("%s with %d views: class %d, p = %.4f\n", argv[2], pol.n_views, best, probs[best]);
    for (int v = 0; v < pol.n_views; v++) {
        char text[256];
        tta_view_format(&pol.views[v], text, sizeof text);
        const float *p = views + (size_t)v * k;
        int top = 0;
        for (int c = 1; c < k; c++)
            if (p[c] > p[top]) top = c;
        printf("  view %-28s class %d (p %.4f)\n", text, top, p[top]);
    }
    free(probs);
    free(views);
    tta_classifier_free(cls);
    tta_model_free(model);

    /* 2. the user's own model through the callback interface, on the same image */
    tta_input_format fmt = {{TTA_LAYOUT_NCHW, TTA_DTYPE_FLOAT32, 1, 1.0f / 255, {0}, {1, 1, 1, 1}}, 28, 28};
    tta_classifier *own = NULL;
    tta_policy flip;
    float p2[2];
    tta_image gray = {0};
    if (tta_image_convert(&gray, &img, TTA_DTYPE_UINT8)) return fail("image");
    if (gray.channels != 1) { /* the user's model reads one channel: keep the first */
        tta_image one = {0};
        if (tta_image_init(&one, gray.height, gray.width, 1, TTA_DTYPE_UINT8)) return fail("image");
        const uint8_t *s = gray.data;
        uint8_t *d = one.data;
        for (int i = 0; i < gray.height * gray.width; i++) d[i] = s[i * gray.channels];
        tta_image_destroy(&gray);
        gray = one;
    }
    if (tta_classifier_new_callback(&own, left_or_right, NULL, 2, &fmt, NULL)) return fail("callback classifier");
    if (tta_policy_parse(&flip, "hflip", "policy")) return fail("policy");
    if (tta_classify(own, &flip, &gray, 1, TTA_MERGE_MEAN, NULL, p2, NULL)) return fail("callback classify");
    printf("own model, identity + hflip: left %.4f, right %.4f\n", p2[0], p2[1]);
    int even = fabsf(p2[0] - 0.5f) < 1e-5f && fabsf(p2[1] - 0.5f) < 1e-5f;
    printf("the mirror view cancels the model's left/right bias: %s\n", even ? "yes" : "NO");
    tta_classifier_free(own);
    tta_policy_destroy(&flip);
    tta_policy_destroy(&pol);
    tta_image_destroy(&gray);
    tta_image_destroy(&img);
    return even ? 0 : 1;
}
