/* test_coco_eval.c - tests of the COCO mAP evaluator (detect.h, src/detect/coco_eval.c):
 * every case in tests/data/detect/cocoeval (expected values from scripts/ref_cocoeval.py, a
 * numpy transliteration of pycocotools' COCOeval) to 1e-12, one case derived by hand, the
 * bootstrap weights against data sets with images really duplicated or removed, errors, and
 * the speed of a 2,000-image evaluation. The cases are read with jansson directly so that the
 * test does not depend on tta_coco_load. */
#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "test.h"
#include "tta/detect.h"

#define CASES "tests/data/detect/cocoeval/"

/* ---- building ground truth by hand ------------------------------------------------------- */

typedef struct gt_set {
    tta_coco coco;
    int ann_cap;
} gt_set;

static void gt_init(gt_set *g, int n_images, const int64_t *image_ids, int n_cats, const int64_t *cat_ids) {
    memset(g, 0, sizeof *g);
    g->coco.name = "test";
    g->coco.n_images = n_images;
    g->coco.images = calloc((size_t)n_images + 1, sizeof(tta_coco_image));
    for (int i = 0; i < n_images; i++) {
        g->coco.images[i].id = image_ids[i];
        g->coco.images[i].width = 300;
        g->coco.images[i].height = 300;
    }
    g->coco.n_categories = n_cats;
    g->coco.categories = calloc((size_t)n_cats + 1, sizeof(tta_coco_category));
    for (int k = 0; k < n_cats; k++)
        g->coco.categories[k].id = cat_ids[k];
    g->coco.ann_first = calloc((size_t)n_images + 1, sizeof(int));
}

/* Appends an annotation to image index i; annotations must be added image by image, in order. */
static void gt_add(gt_set *g, int i, int64_t id, int64_t cat, double x, double y, double w, double h,
                   double area, int iscrowd) {
    if (g->coco.n_anns == g->ann_cap) {
        g->ann_cap = g->ann_cap ? 2 * g->ann_cap : 64;
        g->coco.anns = realloc(g->coco.anns, sizeof(tta_coco_ann) * (size_t)g->ann_cap);
    }
    tta_coco_ann *a = &g->coco.anns[g->coco.n_anns++];
    *a = (tta_coco_ann){.id = id,
                        .image_id = g->coco.images[i].id,
                        .category_id = cat,
                        .bbox = {x, y, w, h},
                        .area = area,
                        .iscrowd = iscrowd};
    for (int j = i + 1; j <= g->coco.n_images; j++)
        g->coco.ann_first[j] = g->coco.n_anns;
}

static void gt_free(gt_set *g) {
    free(g->coco.images);
    free(g->coco.categories);
    free(g->coco.anns);
    free(g->coco.ann_first);
    memset(g, 0, sizeof *g);
}

static void stats_array(const tta_coco_stats *s, double v[12]) {
    double t[12] = {s->ap,  s->ap50, s->ap75,  s->ap_small, s->ap_medium, s->ap_large,
                    s->ar1, s->ar10, s->ar100, s->ar_small, s->ar_medium, s->ar_large};
    memcpy(v, t, sizeof t);
}

static void check_stats_near(const tta_coco_stats *got, const double *want, double tol, const char *what) {
    double v[12];
    static const char *names[12] = {"AP",  "AP50", "AP75",  "APs", "APm", "APl",
                                    "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
    stats_array(got, v);
    for (int i = 0; i < 12; i++)
        if (!(fabs(v[i] - want[i]) <= tol)) {
            fprintf(stderr, "  %s: %s = %.15g, expected %.15g\n", what, names[i], v[i], want[i]);
            test_failures_in_case++;
        }
}

/* ---- case files ------------------------------------------------------------------------- */

typedef struct tcase {
    gt_set gt;
    tta_coco_det *dets;
    int n_dets;
    double stats[12];
    double *class_ap;
    int n_class_ap;
} tcase;

static double jnum(json_t *o, const char *key, double def) {
    json_t *v = json_object_get(o, key);
    return v ? json_number_value(v) : def;
}

static int load_case(tcase *c, const char *path) {
    memset(c, 0, sizeof *c);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "  %s:%d: %s\n", path, err.line, err.text);
        return 0;
    }
    json_t *images = json_object_get(root, "images"), *cats = json_object_get(root, "categories");
    json_t *anns = json_object_get(root, "annotations"), *res = json_object_get(root, "results");
    int ni = (int)json_array_size(images), nk = (int)json_array_size(cats), na = (int)json_array_size(anns);
    int64_t *iids = calloc((size_t)ni + 1, sizeof *iids), *kids = calloc((size_t)nk + 1, sizeof *kids);
    for (int i = 0; i < ni; i++)
        iids[i] = json_integer_value(json_object_get(json_array_get(images, i), "id"));
    for (int k = 0; k < nk; k++)
        kids[k] = json_integer_value(json_object_get(json_array_get(cats, k), "id"));
    gt_init(&c->gt, ni, iids, nk, kids);
    for (int i = 0; i < ni; i++)
        for (int j = 0; j < na; j++) {
            json_t *a = json_array_get(anns, j);
            if (json_integer_value(json_object_get(a, "image_id")) != iids[i]) continue;
            json_t *bb = json_object_get(a, "bbox");
            double b[4];
            for (int q = 0; q < 4; q++)
                b[q] = json_number_value(json_array_get(bb, q));
            gt_add(&c->gt, i, json_integer_value(json_object_get(a, "id")),
                   json_integer_value(json_object_get(a, "category_id")), b[0], b[1], b[2], b[3],
                   jnum(a, "area", b[2] * b[3]), (int)jnum(a, "iscrowd", 0));
        }
    c->n_dets = (int)json_array_size(res);
    c->dets = calloc((size_t)c->n_dets + 1, sizeof *c->dets);
    for (int j = 0; j < c->n_dets; j++) {
        json_t *d = json_array_get(res, j), *bb = json_object_get(d, "bbox");
        c->dets[j].image_id = json_integer_value(json_object_get(d, "image_id"));
        c->dets[j].category_id = json_integer_value(json_object_get(d, "category_id"));
        for (int q = 0; q < 4; q++)
            c->dets[j].bbox[q] = json_number_value(json_array_get(bb, q));
        c->dets[j].score = json_number_value(json_object_get(d, "score"));
    }
    json_t *st = json_object_get(root, "expected_stats"), *cap = json_object_get(root, "expected_class_ap");
    int ok = json_array_size(st) == 12 && (int)json_array_size(cap) == nk;
    for (int i = 0; i < 12 && ok; i++)
        c->stats[i] = json_number_value(json_array_get(st, i));
    c->n_class_ap = nk;
    c->class_ap = calloc((size_t)nk + 1, sizeof(double));
    for (int k = 0; k < nk && ok; k++)
        c->class_ap[k] = json_number_value(json_array_get(cap, k));
    free(iids);
    free(kids);
    json_decref(root);
    if (!ok) fprintf(stderr, "  %s: expected_stats or expected_class_ap missing\n", path);
    return ok;
}

static void free_case(tcase *c) {
    gt_free(&c->gt);
    free(c->dets);
    free(c->class_ap);
}

TEST(coco_eval_matches_reference_cases) {
    DIR *dir = opendir(CASES);
    CHECK(dir != NULL);
    if (!dir) return;
    int n_cases = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json")) continue;
        char path[512];
        snprintf(path, sizeof path, CASES "%s", e->d_name);
        tcase c;
        if (!load_case(&c, path)) {
            test_failures_in_case++;
            free_case(&c);
            continue;
        }
        n_cases++;
        tta_coco_eval *ev = NULL;
        CHECK(tta_coco_eval_new(&ev, &c.gt.coco) == TTA_OK);
        CHECK(tta_coco_eval_run(ev, c.dets, c.n_dets) == TTA_OK);
        tta_coco_stats s, s1;
        CHECK(tta_coco_eval_stats(ev, NULL, &s) == TTA_OK);
        check_stats_near(&s, c.stats, 1e-12, path);
        for (int k = 0; k < c.n_class_ap; k++)
            CHECK_NEAR(tta_coco_eval_class_ap(ev, k), c.class_ap[k], 1e-12);
        CHECK(tta_coco_eval_class_ap(ev, c.n_class_ap) == -1.0);
        /* counts of all 1 are the same as NULL, bit for bit */
        int *ones = malloc(sizeof(int) * ((size_t)c.gt.coco.n_images + 1));
        for (int i = 0; i < c.gt.coco.n_images; i++)
            ones[i] = 1;
        CHECK(tta_coco_eval_stats(ev, ones, &s1) == TTA_OK);
        CHECK(memcmp(&s, &s1, sizeof s) == 0);
        /* a second run of the same detections gives the same numbers */
        CHECK(tta_coco_eval_run(ev, c.dets, c.n_dets) == TTA_OK);
        CHECK(tta_coco_eval_stats(ev, NULL, &s1) == TTA_OK);
        CHECK(memcmp(&s, &s1, sizeof s) == 0);
        free(ones);
        tta_coco_eval_free(ev);
        free_case(&c);
    }
    closedir(dir);
    CHECK(n_cases >= 11);
}

/* One image, one 10x10 gt at the origin (area 100: "small"). Two detections:
 *   d1 score 0.9 at [50, 50, 10, 10]: IoU 0 -> false positive at every threshold;
 *   d2 score 0.8 at [0, 0, 10, 7.5]: IoU 75 / 100 = 0.75 exactly -> matched at thresholds
 *      .50 .. .75 (6 of 10; the test is iou >= t, and linspace's .75 is exactly 0.75).
 * In score order: d1 (fp), d2 (tp). At a threshold where d2 matches: tp = [0, 1],
 * fp = [1, 1], recall = [0, 1], precision = [0, 1 / (2 + eps)] = [0, 0.5] (2 + 2^-52 rounds
 * to 2), made monotone from the right: [0.5, 0.5]. Every recall threshold r in 0..1 finds
 * searchsorted index 0 (r = 0) or 1, so all 101 precisions are 0.5. Where d2 does not
 * match (.80 .. .95): no true positive, precision 0 everywhere, recall 0.
 *   AP = (6 * 0.5 + 4 * 0) / 10 = 0.3, AP50 = AP75 = 0.5, AP small = 0.3 (both boxes small),
 *   AP medium = AP large = -1 (no gt there).
 *   AR1: only d1 (the best) counts: 0. AR10 = AR100 = AR small = 6 / 10 = 0.6.
 * Per-class AP = 0.3. */
TEST(coco_eval_hand_derived) {
    gt_set g;
    int64_t img = 1, cat = 1;
    gt_init(&g, 1, &img, 1, &cat);
    gt_add(&g, 0, 1, 1, 0, 0, 10, 10, 100, 0);
    tta_coco_det d[2] = {{.image_id = 1, .category_id = 1, .bbox = {50, 50, 10, 10}, .score = 0.9},
                         {.image_id = 1, .category_id = 1, .bbox = {0, 0, 10, 7.5}, .score = 0.8}};
    tta_coco_eval *ev;
    CHECK(tta_coco_eval_new(&ev, &g.coco) == TTA_OK);
    CHECK(tta_coco_eval_run(ev, d, 2) == TTA_OK);
    tta_coco_stats s;
    CHECK(tta_coco_eval_stats(ev, NULL, &s) == TTA_OK);
    double want[12] = {0.3, 0.5, 0.5, 0.3, -1, -1, 0, 0.6, 0.6, 0.6, -1, -1};
    check_stats_near(&s, want, 1e-15, "hand");
    CHECK_NEAR(tta_coco_eval_class_ap(ev, 0), 0.3, 1e-15);
    /* the order of the results file does not matter */
    tta_coco_det r[2] = {d[1], d[0]};
    CHECK(tta_coco_eval_run(ev, r, 2) == TTA_OK);
    CHECK(tta_coco_eval_stats(ev, NULL, &s) == TTA_OK);
    check_stats_near(&s, want, 1e-15, "hand, reversed");
    /* swapping the scores: the tp first -> precision 1 at recall 1 where it matches:
     * AP = 6 / 10 * (1 / (1 + eps)) */
    r[0].score = 0.95;
    CHECK(tta_coco_eval_run(ev, r, 2) == TTA_OK);
    CHECK(tta_coco_eval_stats(ev, NULL, &s) == TTA_OK);
    CHECK_NEAR(s.ap, 0.6, 1e-15);
    CHECK_NEAR(s.ap50, 1.0, 1e-15);
    CHECK_NEAR(s.ar1, 0.6, 1e-15);
    /* image counted 3 times: the same precision and recall */
    int three = 3;
    CHECK(tta_coco_eval_stats(ev, &three, &s) == TTA_OK);
    CHECK_NEAR(s.ap, 0.6, 1e-15);
    CHECK_NEAR(s.ar100, 0.6, 1e-15);
    /* counted 0 times: no ground truth left */
    int zero = 0;
    CHECK(tta_coco_eval_stats(ev, &zero, &s) == TTA_OK);
    CHECK(s.ap == -1 && s.ar100 == -1 && s.ap50 == -1);
    tta_coco_eval_free(ev);
    gt_free(&g);
}

/* ---- bootstrap weights against explicitly duplicated data sets ---------------------------- */

static uint64_t rng_state;
static uint64_t rng_next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static double rng_unit(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }
static double rng_range(double a, double b) { return a + (b - a) * rng_unit(); }

typedef struct synth {
    gt_set gt;
    tta_coco_det *dets;
    int n_dets, cap;
} synth;

static void synth_det(synth *s, int64_t img, int64_t cat, const double *b, double score) {
    if (s->n_dets == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->dets = realloc(s->dets, sizeof *s->dets * (size_t)s->cap);
    }
    s->dets[s->n_dets++] =
        (tta_coco_det){.image_id = img, .category_id = cat, .bbox = {b[0], b[1], b[2], b[3]}, .score = score};
}

/* n images (ids shuffled against the file order), n_cats categories, up to max_gt objects per
 * image (some crowd, areas in every range), per object 0-3 noisy detections plus background
 * detections up to `extra`, scores continuous (no ties). */
static void synth_make(synth *s, int n, int n_cats, int max_gt, int extra, uint64_t seed) {
    memset(s, 0, sizeof *s);
    rng_state = seed;
    int64_t *ids = malloc(sizeof *ids * (size_t)n), cids[100];
    for (int i = 0; i < n; i++)
        ids[i] = 1 + i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_next() % (uint64_t)(i + 1));
        int64_t t = ids[i];
        ids[i] = ids[j];
        ids[j] = t;
    }
    for (int k = 0; k < n_cats; k++)
        cids[k] = 10 + 3 * k;
    gt_init(&s->gt, n, ids, n_cats, cids);
    int64_t ann_id = 1;
    for (int i = 0; i < n; i++) {
        int ng = (int)(rng_next() % (uint64_t)(max_gt + 1));
        int first = s->gt.coco.n_anns;
        for (int q = 0; q < ng; q++) {
            double side = rng_unit() < 0.4   ? rng_range(4, 32)
                          : rng_unit() < 0.6 ? rng_range(32, 96)
                                             : rng_range(96, 250);
            double w = side, h = side * rng_range(0.6, 1.4);
            gt_add(&s->gt, i, ann_id++, cids[rng_next() % (uint64_t)n_cats], rng_range(0, 300 - w / 2),
                   rng_range(0, 300 - h / 2), w, h, w * h * (rng_unit() < 0.2 ? rng_range(0.5, 1) : 1),
                   rng_unit() < 0.04);
        }
        for (int q = first; q < s->gt.coco.n_anns; q++) {
            const tta_coco_ann *a = &s->gt.coco.anns[q];
            int nd = (int)(rng_next() % 4);
            for (int r = 0; r < nd; r++) {
                double j = r == 0 ? 0.05 : 0.25, b[4];
                b[0] = a->bbox[0] + rng_range(-j, j) * a->bbox[2];
                b[1] = a->bbox[1] + rng_range(-j, j) * a->bbox[3];
                b[2] = a->bbox[2] * (1 + rng_range(-j, j));
                b[3] = a->bbox[3] * (1 + rng_range(-j, j));
                int64_t cat = rng_unit() < 0.9 ? a->category_id : cids[rng_next() % (uint64_t)n_cats];
                synth_det(s, ids[i], cat, b, rng_unit());
            }
        }
        int ne = extra ? (int)(rng_next() % (uint64_t)(extra + 1)) : 0;
        for (int r = 0; r < ne; r++) {
            double w = rng_range(3, 150),
                   b[4] = {rng_range(-10, 290), rng_range(-10, 290), w, w * rng_range(0.5, 2)};
            synth_det(s, ids[i], cids[rng_next() % (uint64_t)n_cats], b, 0.7 * rng_unit());
        }
    }
    free(ids);
}

static void synth_free(synth *s) {
    gt_free(&s->gt);
    free(s->dets);
}

/* The data set an image_counts vector stands for: images counted 0 times removed, every extra
 * copy appended as a new image (new id, new annotation ids) with its annotations and dets. */
static void synth_expand(const synth *s, const int *counts, synth *out) {
    const tta_coco *c = &s->gt.coco;
    int n = 0;
    int64_t max_id = 0, max_ann = 0;
    for (int i = 0; i < c->n_images; i++) {
        n += counts[i];
        if (c->images[i].id > max_id) max_id = c->images[i].id;
    }
    for (int j = 0; j < c->n_anns; j++)
        if (c->anns[j].id > max_ann) max_ann = c->anns[j].id;
    int64_t *ids = calloc((size_t)n + 1, sizeof *ids),
            *cids = calloc((size_t)c->n_categories + 1, sizeof *cids);
    int *src = malloc(sizeof *src * (size_t)(n + 1));
    int m = 0;
    for (int i = 0; i < c->n_images; i++)
        if (counts[i] > 0) ids[m] = c->images[i].id, src[m++] = i;
    for (int i = 0; i < c->n_images; i++)
        for (int r = 1; r < counts[i]; r++)
            ids[m] = ++max_id, src[m++] = i;
    for (int k = 0; k < c->n_categories; k++)
        cids[k] = c->categories[k].id;
    memset(out, 0, sizeof *out);
    gt_init(&out->gt, m, ids, c->n_categories, cids);
    for (int p = 0; p < m; p++) {
        int i = src[p];
        for (int j = c->ann_first[i]; j < c->ann_first[i + 1]; j++) {
            const tta_coco_ann *a = &c->anns[j];
            int64_t id = ids[p] == c->images[i].id ? a->id : ++max_ann;
            gt_add(&out->gt, p, id, a->category_id, a->bbox[0], a->bbox[1], a->bbox[2], a->bbox[3], a->area,
                   a->iscrowd);
        }
        for (int d = 0; d < s->n_dets; d++)
            if (s->dets[d].image_id == c->images[i].id)
                synth_det(out, ids[p], s->dets[d].category_id, s->dets[d].bbox, s->dets[d].score);
    }
    free(ids);
    free(cids);
    free(src);
}

static void check_counts_against_expansion(const synth *s, const int *counts, const char *what) {
    tta_coco_eval *ev = NULL, *ev2 = NULL;
    synth x;
    synth_expand(s, counts, &x);
    CHECK(tta_coco_eval_new(&ev, &s->gt.coco) == TTA_OK);
    CHECK(tta_coco_eval_run(ev, s->dets, s->n_dets) == TTA_OK);
    CHECK(tta_coco_eval_new(&ev2, &x.gt.coco) == TTA_OK);
    CHECK(tta_coco_eval_run(ev2, x.dets, x.n_dets) == TTA_OK);
    tta_coco_stats a, b;
    double want[12];
    CHECK(tta_coco_eval_stats(ev, counts, &a) == TTA_OK);
    CHECK(tta_coco_eval_stats(ev2, NULL, &b) == TTA_OK);
    stats_array(&b, want);
    check_stats_near(&a, want, 1e-12, what);
    tta_coco_eval_free(ev);
    tta_coco_eval_free(ev2);
    synth_free(&x);
}

TEST(coco_eval_counts_equal_duplicated_images) {
    synth s;
    synth_make(&s, 40, 3, 6, 4, 0x9E3779B97F4A7C15ull);
    int n = s.gt.coco.n_images;
    int *counts = malloc(sizeof(int) * (size_t)n);
    /* one image twice */
    for (int i = 0; i < n; i++)
        counts[i] = 1;
    counts[7] = 2;
    check_counts_against_expansion(&s, counts, "image 7 twice");
    /* a bootstrap-like draw: counts 0..3 */
    for (int trial = 0; trial < 5; trial++) {
        for (int i = 0; i < n; i++)
            counts[i] = (int)(rng_next() % 4);
        check_counts_against_expansion(&s, counts, "counts 0..3");
    }
    /* a real bootstrap draw (n draws with replacement) */
    for (int i = 0; i < n; i++)
        counts[i] = 0;
    for (int i = 0; i < n; i++)
        counts[rng_next() % (uint64_t)n]++;
    check_counts_against_expansion(&s, counts, "bootstrap draw");
    free(counts);
    synth_free(&s);
}

/* ---- errors and degenerate inputs -------------------------------------------------------- */

TEST(coco_eval_errors) {
    gt_set g;
    int64_t imgs[2] = {5, 3}, cats[2] = {1, 2};
    gt_init(&g, 2, imgs, 2, cats);
    gt_add(&g, 0, 1, 1, 0, 0, 10, 10, 100, 0);
    tta_coco_eval *ev;
    CHECK(tta_coco_eval_new(&ev, &g.coco) == TTA_OK);
    tta_coco_stats s;
    CHECK(tta_coco_eval_stats(ev, NULL, &s) == TTA_ERR_INVALID_ARG); /* no run yet */
    CHECK_STR_CONTAINS(tta_last_error(), "tta_coco_eval_run");
    CHECK(tta_coco_eval_class_ap(ev, 0) == -1.0);
    tta_coco_det ok = {.image_id = 5, .category_id = 1, .bbox = {0, 0, 10, 10}, .score = 0.5};
    tta_coco_det d[2] = {ok, ok};
    d[1].image_id = 4;
    CHECK(tta_coco_eval_run(ev, d, 2) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "detection 1: image_id 4 is not in test");
    d[1] = ok;
    d[1].category_id = 3;
    CHECK(tta_coco_eval_run(ev, d, 2) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "detection 1: category_id 3 is not in test");
    d[1] = ok;
    d[1].score = NAN;
    CHECK(tta_coco_eval_run(ev, d, 2) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "score is NaN");
    d[1] = ok;
    d[1].bbox[2] = -1;
    CHECK(tta_coco_eval_run(ev, d, 2) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "negative width or height");
    d[1] = ok;
    d[1].bbox[1] = NAN;
    CHECK(tta_coco_eval_run(ev, d, 2) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "NaN");
    CHECK(tta_coco_eval_run(ev, NULL, 1) == TTA_ERR_INVALID_ARG);
    CHECK(tta_coco_eval_run(ev, d, -1) == TTA_ERR_INVALID_ARG);
    /* a failed run keeps the previous one: still none */
    CHECK(tta_coco_eval_stats(ev, NULL, &s) == TTA_ERR_INVALID_ARG);
    CHECK(tta_coco_eval_run(ev, &ok, 1) == TTA_OK);
    CHECK(tta_coco_eval_stats(ev, NULL, &s) == TTA_OK);
    CHECK_NEAR(s.ap, 1.0, 1e-12);
    d[1].score = NAN;
    CHECK(tta_coco_eval_run(ev, d, 2) == TTA_ERR_INVALID_ARG);
    CHECK(tta_coco_eval_stats(ev, NULL, &s) == TTA_OK); /* the last good run */
    CHECK_NEAR(s.ap, 1.0, 1e-12);
    int counts[2] = {1, -1};
    CHECK(tta_coco_eval_stats(ev, counts, &s) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "image_counts[1] = -1");
    CHECK(tta_coco_eval_stats(ev, NULL, NULL) == TTA_ERR_INVALID_ARG);
    tta_coco_eval_free(ev);
    tta_coco_eval_free(NULL);

    /* ground truth problems */
    CHECK(tta_coco_eval_new(&ev, NULL) == TTA_ERR_INVALID_ARG);
    g.coco.images[1].id = 5;
    CHECK(tta_coco_eval_new(&ev, &g.coco) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "duplicate image id 5");
    g.coco.images[1].id = 3;
    g.coco.anns[0].category_id = 9;
    CHECK(tta_coco_eval_new(&ev, &g.coco) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "unknown category_id 9");
    g.coco.anns[0].category_id = 1;
    g.coco.categories[1].id = 1;
    CHECK(tta_coco_eval_new(&ev, &g.coco) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "duplicate category id 1");
    gt_free(&g);
}

TEST(coco_eval_no_detections) {
    gt_set g;
    int64_t imgs[3] = {1, 2, 3}, cats[2] = {1, 2};
    gt_init(&g, 3, imgs, 2, cats);
    gt_add(&g, 0, 1, 1, 0, 0, 10, 10, 100, 0);     /* small */
    gt_add(&g, 2, 2, 1, 0, 0, 100, 100, 10000, 0); /* large */
    tta_coco_eval *ev;
    CHECK(tta_coco_eval_new(&ev, &g.coco) == TTA_OK);
    CHECK(tta_coco_eval_run(ev, NULL, 0) == TTA_OK);
    tta_coco_stats s;
    CHECK(tta_coco_eval_stats(ev, NULL, &s) == TTA_OK);
    double want[12] = {0, 0, 0, 0, -1, 0, 0, 0, 0, 0, -1, 0};
    check_stats_near(&s, want, 0, "no detections");
    CHECK(tta_coco_eval_class_ap(ev, 0) == 0.0);
    CHECK(tta_coco_eval_class_ap(ev, 1) == -1.0); /* no gt */
    tta_coco_eval_free(ev);
    gt_free(&g);

    /* no ground truth at all */
    gt_init(&g, 1, imgs, 1, cats);
    CHECK(tta_coco_eval_new(&ev, &g.coco) == TTA_OK);
    tta_coco_det d = {.image_id = 1, .category_id = 1, .bbox = {0, 0, 5, 5}, .score = 1};
    CHECK(tta_coco_eval_run(ev, &d, 1) == TTA_OK);
    CHECK(tta_coco_eval_stats(ev, NULL, &s) == TTA_OK);
    double none[12] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    check_stats_near(&s, none, 0, "no gt");
    tta_coco_eval_free(ev);
    gt_free(&g);
}

/* ---- speed -------------------------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

TEST(coco_eval_speed_2000_images) {
    synth s;
    synth_make(&s, 2000, 10, 14, 85, 42);
    tta_coco_eval *ev;
    CHECK(tta_coco_eval_new(&ev, &s.gt.coco) == TTA_OK);
    double t0 = now_s();
    CHECK(tta_coco_eval_run(ev, s.dets, s.n_dets) == TTA_OK);
    double t1 = now_s();
    tta_coco_stats st;
    int n = s.gt.coco.n_images, reps = 50;
    int *counts = malloc(sizeof(int) * (size_t)n);
    rng_state = 7;
    double t2 = now_s();
    for (int r = 0; r < reps; r++) {
        memset(counts, 0, sizeof(int) * (size_t)n);
        for (int i = 0; i < n; i++)
            counts[rng_next() % (uint64_t)n]++;
        CHECK(tta_coco_eval_stats(ev, counts, &st) == TTA_OK);
    }
    double t3 = now_s();
    CHECK(tta_coco_eval_stats(ev, NULL, &st) == TTA_OK);
    printf("coco_eval: %d images, %d gt, %d dets: run %.1f ms, stats %.2f ms per call (AP %.4f)\n", n,
           s.gt.coco.n_anns, s.n_dets, 1e3 * (t1 - t0), 1e3 * (t3 - t2) / reps, st.ap);
    CHECK(t1 - t0 < 5.0); /* generous: sanitizer builds */
    free(counts);
    tta_coco_eval_free(ev);
    synth_free(&s);
}
