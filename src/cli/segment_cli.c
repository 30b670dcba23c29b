/* segment_cli.c - see segment_cli.h. Under mpirun seg_cli_run runs each rank's chunks of images
 * and combines the counts of all ranks into every rank (dist_tasks.h). */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/dist.h"
#include "cli/dist_tasks.h"
#include "cli/progress.h"
#include "cli/segment_cli.h"
#include "core/file_key.h"
#include "segment/segment_internal.h"
#include "tta/tensor_io.h"

#define CHUNK 32 /* also each MPI rank's unit of work (dist.h) */
#define QUALITY_BINS 65536

void seg_cli_init(seg_cli *c) {
    memset(c, 0, sizeof *c);
    c->merge = TTA_MERGE_MEAN;
    c->ignore = 255;
    c->boundary = 3;
}

const char *seg_cli_help =
    "segmenter (default: the model's metadata_props and output shape):\n"
    "  --output O        logits, softmax or sigmoid (one-channel binary mask)\n"
    "  --stride S        dynamic models: run at the image size rounded up to a multiple of S\n"
    "  --tile T          sliding window of T x T tiles for larger images (fixed models: their size)\n"
    "  --overlap F       tile overlap, share of the tile (0.25)   --sigma F  Gaussian blending\n"
    "                    weight's sigma, share of the tile (0.125; negative: flat)\n"
    "  --merge M         mean (default), geometric, max, vote (weights from the policy: weighted)\n"
    "  --ignore L        mask label left out of every metric (255)\n"
    "  --boundary B      boundary pixels: within B pixels of a class edge (3)\n"
    "  --threads T       --max-batch B\n";

static int bad(const char *flag, const char *v) {
    fprintf(stderr, "tta: segment: %s: bad value '%s'\n", flag, v);
    return -1;
}

int seg_cli_flag(int argc, char **argv, int *i, seg_cli *c) {
    const char *a = argv[*i];
    if (*i + 1 >= argc || strncmp(a, "--", 2)) return cli_format_flag(argc, argv, i, &c->fmt);
    const char *v = argv[*i + 1];
    char *end = NULL;
    long n = strtol(v, &end, 10);
    int is_int = end != v && !*end;
    double d = strtod(v, &end);
    int is_num = end != v && !*end && isfinite(d);
    if (!strcmp(a, "--model")) c->model = v;
    else if (!strcmp(a, "--output")) {
        if (tta_seg_output_parse(v, &c->o.output)) {
            cli_fail();
            return -1;
        }
    } else if (!strcmp(a, "--stride")) {
        if (!is_int || n < 1 || n > 4096) return bad(a, v);
        c->o.stride = (int)n;
    } else if (!strcmp(a, "--tile")) {
        if (!is_int || n < 8 || n > 16384) return bad(a, v);
        c->o.tile = (int)n;
    } else if (!strcmp(a, "--overlap")) {
        if (!is_num || d < 0 || d >= 0.95) return bad(a, v);
        c->o.overlap = d;
    } else if (!strcmp(a, "--sigma")) {
        if (!is_num || d == 0) return bad(a, v);
        c->o.sigma = d;
    } else if (!strcmp(a, "--merge")) {
        if (tta_merge_parse(v, &c->merge)) {
            cli_fail();
            return -1;
        }
    } else if (!strcmp(a, "--ignore")) {
        if (!is_int || n < 0 || n > 255) return bad(a, v);
        c->ignore = (int)n;
    } else if (!strcmp(a, "--boundary")) {
        if (!is_int || n < 1 || n > 64) return bad(a, v);
        c->boundary = (int)n;
    } else if (!strcmp(a, "--threads")) {
        if (!is_int || n < 0 || n > 4096) return bad(a, v);
        c->o.n_threads = (int)n;
    } else if (!strcmp(a, "--max-batch")) {
        if (!is_int || n < 1 || n > 65536) return bad(a, v);
        c->o.max_batch = (int)n;
    } else return cli_format_flag(argc, argv, i, &c->fmt);
    ++*i;
    return 1;
}

int seg_cli_open(const seg_cli *c, tta_model **model, tta_segmenter **seg) {
    *model = NULL;
    *seg = NULL;
    if (!c->model) {
        fprintf(stderr, "tta: segment: --model is required\n");
        return 1;
    }
    if (tta_model_load(c->model, cli_model_options(), model)) return cli_fail();
    tta_segmenter_options o = c->o;
    tta_input_format fmt;
    const cli_format *f = &c->fmt;
    if (f->layout || f->size || f->scale || f->mean || f->std) {
        if (tta_input_format_from_model(*model, &fmt) ||
            tta_input_format_set(&fmt, f->layout, f->size, f->scale, f->mean, f->std))
            return cli_fail();
        o.format = &fmt;
    }
    if (tta_segmenter_new(seg, *model, &o)) {
        fprintf(stderr, "tta: %s: %s\n", c->model, tta_last_error());
        return 1;
    }
    return 0;
}

int seg_cli_policy_merge(const char *arg, tta_merge fallback, tta_merge *out) {
    *out = fallback;
    struct stat st;
    const char *path = arg[0] == '@' ? arg + 1 : NULL;
    if (!path && !tta_policy_preset(arg) && stat(arg, &st) == 0 && S_ISREG(st.st_mode)) path = arg;
    void *buf = NULL;
    size_t size = 0;
    if (path) {
        if (tta_read_file(path, &buf, &size)) return cli_fail();
        ((char *)buf)[size] = '\0';
    }
    const char *text = buf ? buf : arg, *mc = strstr(text, "# merge:");
    int rc = 0;
    if (mc) {
        char name[32];
        if (sscanf(mc + 8, " %31[a-z]", name) != 1 || tta_merge_parse(name, out)) {
            fprintf(stderr, "tta: %s: cannot read its merge comment\n", path ? path : "policy");
            rc = 1;
        }
    }
    tta_free(buf);
    return rc;
}

const char *seg_cli_map_label(int k) { return k < TTA_UNC_COUNT ? tta_unc_map_name((tta_unc_map)k) : "1-pass entropy"; }

/* ---- one policy over a data set ------------------------------------------------------- */

tta_status seg_chunk_add(void *user, int image, int view, const float *probs, const uint8_t *valid, int C, int h,
                         int w) {
    seg_chunk *c = user;
    size_t plane = (size_t)h * w;
    if (!c->m[image] || c->h[image] != h || c->w[image] != w || c->C != C) {
        tta_seg_merger_free(c->m[image]);
        c->m[image] = NULL;
        tta_status st = tta_seg_merger_new(&c->m[image], c->merge, C, h, w);
        if (st) return st;
        float *e = realloc(c->ident[image], sizeof(float) * plane);
        if (!e) return TTA_ERR_NOMEM;
        c->ident[image] = e;
        c->h[image] = h, c->w[image] = w, c->C = C;
    }
    if (view == 0) {
        tta_seg_merger_reset(c->m[image]);
        tta_seg_entropy(probs, C, plane, c->ident[image]);
    }
    double wt = c->weights ? c->weights[view] : 1.0;
    return wt > 0 ? tta_seg_merger_add(c->m[image], probs, valid, wt) : TTA_OK; /* "@ 0": the view does not count */
}

static int write_outputs(const char *dir, const char *name, const uint8_t *labels, const float *entropy, int h, int w) {
    char path[4096], stem[1024];
    snprintf(stem, sizeof stem, "%.*s", (int)strcspn(name, "."), name);
    tta_image img = {0};
    tta_image_wrap(&img, h, w, 1, TTA_DTYPE_UINT8, (void *)labels);
    snprintf(path, sizeof path, "%s/%s.png", dir, stem);
    if (tta_image_write_png(&img, path)) return cli_fail();
    tta_tensor t = {0};
    int64_t dims[2] = {h, w};
    if (tta_tensor_resize(&t, TTA_DTYPE_FLOAT32, 2, dims)) return cli_fail();
    memcpy(t.data, entropy, sizeof(float) * (size_t)h * w);
    snprintf(path, sizeof path, "%s/%s.entropy.npy", dir, stem);
    tta_status st = tta_tensor_write_npy(path, &t);
    tta_tensor_destroy(&t);
    return st ? cli_fail() : 0;
}

void seg_run_destroy(seg_run *r) {
    tta_confusion_destroy(&r->total);
    for (int i = 0; r->per_image && i < r->n_images; i++) tta_confusion_destroy(&r->per_image[i]);
    free(r->per_image);
    for (int k = 0; k <= TTA_UNC_COUNT; k++) tta_unc_quality_destroy(&r->q[k]);
    memset(r, 0, sizeof *r);
}

void seg_image_out_destroy(seg_image_out *o) {
    free(o->probs), free(o->labels), free(o->hp);
    for (int k = 0; k <= TTA_UNC_COUNT; k++) free(o->hm[k]);
    for (int k = 0; k <= TTA_UNC_COUNT; k++) free(o->maps[k]);
    memset(o, 0, sizeof *o);
}

static int out_size(seg_image_out *o, int C, size_t plane, size_t low) {
    int ok = 1;
    if (plane > o->cap) {
        o->cap = plane;
        ok &= (o->probs = realloc(o->probs, sizeof(float) * (size_t)C * plane)) != NULL;
        ok &= (o->labels = realloc(o->labels, plane)) != NULL;
        for (int k = 0; k <= TTA_UNC_COUNT; k++) ok &= (o->maps[k] = realloc(o->maps[k], sizeof(float) * plane)) != NULL;
    }
    if (low != plane && low > o->hcap) {
        o->hcap = low;
        ok &= (o->hp = realloc(o->hp, sizeof(float) * (size_t)C * low)) != NULL;
        for (int k = 0; k < TTA_UNC_COUNT; k++) ok &= (o->hm[k] = realloc(o->hm[k], sizeof(float) * low)) != NULL;
    }
    if (!ok) {
        o->cap = o->hcap = 0; /* reallocated from scratch next time */
        fprintf(stderr, "tta: segment: out of memory for a %zu-pixel image\n", plane);
    }
    return !ok;
}

int seg_image_merge(seg_image_out *o, const tta_seg_merger *m, const float *ident, int C, int h, int w, int H, int W) {
    size_t plane = (size_t)H * W, low = (size_t)h * w;
    if (out_size(o, C, plane, low)) return 1;
    o->height = H, o->width = W;
    if (low != plane) { /* an output at a stride: merged at its resolution, upsampled */
        if (tta_seg_merger_result(m, o->hp, NULL, o->hm)) return cli_fail();
        tta_seg_upsample(o->hp, C, h, w, o->probs, H, W);
        for (int k = 0; k < TTA_UNC_COUNT; k++) tta_seg_upsample(o->hm[k], 1, h, w, o->maps[k], H, W);
        tta_seg_upsample(ident, 1, h, w, o->maps[TTA_UNC_COUNT], H, W);
        for (size_t p = 0; p < plane; p++) {
            int best = 0;
            for (int c = 1; c < C; c++)
                if (o->probs[c * plane + p] > o->probs[best * plane + p]) best = c;
            o->labels[p] = (uint8_t)best;
        }
    } else {
        if (tta_seg_merger_result(m, NULL, o->labels, o->maps)) return cli_fail();
        memcpy(o->maps[TTA_UNC_COUNT], ident, sizeof(float) * plane);
    }
    return 0;
}

int seg_score_init(seg_score *sc, int C, int ignore, int boundary) {
    memset(sc, 0, sizeof *sc);
    sc->ignore = ignore;
    if (tta_confusion_init(&sc->total, C, ignore, boundary)) return cli_fail();
    for (int k = 0; k <= TTA_UNC_COUNT; k++) {
        double mx = k == TTA_UNC_VARIANCE ? 0.25 : k == TTA_UNC_DISAGREEMENT ? 1.0 : log((double)C);
        if (tta_unc_quality_init(&sc->q[k], QUALITY_BINS, mx)) return cli_fail();
    }
    return 0;
}

void seg_score_destroy(seg_score *sc) {
    tta_confusion_destroy(&sc->total);
    for (int k = 0; k <= TTA_UNC_COUNT; k++) tta_unc_quality_destroy(&sc->q[k]);
    free(sc->wrong);
    memset(sc, 0, sizeof *sc);
}

int seg_score_image(seg_score *sc, const seg_image_out *o, const tta_image *mask, tta_confusion *pi, const char *name) {
    int H = mask->height, W = mask->width;
    size_t plane = (size_t)H * W;
    if (plane > sc->cap) {
        free(sc->wrong);
        if (!(sc->wrong = malloc(plane))) {
            sc->cap = 0;
            fprintf(stderr, "tta: segment: out of memory for a %zu-pixel image\n", plane);
            return 1;
        }
        sc->cap = plane;
    }
    const uint8_t *truth = mask->data;
    if ((pi && (tta_confusion_init(pi, sc->total.classes, sc->ignore, 0) || tta_confusion_add(pi, truth, o->labels, H, W))) ||
        tta_confusion_add(&sc->total, truth, o->labels, H, W)) {
        fprintf(stderr, "tta: %s: %s\n", name, tta_last_error());
        return 1;
    }
    for (size_t p = 0; p < plane; p++) sc->wrong[p] = truth[p] == sc->ignore ? 2 : o->labels[p] != truth[p];
    for (int k = 0; k <= TTA_UNC_COUNT; k++) tta_unc_quality_add(&sc->q[k], o->maps[k], sc->wrong, (int64_t)plane);
    return 0;
}

void seg_score_sum(tta_confusion *total, tta_unc_quality *q, const seg_score *sc) {
    tta_confusion_add_matrix(total, &sc->total, 1);
    for (int k = 0; k <= TTA_UNC_COUNT; k++)
        for (int b = 0; q[k].correct && sc->q[k].correct && b < q[k].bins && q[k].bins == sc->q[k].bins; b++)
            q[k].correct[b] += sc->q[k].correct[b], q[k].wrong[b] += sc->q[k].wrong[b];
}

int seg_cli_run(tta_segmenter *s, const tta_policy *pol, tta_merge merge, const tta_mask_set *data, int ignore,
                int boundary, const char *save_dir, const char *what, seg_run *out) {
    memset(out, 0, sizeof *out);
    int n = tta_mask_set_count(data), rc = 0;
    out->n_images = n;
    out->per_image = calloc((size_t)n, sizeof *out->per_image);
    if (!out->per_image && n > 0) {
        fprintf(stderr, "tta: segment: out of memory\n");
        return 1;
    }
    tta_image imgs[CHUNK], masks[CHUNK];
    memset(imgs, 0, sizeof imgs);
    memset(masks, 0, sizeof masks);
    tta_seg_merger *m[CHUNK] = {0};
    float *ident[CHUNK] = {0};
    int hh[CHUNK] = {0}, ww[CHUNK] = {0};
    seg_chunk cc = {m, ident, hh, ww, 0, merge, pol->weights};
    /* one image's outputs and one set of sums per thread, from the first chunk on */
    seg_image_out *outs = NULL;
    seg_score *scores = NULL;
    int n_thr = 0;
    double t0 = cli_now();
    if (save_dir) { /* (under mpirun every rank makes it, and writes the files of its own images) */
        struct stat st;
        if (stat(save_dir, &st) != 0 && mkdir(save_dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "tta: %s: cannot create the folder\n", save_dir);
            return 1;
        }
    }
    int64_t b, e; /* this rank's images */
    dist_range(n, CHUNK, &b, &e);
    cli_progress pg;
    cli_progress_start_views(&pg, what, pol->n_views, e - b);
    for (int s0 = (int)b; s0 < e && !rc; s0 += CHUNK) {
        int cnt = e - s0 < CHUNK ? (int)e - s0 : CHUNK;
        for (int i = 0; i < cnt && !rc; i++)
            if (tta_mask_set_read(data, s0 + i, &imgs[i], &masks[i])) rc = cli_fail();
        /* runs of one size through the segmenter */
        for (int a = 0; a < cnt && !rc;) {
            int b = a + 1;
            while (b < cnt && imgs[b].height == imgs[a].height && imgs[b].width == imgs[a].width &&
                   imgs[b].channels == imgs[a].channels)
                b++;
            cc.m = m + a, cc.ident = ident + a, cc.h = hh + a, cc.w = ww + a;
            if (tta_segment_each_view(s, pol, imgs + a, b - a, seg_chunk_add, &cc)) rc = cli_fail();
            a = b;
        }
        if (rc) break;
        int C = cc.C;
        if (!out->classes) { /* the first chunk: the classes are known */
            out->classes = C;
            n_thr = omp_get_max_threads();
            n_thr = n_thr < 1 ? 1 : n_thr;
            outs = calloc((size_t)n_thr, sizeof *outs);
            scores = calloc((size_t)n_thr, sizeof *scores);
            if (!outs || !scores) {
                fprintf(stderr, "tta: segment: out of memory\n");
                rc = 1;
                break;
            }
            seg_score all;
            rc = seg_score_init(&all, C, ignore, boundary);
            out->total = all.total; /* the run's sums: the threads' are added at the end */
            memcpy(out->q, all.q, sizeof out->q);
            for (int j = 0; j < n_thr && !rc; j++) rc = seg_score_init(&scores[j], C, ignore, boundary);
            if (rc) break;
        }
        /* the images of the chunk over the threads */
        int fail = 0;
#pragma omp parallel for num_threads(n_thr) schedule(dynamic, 1) if (n_thr > 1 && cnt > 1)
        for (int i = 0; i < cnt; i++) {
            int stop;
#pragma omp atomic read
            stop = fail;
            if (stop) continue;
            int j = omp_get_thread_num();
            const char *name = tta_mask_set_name(data, s0 + i);
            seg_image_out *o = &outs[j];
            if (seg_image_merge(o, m[i], ident[i], C, hh[i], ww[i], masks[i].height, masks[i].width) ||
                seg_score_image(&scores[j], o, &masks[i], &out->per_image[s0 + i], name) ||
                (save_dir && write_outputs(save_dir, name, o->labels, o->maps[TTA_UNC_ENTROPY], o->height, o->width))) {
#pragma omp atomic write
                fail = 1;
            }
        }
        rc = fail;
        if (!rc) cli_progress_update(&pg, s0 + cnt - b);
    }
    cli_progress_end(&pg);
    for (int j = 0; scores && !rc && j < n_thr; j++) seg_score_sum(&out->total, out->q, &scores[j]);
    if (dist_any_failed(rc, "segment") || dist_combine_seg_run(out, n, CHUNK, ignore, boundary)) rc = 1;
    out->seconds = cli_now() - t0;
    for (int i = 0; i < CHUNK; i++) {
        tta_image_destroy(&imgs[i]);
        tta_image_destroy(&masks[i]);
        tta_seg_merger_free(m[i]);
        free(ident[i]);
    }
    for (int j = 0; j < n_thr; j++) {
        if (outs) seg_image_out_destroy(&outs[j]);
        if (scores) seg_score_destroy(&scores[j]);
    }
    free(outs);
    free(scores);
    return rc;
}
