/* test_augment.c - transforms and their inverses.
 *
 * The exact transforms (flips, rot90, transpose, integer shifts with every border mode, crops,
 * padding, and chains of them) are checked pixel by pixel against a small oracle written here
 * from the definitions (numpy.flip/rot90/roll and friends), on images whose values encode
 * (row, column, channel), so that an axis, direction or channel mix-up cannot pass. Their
 * inverses are checked by round trips: dense maps at strides 1 to 16 (bit-exact, with the
 * validity mask), boxes found in the transformed image, keypoints with the left/right swap.
 * Rotation, scaling and resizing are compared with SciPy/NumPy values saved in
 * tests/data/augment (scripts/make_augment_refs.py). Then the batch writer, colour
 * transforms, letterbox, determinism, errors and failed allocations. */
#include <omp.h>
#include <stdint.h>

#include "test.h"
#include "tta/augment.h"

#define REFS "tests/data/augment/"

/* ---- helpers ---- */

static tta_aug_plan *plan_for(const char *text, int h, int w, int oh, int ow) {
    tta_policy pol;
    tta_aug_plan *plan = NULL;
    if (tta_policy_parse(&pol, text, NULL) != TTA_OK ||
        tta_aug_plan_new(&plan, &pol, h, w, oh, ow) != TTA_OK) {
        fprintf(stderr, "  plan for \"%s\" on %dx%d: %s\n", text, h, w, tta_last_error());
        test_failures_in_case++;
        plan = NULL;
    }
    tta_policy_destroy(&pol);
    return plan;
}

static float *fpix(const tta_image *img, int r, int c) {
    return (float *)img->data + ((size_t)r * img->width + c) * img->channels;
}

/* float image with value(r, c, ch) = r * 1000 + c * 10 + ch: every pixel and channel distinct */
static void coord_image_f(tta_image *img, int h, int w, int ch) {
    tta_image_init(img, h, w, ch, TTA_DTYPE_FLOAT32);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            for (int k = 0; k < ch; k++)
                fpix(img, r, c)[k] = (float)(r * 1000 + c * 10 + k);
}

/* uint8 image (h, w <= 16): channel 0 = r * 16 + c, channel 1 = 255 - that, channel k >= 2 =
 * (2k + 3) * that, mod 256 */
static void coord_image_u8(tta_image *img, int h, int w, int ch) {
    tta_image_init(img, h, w, ch, TTA_DTYPE_UINT8);
    uint8_t *p = img->data;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            for (int k = 0; k < ch; k++) {
                int v = r * 16 + c;
                p[((size_t)r * w + c) * ch + k] = (uint8_t)(k == 0   ? v
                                                            : k == 1 ? 255 - v
                                                                     : ((2 * k + 3) * v) & 255);
            }
}

static float pixel_as_float(const tta_image *img, size_t i) {
    return img->dtype == TTA_DTYPE_UINT8 ? ((const uint8_t *)img->data)[i] : ((const float *)img->data)[i];
}

/* ---- the oracle: exact transforms straight from their definitions ---- */

static int reflect_index(int k, int n) { /* d c b a | a b c d, one reflection is enough here */
    if (k < 0) return -k - 1;
    if (k >= n) return 2 * n - 1 - k;
    return k;
}

static int crop_size(const tta_transform *t, int i, int n) {
    return t->relative ? (int)lround(n * t->p[i] / 100.0) : (int)t->p[i];
}

/* out = t(in), float images, `maxv` the full-scale value for fills */
static void oracle_one(const tta_transform *t, const tta_image *in, tta_image *out, float maxv) {
    int H = in->height, W = in->width, C = in->channels, oh = H, ow = W, k = (int)t->p[0];
    int dx = (int)t->p[0], dy = (int)t->p[1], oy = 0, ox = 0;
    if (t->op == TTA_OP_TRANSPOSE || (t->op == TTA_OP_ROT90 && (k & 1))) oh = W, ow = H;
    if (t->op == TTA_OP_CROP) {
        oh = crop_size(t, 0, H), ow = crop_size(t, 1, W);
        if (t->anchor == TTA_ANCHOR_TR || t->anchor == TTA_ANCHOR_BR) ox = W - ow;
        if (t->anchor == TTA_ANCHOR_BL || t->anchor == TTA_ANCHOR_BR) oy = H - oh;
        if (t->anchor == TTA_ANCHOR_CENTER) oy = (H - oh) / 2, ox = (W - ow) / 2;
    }
    if (t->op == TTA_OP_LETTERBOX) oh = (int)t->p[0], ow = (int)t->p[1], oy = (oh - H) / 2, ox = (ow - W) / 2;
    tta_image_init(out, oh, ow, C, TTA_DTYPE_FLOAT32);
    for (int r = 0; r < oh; r++) {
        for (int c = 0; c < ow; c++) {
            int sr = r, sc = c, fill = 0;
            switch (t->op) {
            case TTA_OP_HFLIP: sc = W - 1 - c; break;
            case TTA_OP_VFLIP: sr = H - 1 - r; break;
            case TTA_OP_TRANSPOSE: sr = c, sc = r; break;
            case TTA_OP_ROT90: /* numpy.rot90(a, k) */
                if (k == 1) sr = c, sc = W - 1 - r;
                if (k == 2) sr = H - 1 - r, sc = W - 1 - c;
                if (k == 3) sr = H - 1 - c, sc = r;
                break;
            case TTA_OP_SHIFT: /* numpy.roll(a, (dy, dx), axis=(0, 1)) for wrap */
                sr = r - dy, sc = c - dx;
                if (t->border == TTA_BORDER_WRAP) sr = ((sr % H) + H) % H, sc = ((sc % W) + W) % W;
                if (t->border == TTA_BORDER_EDGE)
                    sr = sr < 0 ? 0 : sr >= H ? H - 1 : sr, sc = sc < 0 ? 0 : sc >= W ? W - 1 : sc;
                if (t->border == TTA_BORDER_REFLECT) sr = reflect_index(sr, H), sc = reflect_index(sc, W);
                fill = sr < 0 || sr >= H || sc < 0 || sc >= W;
                break;
            case TTA_OP_CROP: sr = r + oy, sc = c + ox; break;
            case TTA_OP_LETTERBOX:
                sr = r - oy, sc = c - ox;
                fill = sr < 0 || sr >= H || sc < 0 || sc >= W;
                break;
            default: break;
            }
            for (int ch = 0; ch < C; ch++)
                fpix(out, r, c)[ch] = fill ? (float)(t->fill * maxv) : fpix(in, sr, sc)[ch];
        }
    }
}

static void oracle_view(const tta_view *view, const tta_image *in, tta_image *out, float maxv) {
    tta_image cur = {0}, next = {0};
    tta_image_init(&cur, in->height, in->width, in->channels, TTA_DTYPE_FLOAT32);
    for (size_t i = 0; i < (size_t)in->height * in->width * in->channels; i++) /* keep the scale */
        ((float *)cur.data)[i] = pixel_as_float(in, i);
    for (int i = 0; i < view->n; i++) {
        oracle_one(&view->t[i], &cur, &next, maxv);
        tta_image tmp = cur;
        cur = next;
        next = tmp;
    }
    tta_image_destroy(&next);
    tta_image_destroy(out);
    *out = cur;
}

/* the views whose every pixel comes from one input pixel (the oracle knows them all) */
static const char *exact_views =
    "hflip; vflip; transpose; rot90(1); rot90(2); rot90(3); transpose > rot90(2);"
    "shift(3, 0, wrap); shift(-3, 0, wrap); shift(0, 2, wrap); shift(0, -2, wrap); shift(2, -1, wrap);"
    "shift(2, -1, constant); shift(-2, 1, constant, fill=1); shift(2, 1, edge); shift(-1, -2, edge);"
    "shift(2, 1, reflect); shift(-2, -1, reflect);"
    "crop(tl, 3, 4); crop(tr, 3); crop(bl, 50%); crop(br, 2, 3); crop(center, 3, 2); crop(center, 60%, 40%);"
    "hflip > shift(0, 3); shift(1, 0) > hflip; rot90 > shift(2, 0, constant) > vflip;"
    "transpose > crop(tl, 2, 3); rot90(1) > rot90(3) > vflip; hflip > hflip > shift(1, 1, edge);"
    "crop(br, 4, 4) > rot90 > shift(1, 1, constant)";

static const int sizes[][2] = {{8, 8}, {7, 7}, {6, 11}, {5, 9}, {9, 4}};
#define N_SIZES ((int)(sizeof sizes / sizeof sizes[0]))

TEST(exact_transforms_match_the_oracle) {
    for (int s = 0; s < N_SIZES; s++) {
        int H = sizes[s][0], W = sizes[s][1];
        tta_policy pol;
        CHECK(tta_policy_parse(&pol, exact_views, NULL) == TTA_OK);
        tta_aug_plan *plan = NULL;
        CHECK(tta_aug_plan_new(&plan, &pol, H, W, 0, 0) == TTA_OK);
        if (!plan) continue;
        for (int u8 = 0; u8 <= 1; u8++) {
            for (int C = 1; C <= 5; C++) { /* 1 and 3 have their own loops, the others share one */
                tta_image in = {0}, got = {0}, want = {0};
                if (u8)
                    coord_image_u8(&in, H, W, C);
                else
                    coord_image_f(&in, H, W, C);
                for (int v = 0; v < pol.n_views; v++) {
                    CHECK(tta_augment_view(plan, v, &in, in.dtype, &got) == TTA_OK);
                    oracle_view(&pol.views[v], &in, &want, u8 ? 255.0f : 1.0f);
                    int vh, vw;
                    tta_aug_plan_view_size(plan, v, &vh, &vw);
                    CHECK(got.height == want.height && got.width == want.width && vh == got.height &&
                          vw == got.width);
                    if (got.height != want.height || got.width != want.width) continue;
                    size_t n = (size_t)got.height * got.width * C, bad = 0;
                    for (size_t i = 0; i < n; i++)
                        bad += pixel_as_float(&got, i) != ((float *)want.data)[i];
                    if (bad) {
                        char text[256];
                        tta_view_format(&pol.views[v], text, sizeof text);
                        fprintf(stderr, "  %s on %dx%dx%d %s: %zu values differ\n", text, H, W, C,
                                u8 ? "u8" : "f32", bad);
                        test_failures_in_case++;
                    }
                }
                tta_image_destroy(&in);
                tta_image_destroy(&got);
                tta_image_destroy(&want);
            }
        }
        tta_aug_plan_free(plan);
        tta_policy_destroy(&pol);
    }
}

/* the conventions, spelled out once on a 2x3 image (values = 10 * row + column) */
TEST(conventions_on_a_tiny_image) {
    float px[6] = {0, 1, 2, 10, 11, 12};
    tta_image in = {0}, out = {0};
    tta_image_wrap(&in, 2, 3, 1, TTA_DTYPE_FLOAT32, px);
    static const struct {
        const char *view;
        int h, w;
        float want[6];
    } cases[] = {
        {"hflip", 2, 3, {2, 1, 0, 12, 11, 10}}, /* column j -> W-1-j */
        {"vflip", 2, 3, {10, 11, 12, 0, 1, 2}},
        {"transpose", 3, 2, {0, 10, 1, 11, 2, 12}},
        {"rot90", 3, 2, {2, 12, 1, 11, 0, 10}}, /* numpy.rot90: counter-clockwise */
        {"rot90(3)", 3, 2, {10, 0, 11, 1, 12, 2}},
        {"shift(1, 0, wrap)", 2, 3, {2, 0, 1, 12, 10, 11}}, /* numpy.roll(a, 1, axis=1) */
        {"shift(0, 1, wrap)", 2, 3, {10, 11, 12, 0, 1, 2}},
        {"shift(-1, 0, constant)", 2, 3, {1, 2, 0, 11, 12, 0}},
        {"shift(1, 0, edge)", 2, 3, {0, 0, 1, 10, 10, 11}},
        {"shift(2, 0, reflect)", 2, 3, {1, 0, 0, 11, 10, 10}},
        {"rotate(180)", 2, 3, {12, 11, 10, 2, 1, 0}},
        {"crop(tr, 1, 2)", 1, 2, {1, 2}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tta_aug_plan *plan = plan_for(cases[i].view, 2, 3, 0, 0);
        if (!plan) continue;
        CHECK(tta_augment_view(plan, 1, &in, TTA_DTYPE_FLOAT32, &out) == TTA_OK);
        CHECK(out.height == cases[i].h && out.width == cases[i].w);
        int same = out.height == cases[i].h && out.width == cases[i].w &&
                   memcmp(out.data, cases[i].want, sizeof(float) * cases[i].h * cases[i].w) == 0;
        if (!same) fprintf(stderr, "  %s differs\n", cases[i].view);
        CHECK(same);
        tta_aug_plan_free(plan);
    }
    tta_image_destroy(&out);
}

/* ---- inverses of the exact views ---- */

/* where each original pixel went: appear[r * W + c] = number of view pixels it fills, and
 * pos[...] = the (last) view pixel index it fills */
static void where_pixels_went(const tta_view *view, int H, int W, int *appear, int *pos, int *vh, int *vw) {
    tta_image idx = {0}, out = {0};
    tta_image_init(&idx, H, W, 1, TTA_DTYPE_FLOAT32);
    for (int i = 0; i < H * W; i++)
        ((float *)idx.data)[i] = (float)(i + 10); /* fills are <= 1 */
    oracle_view(view, &idx, &out, 1.0f);
    memset(appear, 0, sizeof(int) * H * W);
    for (int q = 0; q < out.height * out.width; q++) {
        int k = (int)((float *)out.data)[q] - 10;
        if (k >= 0) appear[k]++, pos[k] = q;
    }
    *vh = out.height, *vw = out.width;
    tta_image_destroy(&idx);
    tta_image_destroy(&out);
}

TEST(dense_inverse_at_stride_1_is_exact_with_its_mask) {
    for (int s = 0; s < N_SIZES; s++) {
        int H = sizes[s][0], W = sizes[s][1], C = 2;
        tta_policy pol;
        CHECK(tta_policy_parse(&pol, exact_views, NULL) == TTA_OK);
        tta_aug_plan *plan = NULL;
        CHECK(tta_aug_plan_new(&plan, &pol, H, W, 0, 0) == TTA_OK);
        if (!plan) continue;
        tta_image in = {0}, view = {0};
        coord_image_f(&in, H, W, C);
        int *appear = malloc(sizeof(int) * H * W), *pos = malloc(sizeof(int) * H * W);
        float *map = malloc(sizeof(float) * C * 64 * 64), *back = malloc(sizeof(float) * C * H * W);
        uint8_t *valid = malloc((size_t)H * W);
        for (int v = 0; v < pol.n_views; v++) {
            CHECK(tta_augment_view(plan, v, &in, TTA_DTYPE_FLOAT32, &view) == TTA_OK);
            int vh = view.height, vw = view.width;
            for (int k = 0; k < C; k++) /* HWC image -> CHW map: what a segmenter would output */
                for (int q = 0; q < vh * vw; q++)
                    map[k * vh * vw + q] = ((float *)view.data)[q * C + k];
            for (int interp = 0; interp <= 1; interp++) {
                CHECK(tta_invert_dense(plan, v, 1, (tta_interp)interp, map, C, vh, vw, back, H, W, valid) ==
                      TTA_OK);
                int ah, aw, bad_mask = 0, bad_value = 0;
                where_pixels_went(&pol.views[v], H, W, appear, pos, &ah, &aw);
                for (int r = 0; r < H; r++)
                    for (int c = 0; c < W; c++) {
                        int p = r * W + c;
                        bad_mask += valid[p] != (appear[p] > 0);
                        if (valid[p])
                            for (int k = 0; k < C; k++)
                                bad_value += back[k * H * W + p] != fpix(&in, r, c)[k];
                    }
                if (bad_mask || bad_value) {
                    char text[256];
                    tta_view_format(&pol.views[v], text, sizeof text);
                    fprintf(stderr, "  %s on %dx%d: %d mask errors, %d value errors\n", text, H, W, bad_mask,
                            bad_value);
                    test_failures_in_case++;
                }
            }
        }
        free(appear), free(pos), free(map), free(back), free(valid);
        tta_image_destroy(&in);
        tta_image_destroy(&view);
        tta_aug_plan_free(plan);
        tta_policy_destroy(&pol);
    }
}

/* block means: what a model with output stride s would see (integer sums stay exact) */
static void block_mean(const tta_image *img, int s, float *out) {
    int h = img->height / s, w = img->width / s;
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            float sum = 0;
            for (int a = 0; a < s; a++)
                for (int b = 0; b < s; b++)
                    sum += fpix(img, i * s + a, j * s + b)[0];
            out[i * w + j] = sum / (float)(s * s);
        }
}

TEST(dense_inverse_at_strides_2_to_16_is_exact) {
    static const int strides[] = {1, 2, 4, 8, 16};
    static const int shapes[][2] = {{2, 3}, {3, 3}, {3, 2}, {1, 4}};
    for (size_t si = 0; si < 5; si++) {
        int s = strides[si];
        char text[1024];
        snprintf(text, sizeof text,
                 "hflip; vflip; transpose; rot90(1); rot90(2); rot90(3); transpose > rot90(2);"
                 "shift(%d, 0, wrap); shift(0, %d, wrap); shift(%d, %d, wrap); shift(%d, %d, constant);"
                 "shift(%d, 0, edge); hflip > shift(0, %d); crop(tl, %d, %d); crop(br, %d, %d);"
                 "rot90 > crop(tr, %d, %d) > vflip",
                 s, -s, 2 * s, s, -s, s, s, s, s, s, s, s, s, s);
        for (size_t z = 0; z < sizeof shapes / sizeof shapes[0]; z++) {
            int H = s * shapes[z][0], W = s * shapes[z][1], h = H / s, w = W / s;
            tta_policy pol;
            CHECK(tta_policy_parse(&pol, text, NULL) == TTA_OK);
            tta_aug_plan *plan = NULL;
            if (tta_aug_plan_new(&plan, &pol, H, W, 0, 0) != TTA_OK) {
                fprintf(stderr, "  %s\n", tta_last_error());
                test_failures_in_case++;
                tta_policy_destroy(&pol);
                continue;
            }
            tta_image in = {0}, view = {0};
            coord_image_f(&in, H, W, 1);
            float *orig_map = malloc(sizeof(float) * h * w), *view_map = malloc(sizeof(float) * h * w * 4);
            float *back = malloc(sizeof(float) * h * w);
            uint8_t *valid = malloc((size_t)h * w);
            int *appear = malloc(sizeof(int) * H * W), *pos = malloc(sizeof(int) * H * W);
            block_mean(&in, s, orig_map);
            for (int v = 0; v < pol.n_views; v++) {
                CHECK(tta_augment_view(plan, v, &in, TTA_DTYPE_FLOAT32, &view) == TTA_OK);
                block_mean(&view, s, view_map);
                int ah, aw;
                where_pixels_went(&pol.views[v], H, W, appear, pos, &ah, &aw);
                for (int interp = 0; interp <= 1; interp++) {
                    CHECK(tta_invert_dense(plan, v, s, (tta_interp)interp, view_map, 1, view.height / s,
                                           view.width / s, back, h, w, valid) == TTA_OK);
                    int bad = 0;
                    for (int i = 0; i < h; i++)
                        for (int j = 0; j < w; j++) {
                            int seen = appear[(i * s) * W + j * s] > 0;
                            bad += valid[i * w + j] != seen;
                            if (valid[i * w + j]) bad += back[i * w + j] != orig_map[i * w + j];
                        }
                    if (bad) {
                        char vt[256];
                        tta_view_format(&pol.views[v], vt, sizeof vt);
                        fprintf(stderr, "  stride %d, %s on %dx%d: %d errors\n", s, vt, H, W, bad);
                        test_failures_in_case++;
                    }
                }
            }
            free(orig_map), free(view_map), free(back), free(valid), free(appear), free(pos);
            tta_image_destroy(&in);
            tta_image_destroy(&view);
            tta_aug_plan_free(plan);
            tta_policy_destroy(&pol);
        }
    }
}

TEST(dense_inverse_masks_what_was_shifted_out) {
    /* shift(-2, 1, constant) on 6 x 8 at stride 2: the first block column and the last block
     * row left the image */
    tta_aug_plan *plan = plan_for("shift(-2, 2, constant)", 6, 8, 0, 0);
    if (!plan) return;
    float src[12], dst[12];
    uint8_t valid[12];
    for (int i = 0; i < 12; i++)
        src[i] = (float)i;
    CHECK(tta_invert_dense(plan, 1, 2, TTA_INTERP_NEAREST, src, 1, 3, 4, dst, 3, 4, valid) == TTA_OK);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) {
            int want = j >= 1 && i <= 1;
            CHECK_EQ_INT(valid[i * 4 + j], want);
            if (want)
                CHECK_NEAR(dst[i * 4 + j], src[(i + 1) * 4 + (j - 1)], 0);
            else
                CHECK_NEAR(dst[i * 4 + j], 0, 0);
        }
    /* a wrap shift keeps everything */
    tta_aug_plan_free(plan);
    plan = plan_for("shift(-2, 2, wrap)", 6, 8, 0, 0);
    CHECK(tta_invert_dense(plan, 1, 2, TTA_INTERP_BILINEAR, src, 1, 3, 4, dst, 3, 4, valid) == TTA_OK);
    for (int i = 0; i < 12; i++)
        CHECK_EQ_INT(valid[i], 1);
    CHECK_NEAR(dst[0], src[1 * 4 + 3], 0); /* map pixel (0,0) went to (1, -1) = (1, 3) */
    tta_aug_plan_free(plan);
}

/* boxes: draw a box into the image, transform it, find it in the view, map it back */
TEST(boxes_found_in_the_view_map_back) {
    static const float boxes[][4] = {{1, 1, 3, 2}, {0, 0, 2, 4}, {2, 3, 4, 5}, {0, 0, 4, 4}, {3, 0, 4, 1}};
    for (int s = 0; s < N_SIZES; s++) {
        int H = sizes[s][0], W = sizes[s][1];
        tta_policy pol;
        CHECK(tta_policy_parse(&pol, exact_views, NULL) == TTA_OK);
        tta_aug_plan *plan = NULL;
        CHECK(tta_aug_plan_new(&plan, &pol, H, W, 0, 0) == TTA_OK);
        if (!plan) continue;
        int *appear = malloc(sizeof(int) * H * W), *pos = malloc(sizeof(int) * H * W), checked = 0;
        for (int v = 0; v < pol.n_views; v++) {
            char text[256];
            tta_view_format(&pol.views[v], text, sizeof text);
            if (strstr(text, "edge") || strstr(text, "reflect")) continue; /* they replicate pixels */
            int vh, vw;
            where_pixels_went(&pol.views[v], H, W, appear, pos, &vh, &vw);
            for (size_t b = 0; b < sizeof boxes / sizeof boxes[0]; b++) {
                int x1 = (int)boxes[b][0], y1 = (int)boxes[b][1], x2 = (int)boxes[b][2],
                    y2 = (int)boxes[b][3];
                if (x2 > W || y2 > H) continue;
                /* the box in the view: bounding box of its pixels there; expected back: the box
                 * of its pixels that the view shows */
                int vx1 = 1 << 20, vy1 = 1 << 20, vx2 = -1, vy2 = -1, n = 0;
                int ex1 = 1 << 20, ey1 = 1 << 20, ex2 = -1, ey2 = -1;
                for (int r = y1; r < y2; r++)
                    for (int c = x1; c < x2; c++) {
                        if (!appear[r * W + c]) continue;
                        int q = pos[r * W + c], qr = q / vw, qc = q % vw;
                        vx1 = qc < vx1 ? qc : vx1, vx2 = qc + 1 > vx2 ? qc + 1 : vx2;
                        vy1 = qr < vy1 ? qr : vy1, vy2 = qr + 1 > vy2 ? qr + 1 : vy2;
                        ex1 = c < ex1 ? c : ex1, ex2 = c + 1 > ex2 ? c + 1 : ex2;
                        ey1 = r < ey1 ? r : ey1, ey2 = r + 1 > ey2 ? r + 1 : ey2;
                        n++;
                    }
                if (n == 0 || n != (vx2 - vx1) * (vy2 - vy1)) continue; /* gone, or split by a wrap */
                /* a box as wide (tall) as a wrapped image has no place: it moves back by its centre */
                if (strstr(text, "wrap") && (vx2 - vx1 == vw || vy2 - vy1 == vh)) continue;
                float box[6] = {(float)vx1, (float)vy1, (float)vx2, (float)vy2, 0.9f, 7};
                CHECK(tta_invert_boxes(plan, v, box, 1, 6) == TTA_OK);
                int ok = box[0] == ex1 && box[1] == ey1 && box[2] == ex2 && box[3] == ey2 && box[4] == 0.9f &&
                         box[5] == 7;
                if (!ok)
                    fprintf(stderr, "  %s on %dx%d: box %d,%d,%d,%d -> view %d,%d,%d,%d -> %g,%g,%g,%g\n",
                            text, H, W, x1, y1, x2, y2, vx1, vy1, vx2, vy2, box[0], box[1], box[2], box[3]);
                CHECK(ok);
                checked++;
            }
        }
        CHECK(checked > 50);
        free(appear), free(pos);
        tta_aug_plan_free(plan);
        tta_policy_destroy(&pol);
    }
}

TEST(boxes_are_reordered_and_clipped) {
    tta_aug_plan *plan = plan_for("hflip; vflip; rot90", 8, 10, 0, 0);
    if (!plan) return;
    float b[4] = {2, 3, 5, 7};
    CHECK(tta_invert_boxes(plan, 1, b, 1, 4) == TTA_OK); /* x -> W - x, and x1 <= x2 again */
    CHECK(b[0] == 5 && b[1] == 3 && b[2] == 8 && b[3] == 7);
    float r[4] = {5, 7, 2, 3}; /* given the wrong way round */
    CHECK(tta_invert_boxes(plan, 1, r, 1, 4) == TTA_OK);
    CHECK(r[0] == 5 && r[1] == 3 && r[2] == 8 && r[3] == 7);
    float v[4] = {2, 3, 5, 7};
    CHECK(tta_invert_boxes(plan, 2, v, 1, 4) == TTA_OK); /* y -> H - y */
    CHECK(v[0] == 2 && v[1] == 1 && v[2] == 5 && v[3] == 5);
    float q[4] = {1, 2, 3, 4}; /* rot90: the view is 10 x 8; view (x, y) came from (W - y, x) */
    CHECK(tta_invert_boxes(plan, 3, q, 1, 4) == TTA_OK);
    CHECK(q[0] == 6 && q[1] == 1 && q[2] == 8 && q[3] == 3);
    float c[8] = {-3, -2, 4, 20, 9, 1, 30, 2}; /* the identity still clips */
    CHECK(tta_invert_boxes(plan, 0, c, 2, 4) == TTA_OK);
    CHECK(c[0] == 0 && c[1] == 0 && c[2] == 4 && c[3] == 8);
    CHECK(c[4] == 9 && c[5] == 1 && c[6] == 10 && c[7] == 2);
    CHECK_EQ_INT(tta_invert_boxes(plan, 4, c, 1, 4), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_invert_boxes(plan, 1, c, 1, 3), TTA_ERR_INVALID_ARG);
    tta_aug_plan_free(plan);
}

TEST(boxes_after_wrap_shift_move_back_whole) {
    tta_aug_plan *plan = plan_for("shift(3, 0, wrap)", 6, 10, 0, 0);
    if (!plan) return;
    float a[4] = {5, 1, 8, 2}, b[4] = {0, 1, 2, 2}, c[4] = {1, 1, 4, 2};
    tta_invert_boxes(plan, 1, a, 1, 4);
    CHECK(a[0] == 2 && a[2] == 5);
    tta_invert_boxes(plan, 1, b, 1, 4); /* came from x in [7, 9] (rolled over the edge) */
    CHECK(b[0] == 7 && b[2] == 9);
    tta_invert_boxes(plan, 1, c, 1, 4); /* centre -0.5 -> moved by W: [8, 11] clipped */
    CHECK(c[0] == 8 && c[2] == 10);
    tta_aug_plan_free(plan);
}

TEST(keypoints_swap_left_and_right_on_mirrored_views) {
    /* a face: left eye, right eye, nose; a model labels a mirrored face's eyes the other way */
    const int perm[3] = {1, 0, 2};
    const float orig[6] = {2.5f, 1.5f, 6.5f, 2.5f, 4.0f, 4.0f};
    tta_aug_plan *plan = plan_for("hflip; rot90(2); transpose", 6, 10, 0, 0);
    if (!plan) return;
    CHECK(tta_aug_plan_view_mirrored(plan, 1) && !tta_aug_plan_view_mirrored(plan, 2) &&
          tta_aug_plan_view_mirrored(plan, 3) && !tta_aug_plan_view_mirrored(plan, 0));
    /* hflip: original left eye is at x = 10 - 2.5 = 7.5, labelled "right" */
    float pred[9] = {3.5f, 2.5f, 0.8f, 7.5f, 1.5f, 0.7f, 6.0f, 4.0f, 0.6f};
    uint8_t valid[3];
    CHECK(tta_invert_keypoints(plan, 1, pred, 1, 3, 3, perm, valid) == TTA_OK);
    for (int k = 0; k < 3; k++) {
        CHECK_NEAR(pred[3 * k], orig[2 * k], 0);
        CHECK_NEAR(pred[3 * k + 1], orig[2 * k + 1], 0);
        CHECK_EQ_INT(valid[k], 1);
    }
    CHECK_NEAR(pred[2], 0.7f, 0); /* the score travels with its point */
    /* rot90(2) is a rotation: no swap */
    float rot[6] = {10 - 2.5f, 6 - 1.5f, 10 - 6.5f, 6 - 2.5f, 6.0f, 2.0f};
    CHECK(tta_invert_keypoints(plan, 2, rot, 1, 3, 2, perm, NULL) == TTA_OK);
    for (int k = 0; k < 6; k++)
        CHECK_NEAR(rot[k], orig[k], 1e-6);
    /* a bad permutation is refused */
    int bad[3] = {1, 1, 2};
    CHECK_EQ_INT(tta_invert_keypoints(plan, 1, pred, 1, 3, 3, bad, NULL), TTA_ERR_INVALID_ARG);
    /* no table: positions only */
    float two[4] = {7.5f, 1.5f, 3.5f, 2.5f};
    CHECK(tta_invert_keypoints(plan, 1, two, 1, 2, 2, NULL, NULL) == TTA_OK);
    CHECK(two[0] == 2.5f && two[2] == 6.5f);
    tta_aug_plan_free(plan);
}

TEST(keypoints_of_every_exact_view_round_trip) {
    const int perm[4] = {1, 0, 3, 2};
    const int pix[4][2] = {{0, 1}, {2, 3}, {3, 0}, {1, 2}}; /* (row, col) of each point */
    for (int s = 0; s < N_SIZES; s++) {
        int H = sizes[s][0], W = sizes[s][1];
        tta_policy pol;
        CHECK(tta_policy_parse(&pol, exact_views, NULL) == TTA_OK);
        tta_aug_plan *plan = NULL;
        CHECK(tta_aug_plan_new(&plan, &pol, H, W, 0, 0) == TTA_OK);
        if (!plan) continue;
        int *appear = malloc(sizeof(int) * H * W), *pos = malloc(sizeof(int) * H * W);
        for (int v = 0; v < pol.n_views; v++) {
            int vh, vw, usable = 1;
            where_pixels_went(&pol.views[v], H, W, appear, pos, &vh, &vw);
            for (int k = 0; k < 4; k++)
                usable &= appear[pix[k][0] * W + pix[k][1]] == 1;
            if (!usable) continue;
            int mirrored = tta_aug_plan_view_mirrored(plan, v);
            float pts[8];
            for (int k = 0; k < 4; k++) { /* the model names point k what it looks like */
                int src = mirrored ? perm[k] : k, q = pos[pix[src][0] * W + pix[src][1]];
                pts[2 * k] = (float)(q % vw) + 0.5f;
                pts[2 * k + 1] = (float)(q / vw) + 0.5f;
            }
            CHECK(tta_invert_keypoints(plan, v, pts, 1, 4, 2, perm, NULL) == TTA_OK);
            for (int k = 0; k < 4; k++) {
                CHECK_NEAR(pts[2 * k], pix[k][1] + 0.5, 1e-9);
                CHECK_NEAR(pts[2 * k + 1], pix[k][0] + 0.5, 1e-9);
            }
        }
        free(appear), free(pos);
        tta_aug_plan_free(plan);
        tta_policy_destroy(&pol);
    }
}

TEST(every_inverse_is_the_identity_on_view_0) {
    tta_aug_plan *plan = plan_for("seed", 6, 9, 0, 0);
    if (!plan) return;
    float m[54], back[54], cls[3] = {0.1f, 0.7f, 0.2f}, out[3];
    for (int i = 0; i < 54; i++)
        m[i] = (float)i * 1.5f;
    CHECK(tta_invert_dense(plan, 0, 1, TTA_INTERP_BILINEAR, m, 1, 6, 9, back, 6, 9, NULL) == TTA_OK);
    CHECK(memcmp(m, back, sizeof m) == 0);
    CHECK(tta_invert_classes(plan, 0, cls, out, 3) == TTA_OK);
    CHECK(memcmp(cls, out, sizeof cls) == 0);
    CHECK(tta_invert_classes(plan, 6, cls, cls, 3) == TTA_OK); /* every view: unchanged */
    CHECK(out[1] == 0.7f && cls[1] == 0.7f);
    float box[4] = {1.25f, 2, 3, 4.5f}, kp[2] = {3.5f, 2.25f};
    CHECK(tta_invert_boxes(plan, 0, box, 1, 4) == TTA_OK);
    CHECK(box[0] == 1.25f && box[3] == 4.5f);
    CHECK(tta_invert_keypoints(plan, 0, kp, 1, 1, 2, NULL, NULL) == TTA_OK);
    CHECK(kp[0] == 3.5f && kp[1] == 2.25f);
    CHECK_EQ_INT(tta_invert_classes(plan, 8, cls, out, 3), TTA_ERR_INVALID_ARG);
    tta_aug_plan_free(plan);
}

/* ---- rotation, scaling, resizing: against SciPy / NumPy values ---- */

#define REF_IN_H 7
#define REF_IN_W 10

static double ref_value(int r, int c, int ch) { /* test_value() of scripts/make_augment_refs.py */
    return ch == 0 ? ((r * 13 + c * 7) % 17) * 15.0 : ((r * 5 + c * 11) % 19) * 13.0;
}

static double ref_map_value(int i, int j) { return ((i * 7 + j * 3) % 11) * 10.0 + i; }

static int check_image_case(const char *view, int h, int w, int C, const double *want) {
    tta_aug_plan *plan = plan_for(view, REF_IN_H, REF_IN_W, 0, 0);
    if (!plan) return 0;
    tta_image in = {0}, out = {0};
    tta_image_init(&in, REF_IN_H, REF_IN_W, C, TTA_DTYPE_FLOAT32);
    for (int r = 0; r < REF_IN_H; r++)
        for (int c = 0; c < REF_IN_W; c++)
            for (int k = 0; k < C; k++)
                fpix(&in, r, c)[k] = (float)ref_value(r, c, k);
    int ok = tta_augment_view(plan, 1, &in, TTA_DTYPE_FLOAT32, &out) == TTA_OK && out.height == h &&
             out.width == w;
    double worst = 0;
    for (int i = 0; ok && i < h * w * C; i++) {
        double d = fabs(((float *)out.data)[i] - want[i]);
        if (d > worst) worst = d;
    }
    if (!ok || worst > 2e-3) {
        fprintf(stderr, "  %s: %s, worst difference %g\n", view, ok ? "values differ" : "failed", worst);
        ok = 0;
    }
    tta_image_destroy(&in);
    tta_image_destroy(&out);
    tta_aug_plan_free(plan);
    return ok;
}

static int check_dense_case(const char *view, int S, int H, int W, int h, int w, const double *want) {
    tta_aug_plan *plan = plan_for(view, H, W, 0, 0);
    if (!plan) return 0;
    float *src = malloc(sizeof(float) * h * w), *dst = malloc(sizeof(float) * h * w);
    uint8_t *valid = malloc((size_t)h * w);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++)
            src[i * w + j] = (float)ref_map_value(i, j);
    int ok = tta_invert_dense(plan, 1, S, TTA_INTERP_BILINEAR, src, 1, h, w, dst, h, w, valid) == TTA_OK;
    int bad = 0;
    for (int i = 0; ok && i < h * w; i++) {
        int want_valid = !isnan(want[i]);
        if (valid[i] != want_valid || (want_valid && fabs(dst[i] - want[i]) > 2e-3)) bad++;
    }
    if (!ok || bad) fprintf(stderr, "  dense %d %s: %d pixels differ\n", S, view, bad);
    free(src), free(dst), free(valid);
    tta_aug_plan_free(plan);
    return ok && !bad;
}

/* reads a reference file; returns the number of cases that matched, -1 if unreadable */
static int run_reference_file(const char *path, int *n_cases) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "  cannot open %s\n", path);
        return -1;
    }
    static char line[16384];
    int passed = 0;
    *n_cases = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        int dense = strncmp(line, "dense ", 6) == 0;
        if (!dense && strncmp(line, "image ", 6) != 0) continue;
        char view[16384];
        int S = 1, H = 0, W = 0, C = 1, h = 0, w = 0;
        if (dense) sscanf(line + 6, "%d", &S);
        snprintf(view, sizeof view, "%s", dense ? strchr(line + 6, ' ') + 1 : line + 6);
        if (!fgets(line, sizeof line, f)) break;
        if (dense) {
            sscanf(line, "size %d %d", &H, &W);
            if (!fgets(line, sizeof line, f)) break;
            sscanf(line, "map %d %d", &h, &w);
        } else {
            sscanf(line, "size %d %d %d", &h, &w, &C);
        }
        double *want = malloc(sizeof(double) * h * w * C);
        int n = 0;
        for (int r = 0; r < h && fgets(line, sizeof line, f); r++) {
            char *p = line, *end;
            for (;;) {
                while (*p == ' ')
                    p++;
                if (*p == 'x') {
                    want[n++] = NAN;
                    p++;
                    continue;
                }
                double v = strtod(p, &end);
                if (end == p) break;
                if (n < h * w * C) want[n++] = v;
                p = end;
            }
        }
        (*n_cases)++;
        if (n != h * w * C)
            fprintf(stderr, "  %s: case %s has %d values, expected %d\n", path, view, n, h * w * C);
        else if (dense ? check_dense_case(view, S, H, W, h, w, want) : check_image_case(view, h, w, C, want))
            passed++;
        free(want);
    }
    fclose(f);
    return passed;
}

TEST(rotation_matches_scipy) {
    int n, ok = run_reference_file(REFS "rotate.txt", &n);
    CHECK(n >= 9);
    CHECK_EQ_INT(ok, n);
}

TEST(scaling_matches_scipy) {
    int n, ok = run_reference_file(REFS "scale.txt", &n);
    CHECK(n >= 5);
    CHECK_EQ_INT(ok, n);
}

TEST(resizing_matches_scipy) {
    int n, ok = run_reference_file(REFS "resize.txt", &n);
    CHECK(n >= 4);
    CHECK_EQ_INT(ok, n);
}

TEST(dense_inverse_of_rotation_matches_scipy) {
    int n, ok = run_reference_file(REFS "invert.txt", &n);
    CHECK(n >= 3);
    CHECK_EQ_INT(ok, n);
}

/* interpolating transforms reproduce a linear image in the interior, so going there and back
 * must return it */
TEST(interpolating_transforms_round_trip_linear_images) {
    const char *views[] = {"rotate(10, bilinear, edge)",
                           "rotate(-27, bicubic, reflect)",
                           "rotate(33, nearest)",
                           "scale(1.3)",
                           "scale(1.15, bicubic)",
                           "shift(1.5, -0.25, constant)",
                           "hflip > rotate(12) > shift(0.5, 0)",
                           "resize(37, 45)",
                           "resize(29, 41, bicubic)",
                           "letterbox(40, 40)",
                           "crop(center, 20, 26) > resize(24, 30)",
                           "transpose > scale(1.2)"};
    const int H = 24, W = 30;
    tta_image in = {0}, out = {0};
    tta_image_init(&in, H, W, 1, TTA_DTYPE_FLOAT32);
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++)
            fpix(&in, r, c)[0] = 3.0f * (c + 0.5f) + 2.0f * (r + 0.5f) + 1.0f;
    float *map = malloc(sizeof(float) * 64 * 64), *back = malloc(sizeof(float) * H * W);
    uint8_t *valid = malloc((size_t)H * W);
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        tta_aug_plan *plan = plan_for(views[i], H, W, 0, 0);
        if (!plan) continue;
        CHECK(tta_augment_view(plan, 1, &in, TTA_DTYPE_FLOAT32, &out) == TTA_OK);
        memcpy(map, out.data, sizeof(float) * out.height * out.width);
        CHECK(tta_invert_dense(plan, 1, 1, TTA_INTERP_BILINEAR, map, 1, out.height, out.width, back, H, W,
                               valid) == TTA_OK);
        double worst = 0;
        int n = 0, nearest = strstr(views[i], "nearest") != NULL;
        for (int r = 5; r < H - 5; r++)
            for (int c = 5; c < W - 5; c++) {
                if (!valid[r * W + c]) continue;
                double d = fabs(back[r * W + c] - fpix(&in, r, c)[0]);
                worst = d > worst ? d : worst;
                n++;
            }
        /* nearest sampling moves values by up to half a pixel each way: 0.5 * (3 + 2) * 2 */
        double tol = nearest ? 5.0 + 1e-3 : 2e-3;
        if (worst > tol || n < 100) fprintf(stderr, "  %s: worst %g over %d pixels\n", views[i], worst, n);
        CHECK(worst <= tol && n >= 100);
        tta_aug_plan_free(plan);
    }
    free(map), free(back), free(valid);
    tta_image_destroy(&in);
    tta_image_destroy(&out);
}

/* the loops specialised for 1 and 3 channels and the generic one agree: every channel of a
 * multi-channel result equals the single-channel result of that channel */
TEST(channel_counts_agree) {
    const char *text = "rotate(10); rotate(-33, bicubic, reflect); rotate(20, bilinear, constant, fill=0.3);"
                       "scale(0.8); resize(13, 17); hflip > rotate(5); rotate(7) > shift(1, 2, constant)";
    const int H = 11, W = 14;
    tta_aug_plan *plan = plan_for(text, H, W, 0, 0);
    if (!plan) return;
    for (int u8 = 0; u8 <= 1; u8++) {
        for (int C = 2; C <= 4; C++) {
            tta_image multi = {0}, single = {0}, out_m = {0}, out_s = {0};
            if (u8)
                coord_image_u8(&multi, H, W, C);
            else {
                coord_image_f(&multi, H, W, C);
                for (int i = 0; i < H * W * C; i++)
                    ((float *)multi.data)[i] /= 16000.0f;
            }
            tta_image_init(&single, H, W, 1, multi.dtype);
            int bad = 0;
            for (int v = 1; v < tta_aug_plan_n_views(plan); v++) {
                CHECK(tta_augment_view(plan, v, &multi, TTA_DTYPE_FLOAT32, &out_m) == TTA_OK);
                for (int c = 0; c < C; c++) {
                    for (int i = 0; i < H * W; i++) {
                        if (u8)
                            ((uint8_t *)single.data)[i] = ((uint8_t *)multi.data)[i * C + c];
                        else
                            ((float *)single.data)[i] = ((float *)multi.data)[i * C + c];
                    }
                    CHECK(tta_augment_view(plan, v, &single, TTA_DTYPE_FLOAT32, &out_s) == TTA_OK);
                    for (int i = 0; i < out_s.height * out_s.width; i++)
                        bad += fabsf(((float *)out_s.data)[i] - ((float *)out_m.data)[i * C + c]) > 1e-5f;
                }
            }
            if (bad) fprintf(stderr, "  %d channels, %s: %d values differ\n", C, u8 ? "uint8" : "float", bad);
            CHECK_EQ_INT(bad, 0);
            tta_image_destroy(&multi), tta_image_destroy(&single), tta_image_destroy(&out_m),
                tta_image_destroy(&out_s);
        }
    }
    tta_aug_plan_free(plan);
}

TEST(rotation_boxes_enclose_the_rotated_box) {
    tta_aug_plan *plan = plan_for("rotate(30); rotate(90)", 20, 20, 0, 0);
    if (!plan) return;
    /* a box around the centre, rotated into the view and back: the enclosing box grows by the
     * rotation of its corners */
    float b[4] = {8, 8, 12, 12};
    CHECK(tta_invert_boxes(plan, 1, b, 1, 4) == TTA_OK);
    double half = 2 * (cos(M_PI / 6) + sin(M_PI / 6));
    CHECK_NEAR(b[0], 10 - half, 1e-5);
    CHECK_NEAR(b[2], 10 + half, 1e-5);
    float q[4] = {2, 4, 6, 5}; /* rotate(90) on a square is rot90: exact */
    float r[4] = {2, 4, 6, 5};
    tta_aug_plan *p90 = plan_for("rot90", 20, 20, 0, 0);
    CHECK(tta_invert_boxes(plan, 2, q, 1, 4) == TTA_OK);
    CHECK(tta_invert_boxes(p90, 1, r, 1, 4) == TTA_OK);
    for (int k = 0; k < 4; k++)
        CHECK_NEAR(q[k], r[k], 1e-5);
    tta_aug_plan_free(p90);
    tta_aug_plan_free(plan);
}

TEST(nearest_resize_takes_the_pixel_under_each_centre) {
    float px[8] = {0, 1, 2, 3, 10, 11, 12, 13};
    tta_image in = {0}, out = {0};
    tta_image_wrap(&in, 2, 4, 1, TTA_DTYPE_FLOAT32, px);
    tta_aug_plan *plan =
        plan_for("resize(4, 8, nearest); resize(1, 2, nearest); resize(2, 3, nearest)", 2, 4, 0, 0);
    if (!plan) return;
    CHECK(tta_augment_view(plan, 1, &in, TTA_DTYPE_FLOAT32, &out) == TTA_OK); /* each pixel twice */
    const float *o = out.data;
    CHECK(out.height == 4 && out.width == 8 && o[0] == 0 && o[1] == 0 && o[2] == 1 && o[7] == 3 &&
          o[8] == 0 && o[16] == 10 && o[31] == 13);
    CHECK(tta_augment_view(plan, 2, &in, TTA_DTYPE_FLOAT32, &out) == TTA_OK); /* centres 2 and 6 -> 1, 3 */
    o = out.data;
    CHECK(out.width == 2 && o[0] == 11 && o[1] == 13);
    CHECK(tta_augment_view(plan, 3, &in, TTA_DTYPE_FLOAT32, &out) == TTA_OK); /* x = 0.67, 2, 3.33 */
    o = out.data;
    CHECK(o[0] == 0 && o[1] == 2 && o[2] == 3 && o[3] == 10 && o[5] == 13);
    float b[4] = {0, 0, 2, 1}; /* boxes scale back */
    CHECK(tta_invert_boxes(plan, 2, b, 1, 4) == TTA_OK);
    CHECK(b[0] == 0 && b[1] == 0 && b[2] == 4 && b[3] == 2);
    tta_image_destroy(&out);
    tta_aug_plan_free(plan);
}

/* ---- sizes: crops resized to the model input, letterbox ---- */

TEST(output_size_resizes_every_view_and_inverts_it) {
    tta_aug_plan *plan = plan_for("five-crop", 32, 32, 32, 32);
    if (!plan) return;
    CHECK_EQ_INT(tta_aug_plan_n_views(plan), 6);
    for (int v = 0; v < 6; v++) {
        int h, w;
        tta_aug_plan_view_size(plan, v, &h, &w);
        CHECK(h == 32 && w == 32);
    }
    /* crop(tl, 87.5%) is 28 x 28, then resized to 32: the whole view is the crop window */
    float b[4] = {0, 0, 32, 32}, c[4] = {0, 0, 32, 32};
    CHECK(tta_invert_boxes(plan, 1, b, 1, 4) == TTA_OK);
    CHECK_NEAR(b[0], 0, 1e-5);
    CHECK_NEAR(b[2], 28, 1e-5);
    CHECK_NEAR(b[3], 28, 1e-5);
    CHECK(tta_invert_boxes(plan, 4, c, 1, 4) == TTA_OK); /* br */
    CHECK_NEAR(c[0], 4, 1e-5);
    CHECK_NEAR(c[3], 32, 1e-5);
    const tta_view *v1 = tta_aug_plan_view(plan, 1);
    char text[64];
    tta_view_format(v1, text, sizeof text);
    CHECK(strcmp(text, "crop(tl, 87.5%)") == 0); /* the implicit resize is not part of the view */
    tta_aug_plan_free(plan);
    /* without an output size the views keep their own sizes, and cannot share a batch */
    plan = plan_for("five-crop", 32, 32, 0, 0);
    int h, w;
    tta_aug_plan_view_size(plan, 3, &h, &w);
    CHECK(h == 28 && w == 28);
    tta_image img = {0};
    coord_image_u8(&img, 32, 32, 3);
    float *buf = malloc(6 * 3 * 32 * 32 * sizeof(float));
    tta_batch_format fmt = {TTA_LAYOUT_NCHW, TTA_DTYPE_FLOAT32};
    CHECK_EQ_INT(tta_augment_batch(plan, &img, 1, 0, 6, &fmt, buf, 6 * 3 * 32 * 32 * sizeof(float)),
                 TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "view 1 (crop(tl, 87.5%)) is 28x28 but view 0 is 32x32");
    CHECK(tta_augment_batch(plan, &img, 1, 1, 5, &fmt, buf, 5 * 3 * 28 * 28 * sizeof(float)) == TTA_OK);
    free(buf);
    tta_image_destroy(&img);
    tta_aug_plan_free(plan);
}

TEST(letterbox_pads_and_undoes) {
    /* 20 x 10 into 40 x 40: scale 2, the image fills columns 10..29 */
    tta_aug_plan *plan = plan_for("letterbox(40, 40); letterbox(20, 16, fill=0)", 20, 10, 0, 0);
    if (!plan) return;
    tta_image in = {0}, out = {0};
    tta_image_init(&in, 20, 10, 1, TTA_DTYPE_UINT8);
    memset(in.data, 200, 200);
    CHECK(tta_augment_view(plan, 1, &in, TTA_DTYPE_UINT8, &out) == TTA_OK);
    CHECK(out.height == 40 && out.width == 40);
    const uint8_t *p = out.data;
    CHECK_EQ_INT(p[5], 128);  /* fill 0.5 of full scale, rounded */
    CHECK_EQ_INT(p[10], 200); /* the image, edge pixel not blended with the fill */
    CHECK_EQ_INT(p[29], 200);
    CHECK_EQ_INT(p[30], 128);
    CHECK_EQ_INT(p[39 * 40 + 20], 200);
    float b[4] = {10, 0, 30, 40}, k[2] = {20, 20};
    CHECK(tta_invert_boxes(plan, 1, b, 1, 4) == TTA_OK);
    CHECK(b[0] == 0 && b[1] == 0 && b[2] == 10 && b[3] == 20);
    CHECK(tta_invert_keypoints(plan, 1, k, 1, 1, 2, NULL, NULL) == TTA_OK);
    CHECK(k[0] == 5 && k[1] == 10);
    float pad[4] = {0, 0, 5, 40}; /* a box in the padding collapses to the image edge */
    CHECK(tta_invert_boxes(plan, 1, pad, 1, 4) == TTA_OK);
    CHECK(pad[0] == 0 && pad[2] == 0);
    /* pad only: 20 x 10 into 20 x 16, columns 3..12, exact */
    CHECK(tta_augment_view(plan, 2, &in, TTA_DTYPE_UINT8, &out) == TTA_OK);
    p = out.data;
    CHECK(out.width == 16 && p[2] == 0 && p[3] == 200 && p[12] == 200 && p[13] == 0);
    tta_image_destroy(&in);
    tta_image_destroy(&out);
    tta_aug_plan_free(plan);
}

/* ---- the batch writer ---- */

TEST(batch_layouts_dtypes_and_normalisation) {
    const int H = 5, W = 7, C = 3, V = 8;
    tta_aug_plan *plan = plan_for("seed", H, W, 0, 0);
    if (!plan) return;
    tta_image imgs[2] = {{0}, {0}}, view = {0};
    coord_image_u8(&imgs[0], H, W, C);
    coord_image_u8(&imgs[1], H, W, C);
    for (int i = 0; i < H * W * C; i++)
        ((uint8_t *)imgs[1].data)[i] ^= 0x55;
    tta_batch_format nchw = {TTA_LAYOUT_NCHW,          TTA_DTYPE_FLOAT32,       0, 0,
                             {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    size_t bytes = tta_batch_bytes(plan, 2, 0, V, &nchw, C);
    CHECK_EQ_INT(bytes, (size_t)2 * V * C * H * W * 4);
    float *f = malloc(bytes);
    CHECK(tta_augment_batch(plan, imgs, 2, 0, V, &nchw, f, bytes) == TTA_OK);
    tta_batch_format nhwc = {TTA_LAYOUT_NHWC, TTA_DTYPE_UINT8};
    uint8_t *u = malloc(2 * V * C * H * W);
    CHECK(tta_augment_batch(plan, imgs, 2, 0, V, &nhwc, u, 2 * V * C * H * W) == TTA_OK);
    int bad_f = 0, bad_u = 0;
    for (int i = 0; i < 2; i++)
        for (int v = 0; v < V; v++) {
            CHECK(tta_augment_view(plan, v, &imgs[i], TTA_DTYPE_FLOAT32, &view) == TTA_OK);
            size_t item = (size_t)i * V + v;
            for (int r = 0; r < H; r++)
                for (int c = 0; c < W; c++)
                    for (int k = 0; k < C; k++) {
                        float x = fpix(&view, r, c)[k]; /* 0..1 */
                        float want = (x - nchw.mean[k]) / nchw.std[k];
                        float got = f[((item * C + k) * H + r) * W + c];
                        bad_f += fabsf(got - want) > 1e-5f;
                        int wu = (int)lrintf(x * 255.0f);
                        bad_u += abs((int)u[((item * H + r) * W + c) * C + k] - wu) > 0;
                    }
        }
    CHECK_EQ_INT(bad_f, 0);
    CHECK_EQ_INT(bad_u, 0);
    /* a sub-range of views lands at the start */
    float *g = malloc(bytes);
    CHECK(tta_augment_batch(plan, imgs, 2, 1, 3, &nchw, g, bytes) == TTA_OK);
    CHECK(memcmp(g, f + (size_t)1 * C * H * W, sizeof(float) * 3 * C * H * W) == 0);
    CHECK(memcmp(g + (size_t)3 * C * H * W, f + (size_t)(V + 1) * C * H * W, sizeof(float) * 3 * C * H * W) ==
          0);
    CHECK_EQ_INT(tta_augment_batch(plan, imgs, 2, 0, V, &nchw, f, bytes - 1), TTA_ERR_SHAPE);
    CHECK_EQ_INT(tta_augment_batch(plan, imgs, 2, 6, 3, &nchw, f, bytes), TTA_ERR_INVALID_ARG);
    free(f), free(g), free(u);
    tta_image_destroy(&imgs[0]);
    tta_image_destroy(&imgs[1]);
    tta_image_destroy(&view);
    tta_aug_plan_free(plan);
}

TEST(batch_converts_channels) {
    tta_aug_plan *plan = plan_for("hflip", 2, 2, 0, 0);
    if (!plan) return;
    uint8_t gray[4] = {0, 51, 102, 255},
            rgba[16] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160};
    tta_image g = {0}, c = {0};
    tta_image_wrap(&g, 2, 2, 1, TTA_DTYPE_UINT8, gray);
    tta_image_wrap(&c, 2, 2, 4, TTA_DTYPE_UINT8, rgba);
    tta_batch_format to3 = {TTA_LAYOUT_NCHW, TTA_DTYPE_UINT8, 3},
                     to1 = {TTA_LAYOUT_NHWC, TTA_DTYPE_FLOAT32, 1, 255};
    uint8_t out3[2 * 3 * 4];
    CHECK(tta_augment_batch(plan, &g, 1, 0, 2, &to3, out3, sizeof out3) == TTA_OK);
    CHECK(out3[0] == 0 && out3[4] == 0 && out3[8] == 0 && out3[1] == 51 && out3[9] == 51);
    CHECK(out3[12] == 51 && out3[13] == 0 && out3[16] == 51); /* view 1 is flipped */
    float out1[2 * 4];
    CHECK(tta_augment_batch(plan, &c, 1, 0, 2, &to1, out1, sizeof out1) == TTA_OK);
    CHECK_NEAR(out1[0], 0.299 * 10 + 0.587 * 20 + 0.114 * 30, 1e-3); /* luma, alpha dropped, 0..255 */
    CHECK_NEAR(out1[4], 0.299 * 50 + 0.587 * 60 + 0.114 * 70, 1e-3);
    tta_batch_format to3f = {TTA_LAYOUT_NHWC, TTA_DTYPE_FLOAT32, 3};
    float o3[2 * 4 * 3];
    CHECK(tta_augment_batch(plan, &c, 1, 0, 1, &to3f, o3, sizeof o3) == TTA_OK);
    CHECK_NEAR(o3[3], 50 / 255.0, 1e-6); /* rgba -> rgb */
    tta_batch_format to2 = {TTA_LAYOUT_NHWC, TTA_DTYPE_FLOAT32, 2};
    CHECK_EQ_INT(tta_augment_batch(plan, &g, 1, 0, 1, &to2, o3, sizeof o3), TTA_ERR_UNSUPPORTED);
    tta_aug_plan_free(plan);
}

TEST(batch_checks_images) {
    tta_aug_plan *plan = plan_for("flip", 4, 4, 0, 0);
    if (!plan) return;
    tta_image a = {0}, b = {0};
    coord_image_u8(&a, 4, 4, 3);
    coord_image_u8(&b, 4, 5, 3);
    tta_image two[2] = {a, b};
    float buf[2 * 2 * 3 * 20];
    tta_batch_format fmt = {0};
    CHECK_EQ_INT(tta_augment_batch(plan, two, 2, 0, 2, &fmt, buf, sizeof buf), TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "image 1: the image is 4x5 but the plan was made for 4x4");
    tta_image c = {0};
    coord_image_u8(&c, 4, 4, 1);
    two[1] = c;
    CHECK_EQ_INT(tta_augment_batch(plan, two, 2, 0, 2, &fmt, buf, sizeof buf), TTA_ERR_SHAPE);
    tta_image out = {0};
    CHECK_EQ_INT(tta_augment_view(plan, 0, &b, TTA_DTYPE_UINT8, &out), TTA_ERR_SHAPE);
    CHECK_EQ_INT(tta_augment_view(plan, 2, &a, TTA_DTYPE_UINT8, &out), TTA_ERR_INVALID_ARG);
    tta_image_destroy(&a), tta_image_destroy(&b), tta_image_destroy(&c), tta_image_destroy(&out);
    tta_aug_plan_free(plan);
}

TEST(augmentation_is_deterministic) {
    const char *text =
        "seed; rot90; vflip; scale(0.9); brightness(1.2) > rotate(5, bicubic); letterbox(31, 40)";
    /* 13 views of 64 x 61 x 3: enough values for the batch to be split over threads */
    tta_aug_plan *p1 = plan_for(text, 64, 61, 64, 61), *p2 = plan_for(text, 64, 61, 64, 61);
    if (!p1 || !p2) return;
    tta_image img = {0};
    coord_image_f(&img, 64, 61, 3);
    for (size_t i = 0; i < tta_image_nbytes(&img) / 4; i++)
        ((float *)img.data)[i] /= 40000.0f;
    int V = tta_aug_plan_n_views(p1);
    tta_batch_format fmt = {TTA_LAYOUT_NCHW, TTA_DTYPE_FLOAT32};
    size_t bytes = tta_batch_bytes(p1, 1, 0, V, &fmt, 3);
    float *a = malloc(bytes), *b = malloc(bytes), *c = malloc(bytes);
    CHECK(tta_augment_batch(p1, &img, 1, 0, V, &fmt, a, bytes) == TTA_OK);
    CHECK(tta_augment_batch(p1, &img, 1, 0, V, &fmt, b, bytes) == TTA_OK);
    CHECK(tta_augment_batch(p2, &img, 1, 0, V, &fmt, c, bytes) == TTA_OK);
    CHECK(memcmp(a, b, bytes) == 0);
    CHECK(memcmp(a, c, bytes) == 0);
    int threads = omp_get_max_threads(); /* items are split over threads: same bytes on one */
    omp_set_num_threads(1);
    CHECK(tta_augment_batch(p1, &img, 1, 0, V, &fmt, b, bytes) == TTA_OK);
    omp_set_num_threads(threads);
    CHECK(memcmp(a, b, bytes) == 0);
    free(a), free(b), free(c);
    tta_image_destroy(&img);
    tta_aug_plan_free(p2);
    tta_aug_plan_free(p1);
}

/* ---- colour ---- */

TEST(colour_transforms) {
    uint8_t px[2 * 3] = {100, 200, 50, 0, 128, 255};
    tta_image in = {0}, out = {0};
    tta_image_wrap(&in, 1, 2, 3, TTA_DTYPE_UINT8, px);
    tta_aug_plan *plan =
        plan_for("brightness(1.5); contrast(0); gamma(2); saturation(0); saturation(1)", 1, 2, 0, 0);
    if (!plan) return;
    CHECK(tta_augment_view(plan, 1, &in, TTA_DTYPE_UINT8, &out) == TTA_OK);
    const uint8_t *o = out.data;
    CHECK(o[0] == 150 && o[1] == 255 && o[2] == 75 && o[3] == 0 && o[4] == 192 && o[5] == 255);
    CHECK(tta_augment_view(plan, 2, &in, TTA_DTYPE_FLOAT32, &out) == TTA_OK); /* contrast 0: the mean grey */
    float grey0 = 0.299f * 100 + 0.587f * 200 + 0.114f * 50, grey1 = 0.587f * 128 + 0.114f * 255;
    float mean = (grey0 + grey1) / 2 / 255;
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(((float *)out.data)[i], mean, 1e-6);
    CHECK(tta_augment_view(plan, 3, &in, TTA_DTYPE_FLOAT32, &out) == TTA_OK);
    CHECK_NEAR(((float *)out.data)[0], (100 / 255.0) * (100 / 255.0), 1e-6);
    CHECK(tta_augment_view(plan, 4, &in, TTA_DTYPE_FLOAT32, &out) == TTA_OK);
    CHECK_NEAR(((float *)out.data)[0], grey0 / 255, 1e-6);
    CHECK_NEAR(((float *)out.data)[2], grey0 / 255, 1e-6);
    CHECK(tta_augment_view(plan, 5, &in, TTA_DTYPE_UINT8, &out) == TTA_OK);
    CHECK(memcmp(out.data, px, 6) == 0);
    /* alpha is left alone; saturation needs colour */
    uint8_t ga[4] = {100, 7, 200, 9};
    tta_image g = {0};
    tta_image_wrap(&g, 1, 2, 2, TTA_DTYPE_UINT8, ga);
    CHECK(tta_augment_view(plan, 1, &g, TTA_DTYPE_UINT8, &out) == TTA_OK);
    o = out.data;
    CHECK(o[0] == 150 && o[1] == 7 && o[2] == 255 && o[3] == 9);
    CHECK_EQ_INT(tta_augment_view(plan, 4, &g, TTA_DTYPE_UINT8, &out), TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "saturation needs a colour image");
    /* colour views need no geometric inverse */
    float m[2] = {1, 2}, back[2];
    uint8_t valid[2];
    CHECK(tta_invert_dense(plan, 3, 1, TTA_INTERP_NEAREST, m, 1, 1, 2, back, 1, 2, valid) == TTA_OK);
    CHECK(back[0] == 1 && back[1] == 2 && valid[0] && valid[1]);
    tta_image_destroy(&out);
    tta_aug_plan_free(plan);
}

/* ---- plans: errors and failed allocations ---- */

TEST(plan_errors_name_the_view) {
    tta_policy pol;
    tta_aug_plan *plan = (tta_aug_plan *)1;
    CHECK(tta_policy_parse(&pol, "hflip; crop(center, 40)", NULL) == TTA_OK);
    CHECK_EQ_INT(tta_aug_plan_new(&plan, &pol, 32, 32, 0, 0), TTA_ERR_SHAPE);
    CHECK(plan == NULL);
    CHECK_STR_CONTAINS(tta_last_error(),
                       "view 2: crop(center, 40): a 40x40 crop does not fit in the 32x32 image");
    CHECK_EQ_INT(tta_aug_plan_new(&plan, &pol, 0, 32, 0, 0), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_aug_plan_new(&plan, &pol, 64, 64, 10, 0), TTA_ERR_INVALID_ARG);
    pol.views[0].n = 1; /* view 0 must be the identity */
    CHECK_EQ_INT(tta_aug_plan_new(&plan, &pol, 64, 64, 0, 0), TTA_ERR_INVALID_ARG);
    tta_policy_destroy(&pol);
}

static long live, n_allocs, fail_at = -1;
static void *counting_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    if (!ptr) {
        if (n_allocs++ == fail_at) return NULL;
        live++;
    }
    return realloc(ptr, size);
}
static void counting_free(void *user, void *ptr) {
    (void)user;
    live--;
    free(ptr);
}

TEST(failed_allocations_leak_nothing) {
    tta_policy pol;
    CHECK(tta_policy_parse(&pol, "seed; rot90; vflip; scale(0.5) > resize(9, 7, bicubic); letterbox(30, 20)",
                           NULL) == TTA_OK);
    tta_image img = {0};
    coord_image_u8(&img, 13, 11, 3);
    tta_allocator a = {counting_realloc, counting_free, NULL};
    int saw_ok = 0, saw_nomem = 0;
    for (fail_at = 0; fail_at < 200 && !saw_ok; fail_at++) {
        n_allocs = live = 0;
        tta_set_allocator(&a);
        tta_aug_plan *plan = NULL;
        tta_image out = {0};
        tta_status st = tta_aug_plan_new(&plan, &pol, 13, 11, 0, 0);
        for (int v = 0; st == TTA_OK && v < tta_aug_plan_n_views(plan); v++)
            st = tta_augment_view(plan, v, &img, TTA_DTYPE_FLOAT32, &out);
        tta_image_destroy(&out);
        tta_aug_plan_free(plan);
        tta_set_allocator(NULL);
        CHECK(st == TTA_OK || st == TTA_ERR_NOMEM);
        CHECK_EQ_INT(live, 0);
        saw_ok |= st == TTA_OK;
        saw_nomem |= st == TTA_ERR_NOMEM;
    }
    CHECK(saw_ok && saw_nomem);
    fail_at = -1;
    tta_image_destroy(&img);
    tta_policy_destroy(&pol);
}
