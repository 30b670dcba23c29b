/* subset.c - the three steps of the policy search on a prediction table: per-family sweeps,
 * the best combination of at most N views (exhaustive, greedy, beam, greedy with replacement
 * as in GPS), and composite views swapped in.
 *
 * Speed comes from two things. First, a private copy of the table laid out view by view, class
 * by class, image by image (padded to whole chunks of CH images), so that adding a view to a
 * running sum and finding each image's top class are straight loops the compiler vectorises.
 * Second, running sums: a depth-first walk over subsets keeps the sum of the probabilities of
 * the views chosen so far at each depth, so a subset costs one pass over n x k numbers however
 * many views it has. Scoring reads the sum directly: the top class of a sum is the top class of
 * the mean, and the true class's mean probability gives the NLL (logs taken of products of 16
 * probabilities at a time, all >= 1e-7, so a log per 16 images).
 *
 * These fast scores (float sums) only rank subsets; every pick is re-scored at the end through
 * tta_pred_table_merge, the same merger `tta eval` uses, and those are the figures reported. For
 * the calibrated objective the fast score is the NLL, and the best few by NLL are re-scored with
 * a fitted temperature, which is too slow to fit for every subset. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/error.h"
#include "search/internal.h"
#include "tta/search.h"
#include "tta/tensor.h"

#define CH 256      /* images per chunk */
#define TOP_CAL 32     /* exhaustive: subsets of each size re-scored with a fitted temperature */
#define TOP_CAL_STEP 8 /* greedy, GPS and swaps: the same, per step */
#define MAXB TTA_SEARCH_MAX_BUDGET

/* ---- the packed table ---- */

typedef struct packed {
    int n, np, k, V;
    float *p;    /* V x (k + 1) x np: row k holds the true class's probability */
    float *zero; /* (k + 1) x np zeros */
} packed;

static void packed_free(packed *pk) {
    tta_free(pk->p);
    tta_free(pk->zero);
    memset(pk, 0, sizeof *pk);
}

static tta_status check_table(const tta_pred_table *t) {
    if (!t || !t->probs || !t->labels || t->n <= 0 || t->k <= 0 || t->n_views <= 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "search: empty prediction table");
    for (int i = 0; i < t->n; i++)
        if (t->labels[i] < 0 || t->labels[i] >= t->k)
            return tta_errorf(TTA_ERR_INVALID_ARG, "search: label %d of image %d is not a class of %d", t->labels[i],
                              i, t->k);
    return TTA_OK;
}

static tta_status pack(const tta_pred_table *t, packed *pk) {
    memset(pk, 0, sizeof *pk);
    TTA_TRY(check_table(t));
    pk->n = t->n;
    pk->k = t->k;
    pk->V = t->n_views;
    pk->np = (t->n + CH - 1) / CH * CH;
    size_t block = (size_t)(pk->k + 1) * pk->np;
    pk->p = tta_calloc((size_t)pk->V * block, sizeof(float));
    pk->zero = tta_calloc(block, sizeof(float));
    if (!pk->p || !pk->zero) {
        packed_free(pk);
        return tta_errorf(TTA_ERR_NOMEM, "search: out of memory for %d views x %d images x %d classes", t->n_views,
                          t->n, t->k);
    }
    for (int v = 0; v < pk->V; v++) {
        float *dst = pk->p + (size_t)v * block;
        const float *src = t->probs + (size_t)v * t->n * t->k;
        for (int i = 0; i < t->n; i++) {
            for (int c = 0; c < t->k; c++) dst[(size_t)c * pk->np + i] = src[(size_t)i * t->k + c];
            dst[(size_t)t->k * pk->np + i] = src[(size_t)i * t->k + t->labels[i]];
        }
    }
    return TTA_OK;
}

static size_t block_len(const packed *pk) { return (size_t)(pk->k + 1) * pk->np; }
static const float *view_ptr(const packed *pk, int v) { return pk->p + (size_t)v * block_len(pk); }

/* The scoring loops below are compiled twice, for the baseline ISA and for AVX2 (twice the lanes
 * for the loops that take most of the time; no FMA, so both give the same bits), and picked by
 * tta_cpu_isa() (the CPU's level, capped by TTA_MAX_ISA). */
#define SEARCH_INLINE static inline __attribute__((always_inline))

/* dst = a + b (or a - b), whole blocks */
SEARCH_INLINE void add_block_body(const packed *pk, float *dst, const float *a, const float *b, float sign) {
    size_t len = block_len(pk);
    for (size_t j = 0; j < len; j++) dst[j] = a[j] + sign * b[j];
}
TTA_TARGET_AVX2 static void add_block_avx2(const packed *pk, float *dst, const float *a, const float *b, float sign) {
    add_block_body(pk, dst, a, b, sign);
}
static void add_block_generic(const packed *pk, float *dst, const float *a, const float *b, float sign) {
    add_block_body(pk, dst, a, b, sign);
}
static void add_block(const packed *pk, float *dst, const float *a, const float *b, float sign) {
    if (tta_cpu_isa() >= TTA_ISA_AVX2) add_block_avx2(pk, dst, a, b, sign);
    else add_block_generic(pk, dst, a, b, sign);
}

/* ---- fast scores ---- */

typedef struct fscore {
    double primary, secondary;
} fscore;

static int fs_less(const fscore *a, const fscore *b) {
    return a->primary < b->primary || (a->primary == b->primary && a->secondary < b->secondary);
}

/* Scores the merge of (a + b) / m: the images whose top class is the label, and the NLL. An
 * exact tie for the top counts as right here (tta_argmax gives it to the lower class): it only
 * ranks subsets, and the picks are re-scored exactly. */
SEARCH_INLINE fscore fast_eval_body(const packed *pk, const float *a, const float *b, int m, tta_objective obj) {
    const int np = pk->np, k = pk->k, n = pk->n;
    const float inv = 1.0f / (float)m;
    long correct = 0;
    double nll = 0;
    for (int i0 = 0; i0 < np; i0 += CH) {
        float sy[CH], mx[CH];
        const float *ay = a + (size_t)k * np + i0, *by = b + (size_t)k * np + i0;
        for (int j = 0; j < CH; j++) {
            sy[j] = ay[j] + by[j];
            mx[j] = 0;
        }
        for (int c = 0; c < k; c++) {
            const float *x = a + (size_t)c * np + i0, *z = b + (size_t)c * np + i0;
            for (int j = 0; j < CH; j++) {
                float s = x[j] + z[j];
                mx[j] = s > mx[j] ? s : mx[j];
            }
        }
        int bad[CH];
        for (int j = 0; j < CH; j++) bad[j] = sy[j] < mx[j];
        /* the true class's mean probability, floored; padding images count as p = 1 */
        int len = n - i0 < CH ? n - i0 : CH;
        float q[CH];
        for (int j = 0; j < CH; j++) {
            float v = sy[j] * inv;
            q[j] = v > 1e-7f ? v : 1e-7f;
        }
        for (int j = len; j < CH; j++) q[j] = 1, bad[j] = 1;
        int ok = 0;
        for (int j = 0; j < CH; j++) ok += !bad[j];
        correct += ok;
        /* products of 16 probabilities (>= 1e-112 in double), one log each */
        double prod[CH / 16];
        for (int g = 0; g < CH / 16; g++) prod[g] = q[g];
        for (int r = 1; r < 16; r++)
            for (int g = 0; g < CH / 16; g++) prod[g] *= q[r * (CH / 16) + g];
        for (int g = 0; g < CH / 16; g++) nll -= log(prod[g]);
    }
    nll /= n;
    fscore s;
    if (obj == TTA_OBJECTIVE_ACCURACY) {
        s.primary = -(double)correct;
        s.secondary = nll;
    } else {
        s.primary = nll;
        s.secondary = -(double)correct;
    }
    return s;
}
TTA_TARGET_AVX2 static fscore fast_eval_avx2(const packed *pk, const float *a, const float *b, int m, tta_objective obj) {
    return fast_eval_body(pk, a, b, m, obj);
}
static fscore fast_eval_generic(const packed *pk, const float *a, const float *b, int m, tta_objective obj) {
    return fast_eval_body(pk, a, b, m, obj);
}
static fscore fast_eval(const packed *pk, const float *a, const float *b, int m, tta_objective obj) {
    return tta_cpu_isa() >= TTA_ISA_AVX2 ? fast_eval_avx2(pk, a, b, m, obj) : fast_eval_generic(pk, a, b, m, obj);
}

/* ---- candidate lists: the best few subsets, best first ---- */

typedef struct cand {
    fscore s;
    int m;           /* distinct views */
    int views[MAXB]; /* ascending */
    int w[MAXB];     /* counts (GPS); 1 otherwise */
    int parent, add; /* how to rebuild its running sum (beam, swap) */
} cand;

typedef struct toplist {
    int cap, count;
    cand c[4 * TOP_CAL];
} toplist;

static void top_init(toplist *tl, int cap) {
    tl->cap = cap < 4 * TOP_CAL ? cap : 4 * TOP_CAL;
    tl->count = 0;
}

static int same_set(const cand *a, const cand *b) {
    if (a->m != b->m) return 0;
    for (int j = 0; j < a->m; j++)
        if (a->views[j] != b->views[j] || a->w[j] != b->w[j]) return 0;
    return 1;
}

static void top_insert(toplist *tl, const cand *x) {
    if (tl->count == tl->cap && !fs_less(&x->s, &tl->c[tl->count - 1].s)) return;
    for (int j = 0; j < tl->count; j++)
        if (same_set(&tl->c[j], x)) return;
    int pos = tl->count < tl->cap ? tl->count++ : tl->count - 1;
    while (pos > 0 && fs_less(&x->s, &tl->c[pos - 1].s)) {
        tl->c[pos] = tl->c[pos - 1];
        pos--;
    }
    tl->c[pos] = *x;
}

/* views of c plus v, kept ascending */
static void cand_add(cand *c, int v) {
    int j = c->m;
    while (j > 0 && c->views[j - 1] > v) {
        c->views[j] = c->views[j - 1];
        c->w[j] = c->w[j - 1];
        j--;
    }
    c->views[j] = v;
    c->w[j] = 1;
    c->m++;
}

static int cand_has(const cand *c, int v) {
    for (int j = 0; j < c->m; j++)
        if (c->views[j] == v) return 1;
    return 0;
}

/* ---- slow, exact scores: through the merger ---- */

typedef struct ctx {
    const tta_pred_table *t;
    packed pk;
    tta_objective obj;
    float *merged; /* n x k */
    long long evals;
    double t_hint; /* temperature of the last calibrated score: the next fit starts there */
} ctx;

static tta_status ctx_init(ctx *x, const tta_pred_table *t, tta_objective obj) {
    memset(x, 0, sizeof *x);
    if ((unsigned)obj > TTA_OBJECTIVE_CALIBRATED_NLL)
        return tta_errorf(TTA_ERR_INVALID_ARG, "search: unknown objective %d", (int)obj);
    TTA_TRY(pack(t, &x->pk));
    x->t = t;
    x->obj = obj;
    x->t_hint = 1;
    x->merged = tta_malloc(sizeof(float) * (size_t)t->n * t->k);
    if (!x->merged) {
        packed_free(&x->pk);
        return tta_errorf(TTA_ERR_NOMEM, "search: out of memory");
    }
    return TTA_OK;
}

static void ctx_destroy(ctx *x) {
    packed_free(&x->pk);
    tta_free(x->merged);
}

static tta_status score_pick(ctx *x, tta_search_pick *p) {
    TTA_TRY(tta_pred_table_merge(x->t, p->views, p->weighted ? p->weights : NULL, p->n_views, x->merged));
    search_objective_eval(x->obj, x->merged, x->t->labels, x->t->n, x->t->k, x->t_hint, &p->val);
    x->t_hint = p->val.temperature;
    return TTA_OK;
}

static tta_status pick_from(ctx *x, const cand *c, const char *method, tta_search_pick *p) {
    memset(p, 0, sizeof *p);
    p->n_views = c->m;
    p->weighted = 0;
    for (int j = 0; j < c->m; j++) {
        p->views[j] = c->views[j];
        p->weights[j] = c->w[j];
        if (c->w[j] != c->w[0]) p->weighted = 1;
    }
    if (!p->weighted)
        for (int j = 0; j < c->m; j++) p->weights[j] = 1;
    snprintf(p->method, sizeof p->method, "%s", method);
    return score_pick(x, p);
}

/* The best of a candidate list by exact score (only the first unless calibrating); *index
 * (may be NULL) receives its place in the list. */
static tta_status best_of(ctx *x, const toplist *tl, const char *method, tta_search_pick *out, int *index) {
    int lim = x->obj == TTA_OBJECTIVE_CALIBRATED_NLL ? tl->count : (tl->count ? 1 : 0);
    memset(out, 0, sizeof *out);
    if (index) *index = 0;
    for (int j = 0; j < lim; j++) {
        tta_search_pick p;
        TTA_TRY(pick_from(x, &tl->c[j], method, &p));
        if (!out->n_views || tta_objective_compare(x->obj, &p.val, &out->val) < 0) {
            *out = p;
            if (index) *index = j;
        }
    }
    return TTA_OK;
}

static tta_status check_cands(const tta_pred_table *t, const int *cands, int n_cands, int max_views,
                              int with_identity) {
    if (max_views < 1 || max_views > MAXB)
        return tta_errorf(TTA_ERR_INVALID_ARG, "search: %d views per image (1 to %d)", max_views, MAXB);
    if (n_cands < 0 || (n_cands && !cands)) return tta_errorf(TTA_ERR_INVALID_ARG, "search: bad candidate list");
    for (int j = 0; j < n_cands; j++) {
        if (cands[j] < 0 || cands[j] >= t->n_views)
            return tta_errorf(TTA_ERR_INVALID_ARG, "search: candidate %d is not a view of the table (%d views)",
                              cands[j], t->n_views);
        if (with_identity && cands[j] == 0)
            return tta_errorf(TTA_ERR_INVALID_ARG, "search: the identity (view 0) is always included, not a candidate");
        for (int i = 0; i < j; i++)
            if (cands[i] == cands[j]) return tta_errorf(TTA_ERR_INVALID_ARG, "search: candidate %d listed twice", cands[j]);
    }
    return TTA_OK;
}

static void clear_picks(tta_search_pick *by_size, int max_views) {
    memset(by_size, 0, sizeof *by_size * (size_t)max_views);
}

/* ---- exhaustive ---- */

typedef struct walk {
    ctx *x;
    const int *cands;
    int n_cands, max_views;
    float **level; /* running sums by depth */
    toplist *tops; /* by size */
    cand cur;
} walk;

static void dfs(walk *w, int start, const float *sum, int m) {
    ctx *x = w->x;
    for (int ci = start; ci < w->n_cands; ci++) {
        int v = w->cands[ci];
        cand c = w->cur;
        cand_add(&c, v);
        int deeper = m + 1 < w->max_views && ci + 1 < w->n_cands;
        if (deeper) {
            float *next = w->level[m + 1];
            add_block(&x->pk, next, sum, view_ptr(&x->pk, v), 1);
            c.s = fast_eval(&x->pk, next, x->pk.zero, m + 1, x->obj);
        } else {
            c.s = fast_eval(&x->pk, sum, view_ptr(&x->pk, v), m + 1, x->obj);
        }
        x->evals++;
        top_insert(&w->tops[m], &c);
        if (deeper) {
            cand saved = w->cur;
            w->cur = c;
            dfs(w, ci + 1, w->level[m + 1], m + 1);
            w->cur = saved;
        }
    }
}

tta_status tta_search_exhaustive(const tta_pred_table *t, const int *cands, int n_cands, int max_views,
                                 int with_identity, tta_objective obj, tta_search_pick *by_size,
                                 long long *n_evaluated) {
    if (n_evaluated) *n_evaluated = 0;
    if (by_size && max_views >= 1 && max_views <= MAXB) clear_picks(by_size, max_views);
    TTA_TRY(check_table(t));
    TTA_TRY(check_cands(t, cands, n_cands, max_views, with_identity));
    ctx x;
    TTA_TRY(ctx_init(&x, t, obj));
    walk w = {.x = &x, .cands = cands, .n_cands = n_cands, .max_views = max_views};
    float *levels[MAXB + 1] = {0};
    toplist *tops = tta_malloc(sizeof(toplist) * (size_t)max_views);
    tta_status st = tops ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "search: out of memory");
    for (int d = 0; d <= max_views && st == TTA_OK; d++) {
        levels[d] = tta_malloc(sizeof(float) * block_len(&x.pk));
        if (!levels[d]) st = tta_errorf(TTA_ERR_NOMEM, "search: out of memory");
    }
    if (st == TTA_OK) {
        for (int s = 0; s < max_views; s++) top_init(&tops[s], obj == TTA_OBJECTIVE_CALIBRATED_NLL ? TOP_CAL : 1);
        w.level = levels;
        w.tops = tops;
        memset(&w.cur, 0, sizeof w.cur);
        if (with_identity) {
            /* the identity alone is size 1; subsets grow from it */
            cand c = {0};
            cand_add(&c, 0);
            memcpy(levels[1], view_ptr(&x.pk, 0), sizeof(float) * block_len(&x.pk));
            c.s = fast_eval(&x.pk, levels[1], x.pk.zero, 1, obj);
            x.evals++;
            top_insert(&tops[0], &c);
            w.cur = c;
            if (max_views > 1) dfs(&w, 0, levels[1], 1);
        } else {
            memset(levels[0], 0, sizeof(float) * block_len(&x.pk));
            dfs(&w, 0, levels[0], 0);
        }
        for (int s = 0; s < max_views && st == TTA_OK; s++) st = best_of(&x, &tops[s], "exhaustive", &by_size[s], NULL);
    }
    if (n_evaluated) *n_evaluated = x.evals;
    for (int d = 0; d <= max_views; d++) tta_free(levels[d]);
    tta_free(tops);
    ctx_destroy(&x);
    return st;
}

/* ---- beam and greedy ---- */

tta_status tta_search_beam(const tta_pred_table *t, const int *cands, int n_cands, int max_views,
                           int with_identity, int beam_width, tta_objective obj, tta_search_pick *by_size,
                           long long *n_evaluated) {
    if (n_evaluated) *n_evaluated = 0;
    if (by_size && max_views >= 1 && max_views <= MAXB) clear_picks(by_size, max_views);
    TTA_TRY(check_table(t));
    TTA_TRY(check_cands(t, cands, n_cands, max_views, with_identity));
    if (beam_width < 1) beam_width = 8;
    if (beam_width > TOP_CAL) beam_width = TOP_CAL;
    const char *name = beam_width == 1 ? "greedy" : "beam";
    ctx x;
    TTA_TRY(ctx_init(&x, t, obj));
    size_t block = block_len(&x.pk);
    float *sums = tta_malloc(sizeof(float) * block * 2 * (size_t)beam_width);
    cand *beam = tta_malloc(sizeof(cand) * (size_t)beam_width);
    toplist *tl = tta_malloc(sizeof *tl);
    tta_status st = sums && beam && tl ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "search: out of memory for the beam");
    int n_beam = 0, cur = 0; /* sums: two sets of beam_width blocks, cur and 1 - cur */
    if (st == TTA_OK) {
        cand c = {0};
        if (with_identity) {
            cand_add(&c, 0);
            memcpy(sums, view_ptr(&x.pk, 0), sizeof(float) * block);
            toplist one;
            top_init(&one, 1);
            c.s = fast_eval(&x.pk, sums, x.pk.zero, 1, obj);
            x.evals++;
            top_insert(&one, &c);
            st = best_of(&x, &one, name, &by_size[0], NULL);
        } else {
            memset(sums, 0, sizeof(float) * block);
        }
        beam[0] = c;
        n_beam = 1;
    }
    for (int size = with_identity ? 2 : 1; size <= max_views && st == TTA_OK && n_beam; size++) {
        int keep = obj == TTA_OBJECTIVE_CALIBRATED_NLL ? 2 * beam_width + TOP_CAL_STEP : beam_width;
        top_init(tl, keep);
        for (int b = 0; b < n_beam; b++) {
            const float *sum = sums + ((size_t)cur * beam_width + b) * block;
            for (int ci = 0; ci < n_cands; ci++) {
                int v = cands[ci];
                if (cand_has(&beam[b], v)) continue;
                cand c = beam[b];
                cand_add(&c, v);
                c.parent = b;
                c.add = v;
                c.s = fast_eval(&x.pk, sum, view_ptr(&x.pk, v), size, obj);
                x.evals++;
                top_insert(tl, &c);
            }
        }
        if (!tl->count) break;
        if (obj == TTA_OBJECTIVE_CALIBRATED_NLL) {
            /* re-rank the NLL shortlist by calibrated NLL (exact), best first */
            tta_search_pick ps[4 * TOP_CAL];
            for (int j = 0; j < tl->count && st == TTA_OK; j++) st = pick_from(&x, &tl->c[j], name, &ps[j]);
            for (int j = 1; j < tl->count && st == TTA_OK; j++)
                for (int i = j; i > 0 && tta_objective_compare(obj, &ps[i].val, &ps[i - 1].val) < 0; i--) {
                    tta_search_pick tp = ps[i];
                    ps[i] = ps[i - 1];
                    ps[i - 1] = tp;
                    cand tc = tl->c[i];
                    tl->c[i] = tl->c[i - 1];
                    tl->c[i - 1] = tc;
                }
            if (st == TTA_OK) by_size[size - 1] = ps[0];
        } else {
            st = best_of(&x, tl, name, &by_size[size - 1], NULL);
        }
        int nb = tl->count < beam_width ? tl->count : beam_width;
        for (int b = 0; b < nb; b++) {
            float *dst = sums + ((size_t)(1 - cur) * beam_width + b) * block;
            add_block(&x.pk, dst, sums + ((size_t)cur * beam_width + tl->c[b].parent) * block,
                      view_ptr(&x.pk, tl->c[b].add), 1);
            beam[b] = tl->c[b];
        }
        n_beam = nb;
        cur = 1 - cur;
    }
    if (n_evaluated) *n_evaluated = x.evals;
    tta_free(sums);
    tta_free(beam);
    tta_free(tl);
    ctx_destroy(&x);
    return st;
}

/* ---- greedy with replacement (GPS) ---- */

tta_status tta_search_gps(const tta_pred_table *t, const int *cands, int n_cands, int max_views, int steps,
                          tta_objective obj, tta_search_pick *by_size, long long *n_evaluated) {
    if (n_evaluated) *n_evaluated = 0;
    if (by_size && max_views >= 1 && max_views <= MAXB) clear_picks(by_size, max_views);
    TTA_TRY(check_table(t));
    TTA_TRY(check_cands(t, cands, n_cands, max_views, 1));
    if (steps <= 0) steps = 2 * max_views;
    ctx x;
    TTA_TRY(ctx_init(&x, t, obj));
    size_t block = block_len(&x.pk);
    float *sum = tta_malloc(sizeof(float) * block);
    toplist *tl = tta_malloc(sizeof *tl);
    tta_status st = sum && tl ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "search: out of memory");
    cand cur = {0};
    int total = 1;
    if (st == TTA_OK) {
        cand_add(&cur, 0);
        memcpy(sum, view_ptr(&x.pk, 0), sizeof(float) * block);
        st = pick_from(&x, &cur, "gps", &by_size[0]);
    }
    for (int step = 0; step < steps && st == TTA_OK; step++) {
        top_init(tl, obj == TTA_OBJECTIVE_CALIBRATED_NLL ? TOP_CAL_STEP : 1);
        for (int ci = -1; ci < n_cands; ci++) {
            int v = ci < 0 ? 0 : cands[ci];
            cand c = cur;
            int j = 0;
            while (j < c.m && c.views[j] != v) j++;
            if (j < c.m) {
                c.w[j]++;
            } else {
                if (c.m == max_views) continue;
                cand_add(&c, v);
            }
            c.add = v;
            c.s = fast_eval(&x.pk, sum, view_ptr(&x.pk, v), total + 1, obj);
            x.evals++;
            top_insert(tl, &c);
        }
        if (!tl->count) break;
        tta_search_pick best;
        int chosen;
        st = best_of(&x, tl, "gps", &best, &chosen);
        if (st != TTA_OK) break;
        cur = tl->c[chosen];
        add_block(&x.pk, sum, sum, view_ptr(&x.pk, cur.add), 1);
        total++;
        tta_search_pick *slot = &by_size[cur.m - 1];
        if (!slot->n_views || tta_objective_compare(obj, &best.val, &slot->val) < 0) *slot = best;
    }
    if (n_evaluated) *n_evaluated = x.evals;
    tta_free(sum);
    tta_free(tl);
    ctx_destroy(&x);
    return st;
}

/* ---- swaps (step 3) ---- */

tta_status tta_search_swap(const tta_pred_table *t, const int *cands, int n_cands, tta_objective obj,
                           tta_search_pick *pick, long long *n_evaluated) {
    if (n_evaluated) *n_evaluated = 0;
    TTA_TRY(check_table(t));
    if (!pick || pick->n_views < 1 || pick->n_views > MAXB)
        return tta_errorf(TTA_ERR_INVALID_ARG, "swap search: empty starting policy");
    TTA_TRY(check_cands(t, cands, n_cands, MAXB, 0));
    ctx x;
    TTA_TRY(ctx_init(&x, t, obj));
    size_t block = block_len(&x.pk);
    float *sum = tta_malloc(sizeof(float) * block), *minus = tta_malloc(sizeof(float) * block);
    toplist *tl = tta_malloc(sizeof *tl);
    tta_status st = sum && minus && tl ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "search: out of memory");
    cand cur = {0};
    for (int j = 0; j < pick->n_views; j++) cand_add(&cur, pick->views[j]);
    tta_search_pick now = *pick;
    now.weighted = 0;
    for (int j = 0; j < now.n_views; j++) {
        now.views[j] = cur.views[j];
        now.weights[j] = 1;
    }
    if (st == TTA_OK) st = score_pick(&x, &now);
    for (int iter = 0; iter < 64 && st == TTA_OK; iter++) {
        memset(sum, 0, sizeof(float) * block);
        for (int j = 0; j < cur.m; j++) add_block(&x.pk, sum, sum, view_ptr(&x.pk, cur.views[j]), 1);
        top_init(tl, obj == TTA_OBJECTIVE_CALIBRATED_NLL ? TOP_CAL_STEP : 1);
        for (int j = 0; j < cur.m; j++) {
            if (cur.views[j] == 0) continue; /* the identity stays */
            add_block(&x.pk, minus, sum, view_ptr(&x.pk, cur.views[j]), -1);
            for (int ci = 0; ci < n_cands; ci++) {
                int v = cands[ci];
                if (v == 0 || cand_has(&cur, v)) continue;
                cand c = {0};
                for (int i = 0; i < cur.m; i++)
                    if (i != j) cand_add(&c, cur.views[i]);
                cand_add(&c, v);
                c.s = fast_eval(&x.pk, minus, view_ptr(&x.pk, v), cur.m, obj);
                x.evals++;
                top_insert(tl, &c);
            }
        }
        if (!tl->count) break;
        tta_search_pick best;
        st = best_of(&x, tl, "composite", &best, NULL);
        if (st != TTA_OK || tta_objective_compare(obj, &best.val, &now.val) >= 0) break;
        now = best;
        memset(&cur, 0, sizeof cur);
        for (int j = 0; j < now.n_views; j++) cand_add(&cur, now.views[j]);
    }
    if (st == TTA_OK) *pick = now;
    if (n_evaluated) *n_evaluated = x.evals;
    tta_free(sum);
    tta_free(minus);
    tta_free(tl);
    ctx_destroy(&x);
    return st;
}

/* ---- step 1: families ---- */

static int row_cmp(const tta_family_row *a, const tta_family_row *b) {
    if (a->order != b->order) return a->order < b->order ? -1 : 1;
    return strcmp(a->label, b->label);
}

void tta_search_families_free(tta_family *families, int n_families) {
    for (int f = 0; families && f < n_families; f++) {
        for (int r = 0; r < families[f].n_rows; r++) tta_free(families[f].rows[r].views);
        tta_free(families[f].rows);
    }
    tta_free(families);
}

tta_status tta_search_families(const tta_pred_table *t, const tta_policy *pool, tta_objective obj,
                               tta_family **families, int *n_families) {
    *families = NULL;
    *n_families = 0;
    TTA_TRY(check_table(t));
    if (!pool || pool->n_views != t->n_views)
        return tta_errorf(TTA_ERR_INVALID_ARG, "search: the pool has %d views but the table %d",
                          pool ? pool->n_views : 0, t->n_views);
    int V = t->n_views, nf = 0;
    tta_family *fam = tta_calloc((size_t)V, sizeof *fam);
    int *sel = tta_malloc(sizeof(int) * (size_t)(V + 1));
    float *merged = tta_malloc(sizeof(float) * (size_t)t->n * t->k);
    tta_status st = fam && sel && merged ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "search: out of memory");
    /* group the views: families in pool order, rows by (order, label) */
    for (int v = 1; v < V && st == TTA_OK; v++) {
        char fname[96], rlabel[48];
        double order;
        tta_search_view_family(&pool->views[v], fname, sizeof fname, rlabel, sizeof rlabel, &order);
        int f = 0;
        while (f < nf && strcmp(fam[f].name, fname)) f++;
        if (f == nf) {
            snprintf(fam[f].name, sizeof fam[f].name, "%s", fname);
            fam[f].composite = tta_search_view_is_composite(&pool->views[v]);
            fam[f].rows = tta_calloc((size_t)V, sizeof(tta_family_row));
            if (!fam[f].rows) {
                st = tta_errorf(TTA_ERR_NOMEM, "search: out of memory");
                break;
            }
            nf++;
        }
        tta_family *F = &fam[f];
        int r = 0;
        while (r < F->n_rows && strcmp(F->rows[r].label, rlabel)) r++;
        if (r == F->n_rows) {
            snprintf(F->rows[r].label, sizeof F->rows[r].label, "%s", rlabel);
            F->rows[r].order = order;
            F->rows[r].views = tta_malloc(sizeof(int) * (size_t)V);
            if (!F->rows[r].views) {
                st = tta_errorf(TTA_ERR_NOMEM, "search: out of memory");
                break;
            }
            F->n_rows++;
        }
        F->rows[r].views[F->rows[r].n_views++] = v;
    }
    for (int f = 0; f < nf && st == TTA_OK; f++) {
        tta_family *F = &fam[f];
        for (int i = 1; i < F->n_rows; i++) /* insertion sort by order */
            for (int j = i; j > 0 && row_cmp(&F->rows[j], &F->rows[j - 1]) < 0; j--) {
                tta_family_row tmp = F->rows[j];
                F->rows[j] = F->rows[j - 1];
                F->rows[j - 1] = tmp;
            }
        for (int r = 0; r < F->n_rows && st == TTA_OK; r++) {
            tta_family_row *R = &F->rows[r];
            double acc = 0;
            for (int j = 0; j < R->n_views && st == TTA_OK; j++) {
                tta_objective_value ov;
                st = tta_pred_table_merge(t, &R->views[j], NULL, 1, merged);
                tta_objective_eval(TTA_OBJECTIVE_ACCURACY, merged, t->labels, t->n, t->k, &ov);
                acc += ov.accuracy;
            }
            R->alone_accuracy = acc / R->n_views;
            sel[0] = 0;
            memcpy(sel + 1, R->views, sizeof(int) * (size_t)R->n_views);
            if (st == TTA_OK) st = tta_pred_table_merge(t, sel, NULL, R->n_views + 1, merged);
            if (st == TTA_OK) tta_objective_eval(obj, merged, t->labels, t->n, t->k, &R->with_identity);
            if (r && tta_objective_compare(obj, &R->with_identity, &F->rows[F->best].with_identity) < 0) F->best = r;
        }
    }
    tta_free(sel);
    tta_free(merged);
    if (st != TTA_OK) {
        tta_search_families_free(fam, nf);
        return st;
    }
    *families = fam;
    *n_families = nf;
    return TTA_OK;
}

/* ---- the whole search ---- */

static const char *method_names[] = {"exhaustive", "greedy", "beam", "gps", "composite"};

const char *tta_search_method_name(tta_search_method m) {
    return (unsigned)m < TTA_SEARCH_N_METHODS ? method_names[m] : "unknown";
}

/* Subsets of 1..max_extra views among m, or -1 past 1e18. */
static double count_subsets(int m, int max_extra) {
    double total = 0, c = 1;
    for (int s = 1; s <= max_extra && s <= m; s++) {
        c = c * (m - s + 1) / s;
        total += c;
    }
    return total;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void tta_search_result_destroy(tta_search_result *res) {
    if (!res) return;
    tta_search_families_free(res->families, res->n_families);
    memset(res, 0, sizeof *res);
}

tta_status tta_search_run(const tta_pred_table *t, const tta_policy *pool, const tta_search_options *opt,
                          tta_search_result *res) {
    memset(res, 0, sizeof *res);
    TTA_TRY(check_table(t));
    if (!opt || opt->budget < 1 || opt->budget > MAXB)
        return tta_errorf(TTA_ERR_INVALID_ARG, "search: budget %d (1 to %d views per image)", opt ? opt->budget : 0,
                          MAXB);
    if (!pool || pool->n_views != t->n_views)
        return tta_errorf(TTA_ERR_INVALID_ARG, "search: the pool has %d views but the table %d",
                          pool ? pool->n_views : 0, t->n_views);
    double t0 = now_s();
    tta_objective obj = opt->objective;
    int B = opt->budget < t->n_views ? opt->budget : t->n_views;
    res->budget = B;
    res->objective = obj;
    double limit = opt->exhaustive_limit > 0 ? opt->exhaustive_limit : 6e9;
    int beam = opt->beam_width > 0 ? opt->beam_width : 8;

    /* candidates: single views (steps 1-2) and all non-identity views (GPS, step 3) */
    int V = t->n_views, n_single = 0, n_all = 0;
    int *singles = tta_malloc(sizeof(int) * (size_t)V), *all = tta_malloc(sizeof(int) * (size_t)V);
    if (!singles || !all) {
        tta_free(singles);
        tta_free(all);
        return tta_errorf(TTA_ERR_NOMEM, "search: out of memory");
    }
    for (int v = 1; v < V; v++) {
        all[n_all++] = v;
        if (!tta_search_view_is_composite(&pool->views[v])) singles[n_single++] = v;
    }
    long long ev = 0;
    tta_status st = tta_search_families(t, pool, obj, &res->families, &res->n_families);
    if (st == TTA_OK && opt->prune) {
        /* only the views of rows that beat the identity alone (the table's first n x k block) */
        tta_objective_value id;
        tta_objective_eval(obj, t->probs, t->labels, t->n, t->k, &id);
        char *keep = tta_calloc((size_t)V, 1);
        if (!keep) st = tta_errorf(TTA_ERR_NOMEM, "search: out of memory");
        for (int f = 0; keep && f < res->n_families; f++)
            for (int r = 0; r < res->families[f].n_rows; r++) {
                const tta_family_row *R = &res->families[f].rows[r];
                if (tta_objective_compare(obj, &R->with_identity, &id) < 0)
                    for (int j = 0; j < R->n_views; j++) keep[R->views[j]] = 1;
            }
        int ns = 0, na = 0;
        for (int i = 0; keep && i < n_single; i++)
            if (keep[singles[i]]) singles[ns++] = singles[i];
        for (int i = 0; keep && i < n_all; i++)
            if (keep[all[i]]) all[na++] = all[i];
        if (keep) n_single = ns, n_all = na;
        tta_free(keep);
    }
    res->n_candidates = n_all;

    /* step 2: exhaustive over every single view if affordable, else over step 1's shortlist */
    if (st == TTA_OK) {
        double cost = count_subsets(n_single, B - 1) * t->n * t->k;
        if (cost <= limit) {
            res->exhaustive_all = 1;
            st = tta_search_exhaustive(t, singles, n_single, B, 1, obj, res->by_method[TTA_SEARCH_EXHAUSTIVE], &ev);
            res->n_evaluated += ev;
        } else {
            int cap = (int)(sizeof res->shortlist / sizeof res->shortlist[0]);
            for (int f = 0; f < res->n_families; f++) {
                const tta_family *F = &res->families[f];
                if (F->composite || !F->n_rows) continue;
                for (int j = 0; j < F->rows[F->best].n_views && res->n_shortlist < cap; j++) {
                    int v = F->rows[F->best].views[j], kept = 0;
                    for (int i = 0; i < n_single && !kept; i++) kept = singles[i] == v; /* not pruned */
                    if (kept) res->shortlist[res->n_shortlist++] = v;
                }
            }
            for (int i = 1; i < res->n_shortlist; i++) /* ascending, as the pool */
                for (int j = i; j > 0 && res->shortlist[j] < res->shortlist[j - 1]; j--) {
                    int tmp = res->shortlist[j];
                    res->shortlist[j] = res->shortlist[j - 1];
                    res->shortlist[j - 1] = tmp;
                }
            if (count_subsets(res->n_shortlist, B - 1) * t->n * t->k <= limit) {
                st = tta_search_exhaustive(t, res->shortlist, res->n_shortlist, B, 1, obj,
                                           res->by_method[TTA_SEARCH_EXHAUSTIVE], &ev);
                res->n_evaluated += ev;
            }
        }
    }
    if (st == TTA_OK) {
        st = tta_search_beam(t, singles, n_single, B, 1, 1, obj, res->by_method[TTA_SEARCH_GREEDY], &ev);
        res->n_evaluated += ev;
    }
    if (st == TTA_OK) {
        st = tta_search_beam(t, singles, n_single, B, 1, beam, obj, res->by_method[TTA_SEARCH_BEAM], &ev);
        res->n_evaluated += ev;
    }
    if (st == TTA_OK) {
        st = tta_search_gps(t, all, n_all, B, opt->gps_steps > 0 ? opt->gps_steps : 2 * B, obj,
                            res->by_method[TTA_SEARCH_GPS], &ev);
        res->n_evaluated += ev;
    }
    /* step 3: from the best plain policy of each size, swap members for composites (or any
     * view of the pool) while that helps */
    for (int s = 0; s < B && st == TTA_OK; s++) {
        tta_search_pick start = {0};
        for (int m = TTA_SEARCH_EXHAUSTIVE; m <= TTA_SEARCH_BEAM; m++) {
            const tta_search_pick *p = &res->by_method[m][s];
            if (p->n_views && (!start.n_views || tta_objective_compare(obj, &p->val, &start.val) < 0)) start = *p;
        }
        if (!start.n_views) continue;
        tta_search_pick sw = start;
        st = tta_search_swap(t, all, n_all, obj, &sw, &ev);
        res->n_evaluated += ev;
        if (st == TTA_OK && tta_objective_compare(obj, &sw.val, &start.val) >= 0) sw = start; /* unchanged */
        res->by_method[TTA_SEARCH_COMPOSITE][s] = sw;
    }
    /* the best of each size (ties: the earlier method), then the best of at most b + 1 views:
     * more views only for a strictly better objective (a tie in accuracy broken by NLL is not
     * worth another pass per image) */
    for (int s = 0; s < B && st == TTA_OK; s++) {
        tta_search_pick *best = &res->by_size[s];
        for (int m = 0; m < TTA_SEARCH_N_METHODS; m++) {
            const tta_search_pick *p = &res->by_method[m][s];
            if (p->n_views && (!best->n_views || tta_objective_compare(obj, &p->val, &best->val) < 0)) *best = *p;
        }
    }
    for (int b = 0; b < B && st == TTA_OK; b++) {
        res->best[b] = b ? res->best[b - 1] : res->by_size[0];
        const tta_search_pick *p = &res->by_size[b];
        tta_objective_value a = p->val, c = res->best[b].val;
        a.nll = c.nll = a.accuracy = c.accuracy = 0; /* the objective alone */
        if (p->n_views && tta_objective_compare(obj, &a, &c) < 0) res->best[b] = *p;
    }
    tta_free(singles);
    tta_free(all);
    res->seconds = now_s() - t0;
    if (st != TTA_OK) tta_search_result_destroy(res);
    return st;
}
