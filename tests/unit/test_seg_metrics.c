/* test_seg_metrics.c - the segmentation metrics of segment.h (src/segment/seg_metrics.c):
 * confusion matrices, scores and boundary bands against scripts/ref_seg_metrics.py's
 * independent numpy reference (tests/data/segment/metrics_ref.txt), the uncertainty-quality
 * figures against exact AUROC (Mann-Whitney), AP and risk, hand-computed 3x3 cases, the
 * O(H W) boundary band against a brute-force window scan on random images, bad values and
 * arguments, and the paired mIoU bootstrap (identical policies, a policy better on every image,
 * seeds, thread-count independence), with the timings asked of it printed. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"
#include "tta/segment.h"
#include "tta/tensor.h"

#define REF "tests/data/segment/metrics_ref.txt"

/* ---- helpers ------------------------------------------------------------------------------ */

static uint64_t rng_state = 12345;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A blocky random truth: a coarse grid of classes upsampled by `cell`. */
static void blocky(uint8_t *t, int h, int w, int classes, int cell) {
    int gw = (w + cell - 1) / cell, gh = (h + cell - 1) / cell;
    uint8_t *g = malloc((size_t)gw * gh);
    for (int k = 0; k < gw * gh; k++)
        g[k] = (uint8_t)(rnd() % (unsigned)classes);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            t[y * w + x] = g[(y / cell) * gw + x / cell];
    free(g);
}

/* ---- the reference file ------------------------------------------------------------------- */

/* The tokens after the keyword of one line. */
typedef struct line {
    char *buf;
    char *tok[64];
    int n;
} line;

static int next_line(FILE *f, line *l, size_t *cap) {
    for (;;) {
        if (getline(&l->buf, cap, f) < 0) return 0;
        if (l->buf[0] != '#' && l->buf[0] != '\n') break;
    }
    return 1;
}

/* Keyword of the current line (first token), without consuming the line. */
static const char *keyword(const line *l, char *out, size_t n) {
    size_t k = 0;
    while (l->buf[k] && l->buf[k] != ' ' && l->buf[k] != '\n' && k + 1 < n) {
        out[k] = l->buf[k];
        k++;
    }
    out[k] = '\0';
    return out;
}

/* Parses "KEY v v v" into up to n long longs; returns the count. */
static int parse_ints(const char *s, long long *v, int n) {
    const char *p = strchr(s, ' ');
    int k = 0;
    while (p && k < n) {
        char *end;
        long long x = strtoll(p, &end, 10);
        if (end == p) break;
        v[k++] = x;
        p = end;
    }
    return k;
}

static int parse_doubles(const char *s, double *v, int n) {
    const char *p = strchr(s, ' ');
    int k = 0;
    while (p && k < n) {
        char *end;
        double x = strtod(p, &end);
        if (end == p) break;
        v[k++] = x;
        p = end;
    }
    return k;
}

/* Value of "name X" in a line of name/value pairs. */
static double field(const char *s, const char *name) {
    char pat[64];
    snprintf(pat, sizeof pat, " %s ", name);
    const char *p = strstr(s, pat);
    if (!p) return NAN;
    return strtod(p + strlen(pat), NULL);
}

typedef struct ref_counts {
    int seg_cases, unc_cases, images;
} ref_counts;

static void check_seg_case(FILE *f, line *l, size_t *cap, ref_counts *rc) {
    char name[128];
    int C = 0, ignore = 0, b = 0, n = 0;
    CHECK(sscanf(l->buf, "seg %127s classes %d ignore %d boundary %d images %d", name, &C, &ignore, &b, &n) ==
          5);
    tta_confusion cm, sum, one;
    CHECK(tta_confusion_init(&cm, C, ignore, b) == TTA_OK);
    CHECK(tta_confusion_init(&sum, C, ignore, b) == TTA_OK);
    CHECK(tta_confusion_init(&one, C, ignore, b) == TTA_OK);
    size_t cc = (size_t)C * C;
    long long *v = malloc(sizeof *v * 65536);
    for (int i = 0; i < n; i++) {
        int h = 0, w = 0;
        CHECK(next_line(f, l, cap) && sscanf(l->buf, "image %d %d", &h, &w) == 2);
        uint8_t *t = malloc((size_t)h * w), *p = malloc((size_t)h * w);
        CHECK(next_line(f, l, cap) && !strncmp(l->buf, "truth ", 6));
        CHECK(parse_ints(l->buf, v, 65536) == h * w);
        for (int k = 0; k < h * w; k++)
            t[k] = (uint8_t)v[k];
        CHECK(next_line(f, l, cap) && !strncmp(l->buf, "pred ", 5));
        CHECK(parse_ints(l->buf, v, 65536) == h * w);
        for (int k = 0; k < h * w; k++)
            p[k] = (uint8_t)v[k];
        CHECK(tta_confusion_add(&cm, t, p, h, w) == TTA_OK);
        /* the same through per-image matrices */
        tta_confusion_clear(&one);
        CHECK(tta_confusion_add(&one, t, p, h, w) == TTA_OK);
        tta_confusion_add_matrix(&sum, &one, 1);
        free(t);
        free(p);
        rc->images++;
    }
    CHECK(next_line(f, l, cap) && !strncmp(l->buf, "counts ", 7));
    CHECK(parse_ints(l->buf, v, 65536) == (int)cc);
    int bad = 0;
    for (size_t k = 0; k < cc; k++)
        bad += cm.counts[k] != v[k] || sum.counts[k] != v[k];
    if (b > 0) {
        CHECK(next_line(f, l, cap) && !strncmp(l->buf, "bcounts ", 8));
        CHECK(parse_ints(l->buf, v, 65536) == (int)cc);
        for (size_t k = 0; k < cc; k++)
            bad += cm.boundary_counts[k] != v[k] || sum.boundary_counts[k] != v[k];
    } else {
        CHECK(cm.boundary_counts == NULL);
    }
    if (bad) fprintf(stderr, "  case %s: %d counts differ from the reference\n", name, bad);
    CHECK_EQ_INT(bad, 0);
    CHECK(next_line(f, l, cap) && !strncmp(l->buf, "scores ", 7));
    tta_seg_scores s;
    double *iou = malloc(sizeof *iou * (size_t)C), *ref_iou = malloc(sizeof *ref_iou * (size_t)C);
    tta_confusion_scores(&cm, &s, iou);
    CHECK_NEAR(s.miou, field(l->buf, "miou"), 1e-12);
    CHECK_NEAR(s.miou_fg, field(l->buf, "miou_fg"), 1e-12);
    CHECK_NEAR(s.dice, field(l->buf, "dice"), 1e-12);
    CHECK_NEAR(s.pixel_accuracy, field(l->buf, "pixel_accuracy"), 1e-12);
    CHECK_NEAR(s.boundary_miou, field(l->buf, "boundary_miou"), 1e-12);
    CHECK_EQ_INT(s.n_present, (int)field(l->buf, "n_present"));
    CHECK(next_line(f, l, cap) && !strncmp(l->buf, "iou ", 4));
    CHECK(parse_doubles(l->buf, ref_iou, C) == C);
    for (int c = 0; c < C; c++)
        CHECK_NEAR(iou[c], ref_iou[c], 1e-12);
    CHECK(next_line(f, l, cap) && !strncmp(l->buf, "end", 3));
    free(iou);
    free(ref_iou);
    free(v);
    tta_confusion_destroy(&cm);
    tta_confusion_destroy(&sum);
    tta_confusion_destroy(&one);
    rc->seg_cases++;
}

static void check_unc_case(FILE *f, line *l, size_t *cap, ref_counts *rc) {
    char name[128];
    int bins = 0, n = 0;
    double maxv = 0, tol = 0;
    CHECK(sscanf(l->buf, "unc %127s bins %d max %lf n %d tol %lf", name, &bins, &maxv, &n, &tol) == 5);
    float *u = malloc(sizeof *u * (size_t)n);
    uint8_t *w = malloc((size_t)n);
    CHECK(next_line(f, l, cap) && !strncmp(l->buf, "u ", 2));
    const char *p = l->buf + 1;
    for (int i = 0; i < n; i++) {
        char *end;
        u[i] = strtof(p, &end); /* %.9g round-trips float32 */
        CHECK(end != p);
        p = end;
    }
    CHECK(next_line(f, l, cap) && !strncmp(l->buf, "wrong ", 6));
    long long *v = malloc(sizeof *v * (size_t)n);
    CHECK(parse_ints(l->buf, v, n) == n);
    for (int i = 0; i < n; i++)
        w[i] = (uint8_t)v[i];
    tta_unc_quality q;
    CHECK(tta_unc_quality_init(&q, bins, maxv) == TTA_OK);
    /* in two halves: adding is accumulating */
    tta_unc_quality_add(&q, u, w, n / 2);
    tta_unc_quality_add(&q, u + n / 2, w + n / 2, n - n / 2);
    CHECK(next_line(f, l, cap) && !strncmp(l->buf, "auroc ", 6));
    double ref_auroc = strtod(l->buf + 6, NULL), ref_aupr = field(l->buf, "aupr");
    double auroc = tta_unc_quality_auroc(&q), aupr = tta_unc_quality_aupr(&q);
    CHECK_NEAR(auroc, ref_auroc, tol);
    CHECK_NEAR(aupr, ref_aupr, tol);
    if (tol >= 1e-6)
        printf("  %s: |binned - exact| AUROC %.2e, AUPR %.2e (tolerance %g)\n", name, fabs(auroc - ref_auroc),
               fabs(aupr - ref_aupr), tol);
    CHECK(next_line(f, l, cap) && !strncmp(l->buf, "risk ", 5));
    double r[32];
    int nr = parse_doubles(l->buf, r, 32);
    CHECK(nr >= 2 && nr % 2 == 0);
    for (int k = 0; k + 1 < nr; k += 2)
        CHECK_NEAR(tta_unc_quality_risk(&q, r[k]), r[k + 1], tol);
    CHECK(next_line(f, l, cap) && !strncmp(l->buf, "end", 3));
    tta_unc_quality_destroy(&q);
    free(u);
    free(w);
    free(v);
    rc->unc_cases++;
}

TEST(reference_file) {
    FILE *f = fopen(REF, "r");
    CHECK(f != NULL);
    if (!f) return;
    line l = {0};
    size_t cap = 0;
    ref_counts rc = {0};
    char kw[32];
    while (next_line(f, &l, &cap)) {
        keyword(&l, kw, sizeof kw);
        if (!strcmp(kw, "seg"))
            check_seg_case(f, &l, &cap, &rc);
        else if (!strcmp(kw, "unc"))
            check_unc_case(f, &l, &cap, &rc);
        else {
            fprintf(stderr, "  unexpected line: %.60s\n", l.buf);
            CHECK(0);
            break;
        }
    }
    free(l.buf);
    fclose(f);
    printf("  reference: %d segmentation cases (%d images), %d uncertainty cases\n", rc.seg_cases, rc.images,
           rc.unc_cases);
    CHECK(rc.seg_cases >= 15);
    CHECK(rc.unc_cases >= 10);
}

/* ---- hand-computed cases ------------------------------------------------------------------- */

/* truth      pred       matrix [truth][pred]
 *  0 0 1      0 1 1       t0: 2 1 0     IoU0 = 2 / (3 + 3 - 2) = 1/2,  Dice0 = 4/6
 *  0 1 1      0 1 1       t1: 0 4 0     IoU1 = 4 / (4 + 5 - 4) = 4/5,  Dice1 = 8/9
 *  2 2 1      2 0 1       t2: 1 0 1     IoU2 = 1 / (2 + 1 - 1) = 1/2,  Dice2 = 2/3
 * mIoU = 1.8 / 3 = 0.6, mIoU_fg = (0.8 + 0.5) / 2 = 0.65, Dice = (6/9 + 8/9 + 6/9) / 3 = 20/27,
 * pixel accuracy = 7/9. With boundary 1 every pixel sees another class within its 3x3 window
 * (the centre sees all three), so the boundary matrix is the whole matrix. */
TEST(hand_3x3_scores) {
    const uint8_t t[9] = {0, 0, 1, 0, 1, 1, 2, 2, 1}, p[9] = {0, 1, 1, 0, 1, 1, 2, 0, 1};
    tta_confusion cm;
    CHECK(tta_confusion_init(&cm, 3, 255, 1) == TTA_OK);
    CHECK(tta_confusion_add(&cm, t, p, 3, 3) == TTA_OK);
    const int64_t want[9] = {2, 1, 0, 0, 4, 0, 1, 0, 1};
    for (int k = 0; k < 9; k++) {
        CHECK_EQ_INT(cm.counts[k], want[k]);
        CHECK_EQ_INT(cm.boundary_counts[k], want[k]);
    }
    tta_seg_scores s;
    double iou[3];
    tta_confusion_scores(&cm, &s, iou);
    CHECK_NEAR(iou[0], 0.5, 1e-15);
    CHECK_NEAR(iou[1], 0.8, 1e-15);
    CHECK_NEAR(iou[2], 0.5, 1e-15);
    CHECK_NEAR(s.miou, 0.6, 1e-15);
    CHECK_NEAR(s.miou_fg, 0.65, 1e-15);
    CHECK_NEAR(s.dice, 20.0 / 27, 1e-15);
    CHECK_NEAR(s.pixel_accuracy, 7.0 / 9, 1e-15);
    CHECK_NEAR(s.boundary_miou, 0.6, 1e-15);
    CHECK_EQ_INT(s.n_present, 3);
    /* twice the same image: the same scores, counts doubled; clear empties */
    tta_confusion_add_matrix(&cm, &cm, 1);
    CHECK_EQ_INT(cm.counts[4], 8);
    tta_confusion_scores(&cm, &s, NULL);
    CHECK_NEAR(s.miou, 0.6, 1e-15);
    tta_confusion_clear(&cm);
    tta_confusion_scores(&cm, &s, iou);
    CHECK_EQ_INT(s.n_present, 0);
    CHECK_NEAR(s.miou, 0, 0);
    CHECK_NEAR(iou[1], -1, 0);
    tta_confusion_destroy(&cm);
}

/* truth      pred      boundary 1: column 0 sees only class 0 (its window is columns 0..1), so
 *  0 0 1      0 1 1    the band is columns 1 and 2:
 *  0 0 1      0 0 0      band matrix t0: 2 1 (pixels (0,1) -> 1, (1,1), (2,1) -> 0)
 *  0 0 1      0 0 1                  t1: 1 2 ((1,2) -> 0)
 * band IoU0 = 2 / (3 + 3 - 2) = 1/2, IoU1 = 1/2: boundary mIoU 1/2.
 * whole matrix t0: 5 1, t1: 1 2: IoU0 = 5 / 7, IoU1 = 2 / 4: mIoU = 17/28. With boundary 2 the
 * windows of column 0 reach column 2: every pixel is in the band. */
TEST(hand_3x3_boundary) {
    const uint8_t t[9] = {0, 0, 1, 0, 0, 1, 0, 0, 1}, p[9] = {0, 1, 1, 0, 0, 0, 0, 0, 1};
    tta_confusion cm;
    CHECK(tta_confusion_init(&cm, 2, 255, 1) == TTA_OK);
    CHECK(tta_confusion_add(&cm, t, p, 3, 3) == TTA_OK);
    const int64_t all[4] = {5, 1, 1, 2}, band[4] = {2, 1, 1, 2};
    for (int k = 0; k < 4; k++) {
        CHECK_EQ_INT(cm.counts[k], all[k]);
        CHECK_EQ_INT(cm.boundary_counts[k], band[k]);
    }
    tta_seg_scores s;
    tta_confusion_scores(&cm, &s, NULL);
    CHECK_NEAR(s.miou, 17.0 / 28, 1e-15);
    CHECK_NEAR(s.boundary_miou, 0.5, 1e-15);
    tta_confusion_destroy(&cm);
    CHECK(tta_confusion_init(&cm, 2, 255, 2) == TTA_OK);
    CHECK(tta_confusion_add(&cm, t, p, 3, 3) == TTA_OK);
    for (int k = 0; k < 4; k++)
        CHECK_EQ_INT(cm.boundary_counts[k], all[k]);
    tta_confusion_destroy(&cm);
}

/* truth          pred        C = 2, ignore 255: the three ignored pixels are not counted and
 *   0 255   1     1 7 1      their predictions (7, 9: not classes) are not looked at.
 * 255   1   1     9 1 0      matrix t0: 2 1 ((0,0) -> 1), t1: 1 2 ((1,2) -> 0)
 *   0   0 255     0 0 0      IoU 1/2 each, pixel accuracy 4/6.
 * With boundary 1, the ignore label is a value of its own for the band: the window of (2,0)
 * holds 255, 1, 0, 0; only pixels whose whole window is one value are outside the band - none
 * here, so the band matrix is the whole matrix. */
TEST(hand_3x3_ignore) {
    const uint8_t t[9] = {0, 255, 1, 255, 1, 1, 0, 0, 255}, p[9] = {1, 7, 1, 9, 1, 0, 0, 0, 0};
    tta_confusion cm;
    CHECK(tta_confusion_init(&cm, 2, 255, 1) == TTA_OK);
    CHECK(tta_confusion_add(&cm, t, p, 3, 3) == TTA_OK);
    const int64_t want[4] = {2, 1, 1, 2};
    for (int k = 0; k < 4; k++) {
        CHECK_EQ_INT(cm.counts[k], want[k]);
        CHECK_EQ_INT(cm.boundary_counts[k], want[k]);
    }
    tta_seg_scores s;
    tta_confusion_scores(&cm, &s, NULL);
    CHECK_NEAR(s.miou, 0.5, 1e-15);
    CHECK_NEAR(s.pixel_accuracy, 4.0 / 6, 1e-15);
    tta_confusion_destroy(&cm);
    /* an ignored region next to a uniform class: its edge is a boundary for the class pixels */
    const uint8_t t2[6] = {0, 0, 0, 0, 0, 255}, p2[6] = {0};
    CHECK(tta_confusion_init(&cm, 1, 255, 1) == TTA_OK);
    CHECK(tta_confusion_add(&cm, t2, p2, 2, 3) == TTA_OK);
    CHECK_EQ_INT(cm.counts[0], 5);
    CHECK_EQ_INT(cm.boundary_counts[0], 3); /* (0,1), (0,2), (1,1); (1,2) itself is ignored */
    tta_confusion_destroy(&cm);
}

/* ---- the band against a brute-force window scan --------------------------------------------- */

TEST(boundary_band_brute_force) {
    rng_state = 99;
    int checked = 0, bad = 0;
    for (int trial = 0; trial < 300; trial++) {
        int h = 1 + (int)(rnd() % 40), w = 1 + (int)(rnd() % 40), b = 1 + (int)(rnd() % (trial % 3 ? 6 : 60));
        int C = 2 + (int)(rnd() % 4);
        uint8_t *t = malloc((size_t)h * w), *p = malloc((size_t)h * w);
        blocky(t, h, w, C, 1 + (int)(rnd() % 8));
        for (int k = 0; k < h * w; k++) {
            if (rnd() % 23 == 0) t[k] = 255;
            p[k] = (uint8_t)(rnd() % (unsigned)C);
        }
        tta_confusion cm;
        CHECK(tta_confusion_init(&cm, C, 255, b) == TTA_OK);
        CHECK(tta_confusion_add(&cm, t, p, h, w) == TTA_OK);
        int64_t want[36] = {0};
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int v = t[y * w + x], diff = 0;
                for (int dy = -b; dy <= b && !diff; dy++)
                    for (int dx = -b; dx <= b; dx++) {
                        int yy = y + dy, xx = x + dx;
                        if (yy >= 0 && yy < h && xx >= 0 && xx < w && t[yy * w + xx] != v) {
                            diff = 1;
                            break;
                        }
                    }
                if (diff && v != 255) want[v * C + p[y * w + x]]++;
            }
        for (int k = 0; k < C * C; k++)
            bad += cm.boundary_counts[k] != want[k];
        checked++;
        tta_confusion_destroy(&cm);
        free(t);
        free(p);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(checked, 300);
}

/* ---- bad values and arguments ----------------------------------------------------------------- */

TEST(bad_values) {
    tta_confusion cm;
    CHECK(tta_confusion_init(&cm, 3, 255, 2) == TTA_OK);
    uint8_t t[6] = {0, 1, 2, 0, 1, 7}, p[6] = {0, 1, 2, 0, 1, 2};
    CHECK(tta_confusion_add(&cm, t, p, 2, 3) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "value 7");
    CHECK_STR_CONTAINS(tta_last_error(), "row 1, column 2");
    t[5] = 2;
    p[4] = 255; /* a prediction must be a class where the truth is scored */
    CHECK(tta_confusion_add(&cm, t, p, 2, 3) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "predicted value 255");
    CHECK_STR_CONTAINS(tta_last_error(), "row 1, column 1");
    /* failed calls counted nothing */
    int64_t sum = 0;
    for (int k = 0; k < 9; k++)
        sum += cm.counts[k] + cm.boundary_counts[k];
    CHECK_EQ_INT(sum, 0);
    CHECK(tta_confusion_add(&cm, t, p, 0, 3) == TTA_ERR_INVALID_ARG);
    CHECK(tta_confusion_add(&cm, NULL, p, 2, 3) == TTA_ERR_INVALID_ARG);
    tta_confusion_destroy(&cm);
    CHECK(tta_confusion_init(&cm, 0, 255, 0) == TTA_ERR_INVALID_ARG);
    CHECK(tta_confusion_init(&cm, 257, -1, 0) == TTA_ERR_INVALID_ARG);
    CHECK(tta_confusion_init(&cm, 10, 5, 0) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "ignore label 5");
    CHECK(tta_confusion_init(&cm, 10, 255, -1) == TTA_ERR_INVALID_ARG);
    /* 256 classes and no ignore label: every byte is a class */
    CHECK(tta_confusion_init(&cm, 256, -1, 0) == TTA_OK);
    uint8_t a[2] = {255, 0}, bb[2] = {255, 1};
    CHECK(tta_confusion_add(&cm, a, bb, 1, 2) == TTA_OK);
    CHECK_EQ_INT(cm.counts[255 * 256 + 255], 1);
    CHECK_EQ_INT(cm.counts[1], 1);
    tta_confusion_destroy(&cm);
    /* scores of nothing, and of NULL */
    tta_seg_scores s;
    tta_confusion_scores(NULL, &s, NULL);
    CHECK_NEAR(s.boundary_miou, -1, 0);
    CHECK_EQ_INT(s.n_present, 0);
}

/* ---- uncertainty quality by hand -------------------------------------------------------------- */

/* 4 bins over [0, 1]: values -0.5 and 0.1 fall in bin 0, 0.3 in bin 1, 0.99, 1.0 (= max), 7 and
 * NaN in bin 3; the pixel marked 2 is skipped.
 *   correct = [1, 1, 0, 2], wrong = [1, 0, 0, 2]
 *   AUROC: the wrong pixel of bin 0 ties 1 correct (0.5); each wrong of bin 3 is above 2 correct
 *          and ties 2 (3 each): (0.5 + 6) / (3 x 4) = 6.5 / 12
 *   AP:    bin 3: precision 2/4 x 2/3 recall; bin 1: no positive; bin 0: precision 3/7 x 1/3:
 *          1/3 + 1/7 = 10/21
 *   risk(0.5): 3.5 of 7 pixels: bin 0 (2 pixels, 1 wrong), bin 1 (1, 0), then 0.5 of bin 3's 4
 *          pixels (2 wrong): (1 + 0.5 x 2 / 4) / 3.5 = 1.25 / 3.5 */
TEST(unc_quality_by_hand) {
    tta_unc_quality q;
    CHECK(tta_unc_quality_init(&q, 4, 1.0) == TTA_OK);
    const float u[8] = {-0.5f, 0.1f, 0.3f, 0.99f, 1.0f, 7.0f, NAN, 0.2f};
    const uint8_t w[8] = {0, 1, 0, 1, 0, 1, 0, 2};
    tta_unc_quality_add(&q, u, w, 8);
    const int64_t c[4] = {1, 1, 0, 2}, wr[4] = {1, 0, 0, 2};
    for (int k = 0; k < 4; k++) {
        CHECK_EQ_INT(q.correct[k], c[k]);
        CHECK_EQ_INT(q.wrong[k], wr[k]);
    }
    CHECK_NEAR(tta_unc_quality_auroc(&q), 6.5 / 12, 1e-15);
    CHECK_NEAR(tta_unc_quality_aupr(&q), 10.0 / 21, 1e-15);
    CHECK_NEAR(tta_unc_quality_risk(&q, 0.5), 1.25 / 3.5, 1e-15);
    CHECK_NEAR(tta_unc_quality_risk(&q, 1.0), 3.0 / 7, 1e-15);
    CHECK_NEAR(tta_unc_quality_risk(&q, 0.0), -1, 0);
    CHECK_NEAR(tta_unc_quality_risk(&q, 1.5), -1, 0);
    CHECK_NEAR(tta_unc_quality_risk(&q, NAN), -1, 0);
    tta_unc_quality_destroy(&q);
    /* empty: everything undefined */
    CHECK(tta_unc_quality_init(&q, 16, 2.0) == TTA_OK);
    CHECK_NEAR(tta_unc_quality_auroc(&q), -1, 0);
    CHECK_NEAR(tta_unc_quality_aupr(&q), -1, 0);
    CHECK_NEAR(tta_unc_quality_risk(&q, 0.5), -1, 0);
    tta_unc_quality_destroy(&q);
    CHECK(tta_unc_quality_init(&q, 0, 1.0) == TTA_ERR_INVALID_ARG);
    CHECK(tta_unc_quality_init(&q, 10, 0.0) == TTA_ERR_INVALID_ARG);
    CHECK(tta_unc_quality_init(&q, 10, INFINITY) == TTA_ERR_INVALID_ARG);
}

/* ---- the bootstrap ---------------------------------------------------------------------------- */

/* n images of h x w with C classes: blocky truths, base predictions with errors at a share of
 * the pixels, the policy's errors a subset of the base's (so better on every image). */
static void make_images(tta_confusion *base, tta_confusion *pol, tta_confusion *same, int n, int h, int w,
                        int C) {
    uint8_t *t = malloc((size_t)h * w), *pb = malloc((size_t)h * w), *pp = malloc((size_t)h * w);
    for (int i = 0; i < n; i++) {
        memset(t, 0, (size_t)h * w);
        int items = 1 + (int)(rnd() % 4);
        for (int k = 0; k < items; k++) {
            int c = 1 + (int)(rnd() % (unsigned)(C - 1)), s = 8 + (int)(rnd() % 24);
            int y0 = (int)(rnd() % (unsigned)(h - s)), x0 = (int)(rnd() % (unsigned)(w - s));
            for (int y = y0; y < y0 + s; y++)
                for (int x = x0; x < x0 + s; x++)
                    t[y * w + x] = (uint8_t)c;
        }
        int removed = 0;
        for (int k = 0; k < h * w; k++) {
            pb[k] = pp[k] = t[k];
            if (rnd() % 10 == 0) {
                pb[k] = (uint8_t)(rnd() % (unsigned)C);
                if (pb[k] != t[k] && (rnd() % 3 || !removed))
                    removed++; /* the policy gets this one right */
                else
                    pp[k] = pb[k];
            }
        }
        if (!removed) { /* make sure the policy is strictly better on this image */
            pb[0] = (uint8_t)((t[0] + 1) % C);
            pp[0] = t[0];
        }
        tta_confusion_init(&base[i], C, 255, 0);
        tta_confusion_init(&pol[i], C, 255, 0);
        tta_confusion_init(&same[i], C, 255, 0);
        tta_confusion_add(&base[i], t, pb, h, w);
        tta_confusion_add(&pol[i], t, pp, h, w);
        tta_confusion_add(&same[i], t, pb, h, w);
    }
    free(t);
    free(pb);
    free(pp);
}

static void free_images(tta_confusion *a, int n) {
    for (int i = 0; i < n; i++)
        tta_confusion_destroy(&a[i]);
}

TEST(bootstrap) {
    rng_state = 7;
    enum { N = 60 };
    tta_confusion base[N], pol[N], same[N];
    make_images(base, pol, same, N, 48, 48, 6);
    double lo = 9, hi = 9;
    /* identical policy: every resample's difference is exactly 0 */
    CHECK(tta_miou_gain_ci(base, same, N, 500, 1, 0.95, &lo, &hi) == TTA_OK);
    CHECK_NEAR(lo, 0, 0);
    CHECK_NEAR(hi, 0, 0);
    /* better on every image: the whole interval above 0 */
    CHECK(tta_miou_gain_ci(base, pol, N, 500, 1, 0.95, &lo, &hi) == TTA_OK);
    CHECK(lo > 0);
    CHECK(hi >= lo);
    /* and the point estimate inside it */
    tta_confusion sb, sp;
    tta_confusion_init(&sb, 6, 255, 0);
    tta_confusion_init(&sp, 6, 255, 0);
    for (int i = 0; i < N; i++) {
        tta_confusion_add_matrix(&sb, &base[i], 1);
        tta_confusion_add_matrix(&sp, &pol[i], 1);
    }
    tta_seg_scores s1, s2;
    tta_confusion_scores(&sb, &s1, NULL);
    tta_confusion_scores(&sp, &s2, NULL);
    double gain = s2.miou - s1.miou;
    CHECK(gain > lo && gain < hi);
    printf("  mIoU gain %.4f, 95%% interval [%.4f, %.4f]\n", gain, lo, hi);
    tta_confusion_destroy(&sb);
    tta_confusion_destroy(&sp);
    /* same seed same interval; another seed another; 1 thread as 2 */
    double lo2, hi2, lo3, hi3;
    CHECK(tta_miou_gain_ci(base, pol, N, 500, 1, 0.95, &lo2, &hi2) == TTA_OK);
    CHECK(lo2 == lo && hi2 == hi);
    CHECK(tta_miou_gain_ci(base, pol, N, 500, 2, 0.95, &lo3, &hi3) == TTA_OK);
    CHECK(lo3 != lo || hi3 != hi);
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK(tta_miou_gain_ci(base, pol, N, 500, 1, 0.95, &lo2, &hi2) == TTA_OK);
    omp_set_num_threads(2);
    CHECK(tta_miou_gain_ci(base, pol, N, 500, 1, 0.95, &lo3, &hi3) == TTA_OK);
    omp_set_num_threads(threads);
    CHECK(lo2 == lo && hi2 == hi);
    CHECK(lo3 == lo && hi3 == hi);
    /* a wider level, a wider interval */
    CHECK(tta_miou_gain_ci(base, pol, N, 500, 1, 0.99, &lo2, &hi2) == TTA_OK);
    CHECK(lo2 <= lo && hi2 >= hi);
    /* bad arguments */
    CHECK(tta_miou_gain_ci(base, pol, 0, 500, 1, 0.95, &lo, &hi) == TTA_ERR_INVALID_ARG);
    CHECK(tta_miou_gain_ci(base, pol, N, 1, 1, 0.95, &lo, &hi) == TTA_ERR_INVALID_ARG);
    CHECK(tta_miou_gain_ci(base, pol, N, 500, 1, 1.0, &lo, &hi) == TTA_ERR_INVALID_ARG);
    CHECK(tta_miou_gain_ci(base, pol, N, 500, 1, 0.95, NULL, &hi) == TTA_ERR_INVALID_ARG);
    tta_confusion other;
    tta_confusion_init(&other, 7, 255, 0);
    tta_confusion keep = pol[5];
    pol[5] = other;
    CHECK(tta_miou_gain_ci(base, pol, N, 500, 1, 0.95, &lo, &hi) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "image 5");
    pol[5] = keep;
    tta_confusion_destroy(&other);
    free_images(base, N);
    free_images(pol, N);
    free_images(same, N);
}

/* The figures asked of the implementation: the bootstrap over 5,000 images x 11 classes x 1,000
 * resamples, and one 64 x 64 image added with boundary 3. Printed, with generous limits. */
TEST(speed) {
    rng_state = 3;
    enum { N = 5000 };
    tta_confusion *base = malloc(sizeof *base * N), *pol = malloc(sizeof *pol * N),
                  *same = malloc(sizeof *same * N);
    make_images(base, pol, same, N, 64, 64, 11);
    double lo, hi, t0 = now();
    CHECK(tta_miou_gain_ci(base, pol, N, 1000, 1, 0.95, &lo, &hi) == TTA_OK);
    double t_boot = now() - t0;
    CHECK(lo > 0);
    printf("  bootstrap 5000 images x 11 classes x 1000 resamples: %.3f s (%d threads)\n", t_boot,
           omp_get_max_threads());
    CHECK(t_boot < 20);
    free_images(base, N);
    free_images(pol, N);
    free_images(same, N);
    free(base);
    free(pol);
    free(same);

    uint8_t t[64 * 64], p[64 * 64];
    blocky(t, 64, 64, 11, 9);
    for (int k = 0; k < 64 * 64; k++)
        p[k] = rnd() % 8 ? t[k] : (uint8_t)(rnd() % 11);
    tta_confusion cm;
    tta_confusion_init(&cm, 11, 255, 3);
    int reps = 2000;
    t0 = now();
    for (int r = 0; r < reps; r++)
        CHECK(tta_confusion_add(&cm, t, p, 64, 64) == TTA_OK);
    double t_add = (now() - t0) / reps;
    printf("  tta_confusion_add 64x64, boundary 3: %.1f us per image\n", t_add * 1e6);
    CHECK(t_add < 0.01);
    tta_confusion_destroy(&cm);
}
