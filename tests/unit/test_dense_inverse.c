/* test_dense_inverse.c - tta_invert_dense against an independent oracle, at output strides 1,
 * 2, 4 and 8, through every kind of view.
 *
 * The model's output map in the view frame holds, at map pixel (i, j), the view-frame position
 * of its centre: channel 0 = stride (j + 0.5), channel 1 = stride (i + 0.5). Mapped back, each
 * valid original-frame pixel must therefore read the view-frame position of its own centre. The
 * test computes that position itself, by pushing the centre forward through small oracle
 * functions written from the definitions in augment.h (one per transform: flips x -> W - x,
 * rot90 counter-clockwise as numpy.rot90, shifts moving content dx right, crops at their
 * anchor, scale about the centre, resize by the size ratio, letterbox scaled to fit and centred,
 * rotate counter-clockwise on screen about the centre), noting where the point leaves a frame.
 *
 * Expected values: bilinear sampling of a linear map is the position itself, except that
 * positions are clamped to the outermost map pixel centres; nearest sampling gives the centre of
 * the nearest map pixel (either one on an exact half). Where the position falls on a map pixel
 * centre (flips, rot90, transpose on sizes that are multiples of the stride; shifts and crops by
 * multiples of it) the result must be bit for bit. valid must be 0 exactly where the oracle's
 * point left a frame (points within 1e-7 of an edge are not judged). */
#include <stdint.h>

#include "test.h"
#include "tta/augment.h"

/* ---- the oracle: one small function per transform ---- */

typedef struct pt {
    double x, y; /* continuous coordinates, origin at the top-left corner */
    double w, h; /* the current frame */
} pt;

typedef enum okind { O_HFLIP, O_VFLIP, O_TRANSPOSE, O_ROT90, O_SHIFT, O_WRAP, O_CROP, O_SCALE, O_RESIZE, O_LETTERBOX, O_ROTATE } okind;

typedef struct ostep {
    okind kind;
    double a, b;       /* k; dx, dy; crop h, w; scale s; resize/letterbox h, w; degrees */
    tta_anchor anchor; /* crop */
} ostep;

static void o_hflip(pt *p, const ostep *s) { (void)s, p->x = p->w - p->x; }
static void o_vflip(pt *p, const ostep *s) { (void)s, p->y = p->h - p->y; }
static void o_transpose(pt *p, const ostep *s) {
    (void)s;
    double t = p->x;
    p->x = p->y, p->y = t;
    t = p->w, p->w = p->h, p->h = t;
}
/* one quarter turn counter-clockwise: the top-right corner (W, 0) goes to the top-left, the
 * top-left corner to the bottom-left (0, W) of the W-high result; k turns are k of these */
static void o_rot90(pt *p, const ostep *s) {
    for (int k = 0; k < (int)s->a; k++) {
        double x = p->y, y = p->w - p->x;
        double t = p->w;
        p->x = x, p->y = y, p->w = p->h, p->h = t;
    }
}
static void o_shift(pt *p, const ostep *s) { p->x += s->a, p->y += s->b; }
static double mod(double v, double n) {
    double m = fmod(v, n);
    return m < 0 ? m + n : m;
}
static void o_wrap(pt *p, const ostep *s) { p->x = mod(p->x + s->a, p->w), p->y = mod(p->y + s->b, p->h); }
/* a whole-pixel crop: the anchor's corner stays, a centred crop starts at floor((W - w) / 2) */
static void o_crop(pt *p, const ostep *s) {
    int H = (int)p->h, W = (int)p->w, ch = (int)s->a, cw = (int)s->b;
    int left = s->anchor == TTA_ANCHOR_TR || s->anchor == TTA_ANCHOR_BR, top = s->anchor == TTA_ANCHOR_BL || s->anchor == TTA_ANCHOR_BR;
    int ox = s->anchor == TTA_ANCHOR_CENTER ? (W - cw) / 2 : left ? W - cw : 0;
    int oy = s->anchor == TTA_ANCHOR_CENTER ? (H - ch) / 2 : top ? H - ch : 0;
    p->x -= ox, p->y -= oy, p->w = cw, p->h = ch;
}
static void o_scale(pt *p, const ostep *s) {
    p->x = p->w / 2 + s->a * (p->x - p->w / 2);
    p->y = p->h / 2 + s->a * (p->y - p->h / 2);
}
static void o_resize(pt *p, const ostep *s) {
    p->x *= s->b / p->w, p->y *= s->a / p->h;
    p->w = s->b, p->h = s->a;
}
/* fit into th x tw keeping the aspect ratio, in whole pixels (round(H r) x round(W r)), then pad
 * to th x tw with the image at floor of half the padding from the top-left */
static void o_letterbox(pt *p, const ostep *s) {
    double r = fmin(s->a / p->h, s->b / p->w);
    double nh = round(p->h * r), nw = round(p->w * r);
    p->x = p->x * nw / p->w + floor((s->b - nw) / 2);
    p->y = p->y * nh / p->h + floor((s->a - nh) / 2);
    p->w = s->b, p->h = s->a;
}
/* counter-clockwise on screen (y points down): a point right of the centre moves up */
static void o_rotate(pt *p, const ostep *s) {
    double t = s->a * M_PI / 180, c = cos(t), sn = sin(t), cx = p->w / 2, cy = p->h / 2;
    double dx = p->x - cx, dy = p->y - cy;
    p->x = cx + c * dx + sn * dy;
    p->y = cy - sn * dx + c * dy;
}

static void (*const oracle_fn[])(pt *, const ostep *) = {
    [O_HFLIP] = o_hflip,   [O_VFLIP] = o_vflip, [O_TRANSPOSE] = o_transpose, [O_ROT90] = o_rot90,
    [O_SHIFT] = o_shift,   [O_WRAP] = o_wrap,   [O_CROP] = o_crop,           [O_SCALE] = o_scale,
    [O_RESIZE] = o_resize, [O_LETTERBOX] = o_letterbox, [O_ROTATE] = o_rotate,
};

enum { INSIDE, OUTSIDE, ON_EDGE };

static int where(const pt *p) {
    const double e = 1e-7;
    if (p->x < -e || p->y < -e || p->x > p->w + e || p->y > p->h + e) return OUTSIDE;
    if (fabs(p->x) <= e || fabs(p->y) <= e || fabs(p->x - p->w) <= e || fabs(p->y - p->h) <= e) return ON_EDGE;
    return INSIDE;
}

/* Pushes p through the steps; returns INSIDE if it stayed inside every frame, OUTSIDE if it
 * left one, ON_EDGE if it only touched an edge. */
static int oracle(pt *p, const ostep *steps, int n) {
    int state = where(p) == OUTSIDE ? OUTSIDE : INSIDE;
    for (int k = 0; k < n; k++) {
        oracle_fn[steps[k].kind](p, &steps[k]);
        int w = where(p);
        if (w == OUTSIDE && state != OUTSIDE) state = OUTSIDE;
        if (w == ON_EDGE && state == INSIDE) state = ON_EDGE;
    }
    return state;
}

/* ---- the views ---- */

#define S1(k, a, b) {{k, a, b, 0}}
typedef struct vcase {
    const char *text;
    int n;
    ostep steps[3];
} vcase;

static const vcase cases[] = {
    {"identity", 0, {{0}}},
    {"hflip", 1, S1(O_HFLIP, 0, 0)},
    {"vflip", 1, S1(O_VFLIP, 0, 0)},
    {"transpose", 1, S1(O_TRANSPOSE, 0, 0)},
    {"rot90(1)", 1, S1(O_ROT90, 1, 0)},
    {"rot90(2)", 1, S1(O_ROT90, 2, 0)},
    {"rot90(3)", 1, S1(O_ROT90, 3, 0)},
    {"shift(3, -5, constant)", 1, S1(O_SHIFT, 3, -5)},
    {"shift(-8, 16, constant)", 1, S1(O_SHIFT, -8, 16)},
    {"shift(3, -5, edge)", 1, S1(O_SHIFT, 3, -5)},
    {"shift(-2, 7, reflect)", 1, S1(O_SHIFT, -2, 7)},
    {"shift(8, 8, reflect)", 1, S1(O_SHIFT, 8, 8)},
    {"shift(3, -5, wrap)", 1, S1(O_WRAP, 3, -5)},
    {"shift(-16, 8, wrap)", 1, S1(O_WRAP, -16, 8)},
    {"crop(tl, 16, 12)", 1, {{O_CROP, 16, 12, TTA_ANCHOR_TL}}},
    {"crop(tr, 16, 12)", 1, {{O_CROP, 16, 12, TTA_ANCHOR_TR}}},
    {"crop(bl, 13, 17)", 1, {{O_CROP, 13, 17, TTA_ANCHOR_BL}}},
    {"crop(br, 16, 24)", 1, {{O_CROP, 16, 24, TTA_ANCHOR_BR}}},
    {"crop(center, 13, 18)", 1, {{O_CROP, 13, 18, TTA_ANCHOR_CENTER}}},
    {"scale(1.25)", 1, S1(O_SCALE, 1.25, 0)},
    {"scale(0.8, nearest, edge)", 1, S1(O_SCALE, 0.8, 0)},
    {"resize(20, 28)", 1, S1(O_RESIZE, 20, 28)},
    {"resize(40, 48, nearest)", 1, S1(O_RESIZE, 40, 48)},
    {"letterbox(32, 32)", 1, S1(O_LETTERBOX, 32, 32)},
    {"letterbox(24, 40)", 1, S1(O_LETTERBOX, 24, 40)},
    {"rotate(10)", 1, S1(O_ROTATE, 10, 0)},
    {"rotate(-25, nearest, constant)", 1, S1(O_ROTATE, -25, 0)},
    {"hflip > shift(8, 0, constant)", 2, {{O_HFLIP, 0, 0, 0}, {O_SHIFT, 8, 0, 0}}},
    {"rot90(1) > crop(br, 12, 16)", 2, {{O_ROT90, 1, 0, 0}, {O_CROP, 12, 16, TTA_ANCHOR_BR}}},
    {"transpose > scale(1.25) > vflip", 3, {{O_TRANSPOSE, 0, 0, 0}, {O_SCALE, 1.25, 0, 0}, {O_VFLIP, 0, 0, 0}}},
    {"shift(5, 3, wrap) > rotate(15)", 2, {{O_WRAP, 5, 3, 0}, {O_ROTATE, 15, 0, 0}}},
    {"letterbox(32, 40) > hflip", 2, {{O_LETTERBOX, 32, 40, 0}, {O_HFLIP, 0, 0, 0}}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

typedef struct tally {
    long checked, exact, edge, outside_image, invalid;
} tally;

/* Expected sample at view position v (one axis) on a map of n pixels at stride s: bilinear
 * clamps to the outer centres; nearest takes the nearest centre. Returns the expected value;
 * *alt is the other acceptable value on an exact half (else the same), *exact 1 when the
 * position is on a map pixel centre. */
static double expect_axis(double v, int n, int s, int nearest, double *alt, int *exact) {
    double u = v / s - 0.5;
    u = u < 0 ? 0 : u > n - 1 ? n - 1 : u;
    *exact = fabs(u - round(u)) < 1e-9;
    if (!nearest) {
        *alt = s * (u + 0.5);
        return *alt;
    }
    double r = floor(u + 0.5);
    if (fabs(u - floor(u) - 0.5) < 1e-6) { /* a tie: either neighbour */
        *alt = s * (floor(u) + 1.5);
        return s * (floor(u) + 0.5);
    }
    *alt = s * (r + 0.5);
    return *alt;
}

/* One view of one plan at one stride with one interpolation. Returns 0 after the first few
 * failures (reported with the view and pixel). */
static void check_view(const tta_aug_plan *plan, int v, const vcase *vc, const ostep *extra, int H, int W, int s,
                       tta_interp interp, tally *t) {
    int vh, vw;
    tta_aug_plan_view_size(plan, v, &vh, &vw);
    int sh = (vh + s - 1) / s, sw = (vw + s - 1) / s, dh = (H + s - 1) / s, dw = (W + s - 1) / s;
    float *src = malloc(sizeof(float) * 2 * sh * sw), *dst = malloc(sizeof(float) * 2 * dh * dw);
    uint8_t *valid = malloc((size_t)dh * dw);
    for (int i = 0; i < sh; i++)
        for (int j = 0; j < sw; j++) {
            src[i * sw + j] = (float)(s * (j + 0.5));
            src[sh * sw + i * sw + j] = (float)(s * (i + 0.5));
        }
    CHECK(tta_invert_dense(plan, v, s, interp, src, 2, sh, sw, dst, dh, dw, valid) == TTA_OK);
    ostep steps[4];
    int n = vc->n;
    memcpy(steps, vc->steps, sizeof vc->steps);
    if (extra) steps[n++] = *extra;
    int failures = 0;
    for (int i = 0; i < dh && failures < 3; i++)
        for (int j = 0; j < dw && failures < 3; j++) {
            pt p = {s * (j + 0.5), s * (i + 0.5), W, H};
            if (p.x > W || p.y > H) { /* a partial map pixel: its centre is outside the image */
                t->outside_image++;
                continue;
            }
            int state = oracle(&p, steps, n);
            /* the oracle's last frame is the view */
            if (fabs(p.w - vw) > 1e-9 || fabs(p.h - vh) > 1e-9) {
                fprintf(stderr, "  %s on %dx%d: oracle frame %gx%g, view %dx%d\n", vc->text, H, W, p.h, p.w, vh, vw);
                test_failures_in_case++, failures = 3;
                break;
            }
            int o = i * dw + j, before = test_failures_in_case;
            if (state == ON_EDGE) {
                t->edge++;
                if (!valid[o]) continue;
            } else {
                CHECK_EQ_INT(valid[o], state == INSIDE);
            }
            if (!valid[o]) {
                CHECK(dst[o] == 0.0f && dst[dh * dw + o] == 0.0f);
                t->invalid++;
            } else {
                int ex, ey;
                double ax, ay, x = expect_axis(p.x, sw, s, interp == TTA_INTERP_NEAREST, &ax, &ex),
                               y = expect_axis(p.y, sh, s, interp == TTA_INTERP_NEAREST, &ay, &ey);
                float gx = dst[o], gy = dst[dh * dw + o];
                if (ex && ey) { /* on a map pixel centre: bit for bit */
                    CHECK(gx == (float)x && gy == (float)y);
                    t->exact++;
                } else {
                    const double tol = 2e-4 * s;
                    CHECK(fabs(gx - x) <= tol || fabs(gx - ax) <= tol);
                    CHECK(fabs(gy - y) <= tol || fabs(gy - ay) <= tol);
                }
                t->checked++;
            }
            if (test_failures_in_case != before) {
                fprintf(stderr,
                        "  ... view \"%s\"%s, image %dx%d, stride %d, %s: dst pixel (%d, %d) -> view (%.4f, %.4f), "
                        "valid %d, got (%.4f, %.4f)\n",
                        vc->text, extra ? " + resize" : "", H, W, s, interp == TTA_INTERP_NEAREST ? "nearest" : "bilinear", i,
                        j, p.x, p.y, valid[o], dst[o], dst[dh * dw + o]);
                failures++;
            }
        }
    free(src), free(dst), free(valid);
}

/* Every view, sizes that are multiples of 8 and sizes that are not, strides 1 to 8, nearest and
 * bilinear; with forced = 1 the plan resizes every view to one size, which the oracle follows
 * with a resize step. */
static void run_all(int forced) {
    const int sizes[][2] = {{24, 32}, {32, 24}, {21, 30}, {19, 27}, {26, 26}};
    const int strides[] = {1, 2, 4, 8};
    tally t = {0};
    for (int c = 0; c < N_CASES; c++) {
        tta_policy pol;
        char text[128];
        snprintf(text, sizeof text, "%s", cases[c].text);
        if (tta_policy_parse(&pol, text, NULL) != TTA_OK) {
            fprintf(stderr, "  policy \"%s\": %s\n", text, tta_last_error());
            test_failures_in_case++;
            tta_policy_destroy(&pol);
            continue;
        }
        int v = pol.n_views - 1; /* the view (or the identity, view 0) */
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            int H = sizes[z][0], W = sizes[z][1];
            int oh = forced ? 20 : 0, ow = forced ? 36 : 0;
            tta_aug_plan *plan = NULL;
            if (tta_aug_plan_new(&plan, &pol, H, W, oh, ow) != TTA_OK) {
                fprintf(stderr, "  plan \"%s\" on %dx%d: %s\n", text, H, W, tta_last_error());
                test_failures_in_case++;
                continue;
            }
            /* the natural size, from the oracle's frame */
            pt p = {0, 0, W, H};
            oracle(&p, cases[c].steps, cases[c].n);
            ostep rs = {O_RESIZE, oh, ow, 0};
            const ostep *extra = forced && (p.h != oh || p.w != ow) ? &rs : NULL;
            for (size_t k = 0; k < sizeof strides / sizeof strides[0]; k++)
                for (int interp = TTA_INTERP_NEAREST; interp <= TTA_INTERP_BILINEAR; interp++)
                    check_view(plan, v, &cases[c], extra, H, W, strides[k], (tta_interp)interp, &t);
            tta_aug_plan_free(plan);
        }
        tta_policy_destroy(&pol);
    }
    fprintf(stderr, "  %ld pixels checked (%ld bit for bit), %ld invalid, %ld on an edge, %ld outside the image\n",
            t.checked, t.exact, t.invalid, t.edge, t.outside_image);
    CHECK(t.invalid > 1000 && t.exact > (forced ? 100 : 100000));
}

TEST(every_view_every_stride) { run_all(0); }
TEST(every_view_resized_to_one_size) { run_all(1); }

/* The oracle itself, on points worked out by hand (W = 10, H = 6). */
TEST(oracle_by_hand) {
    pt p;
    ostep rot = {O_ROT90, 1, 0, 0};
    p = (pt){9, 1, 10, 6}; /* near the top-right corner -> near the top-left of a 10-high image */
    o_rot90(&p, &rot);
    CHECK(p.x == 1 && p.y == 1 && p.w == 6 && p.h == 10);
    ostep rot3 = {O_ROT90, 3, 0, 0};
    p = (pt){1, 1, 10, 6}; /* three turns = one clockwise: top-left -> top-right */
    o_rot90(&p, &rot3);
    CHECK(p.x == 5 && p.y == 1 && p.w == 6 && p.h == 10);
    ostep crop = {O_CROP, 4, 6, TTA_ANCHOR_CENTER};
    p = (pt){5, 3, 10, 6}; /* the centre stays the centre: offsets (2, 1) */
    o_crop(&p, &crop);
    CHECK(p.x == 3 && p.y == 2 && p.w == 6 && p.h == 4);
    ostep lb = {O_LETTERBOX, 10, 10, 0};
    p = (pt){10, 6, 10, 6}; /* 10 x 6 -> 10 x 6 placed 2 rows down in 10 x 10 */
    o_letterbox(&p, &lb);
    CHECK(p.x == 10 && p.y == 8);
    ostep r90 = {O_ROTATE, 90, 0, 0};
    p = (pt){7, 3, 10, 6}; /* 2 right of the centre (5, 3) -> 2 above it */
    o_rotate(&p, &r90);
    CHECK_NEAR(p.x, 5, 1e-12);
    CHECK_NEAR(p.y, 1, 1e-12);
    ostep wrap = {O_WRAP, -3, 2, 0};
    p = (pt){1, 5, 10, 6};
    o_wrap(&p, &wrap);
    CHECK(p.x == 8 && p.y == 1);
}
