/* detect_cli.c - see detect_cli.h. Under mpirun each rank runs the views on its chunks of
 * images and the detections are gathered into every rank (dist_tasks.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/detect_cli.h"
#include "cli/dist.h"
#include "cli/dist_tasks.h"
#include "cli/progress.h"
#include "core/alloc.h"
#include "core/file_key.h"
#include "tta/tensor_io.h"

#define CHUNK 256

void det_cli_init(det_cli *d) {
    memset(d, 0, sizeof *d);
    d->o.normalized = -1;
    d->o.pad_value = -1;
    d->o.score_thr = -1;
    tta_fuse_options_default(&d->fuse, TTA_FUSE_WBF);
    d->fuse.max_det = 100;
}

const char *det_cli_help =
    "detector (default: the model's metadata_props, else guessed from its output shapes):\n"
    "  --output-layout L yolov8 [N, 4+C, A], yolov5 [N, A, 5+C] or boxes-scores (two outputs)\n"
    "  --box-format F     cxcywh, xyxy or xywh      --normalized 0|1   coordinates in [0, 1]\n"
    "  --classes N        class count               --stride S  dynamic models: sizes multiple of S\n"
    "  --class-names A,B  class names in label order (matched to COCO category names)\n"
    "  --img-size S       dynamic models: letterbox every image to S x S (default: its own size)\n"
    "  --pad V            letterbox fill on 0..255 (default 114)\n"
    "  --score-thr T      keep boxes scoring above T (default 0.001; predict 0.25)\n"
    "  --top-k K          best K boxes per view from decoding (default 1000)\n"
    "  --view-nms T       each view's own per-class NMS at IoU T before merging (0.6), or none\n"
    "  --view-max-det N   boxes per view after its NMS (default 100)\n"
    "  --threads T        --max-batch B\n"
    "merging the views' boxes, per class:\n"
    "  --merge M          wbf (default), nms, soft-nms (Gaussian), soft-nms-linear, nmw\n"
    "  --iou T            match or suppress above IoU T (nms, soft-nms 0.5; wbf, nmw 0.55)\n"
    "  --skip S           ignore boxes scoring below S before merging (0)\n"
    "  --sigma S          Gaussian soft-NMS (0.5)     --conf-type C  wbf: avg, max,\n"
    "                     box_and_model_avg, absent_model_aware_avg, allows_overflow\n"
    "  --max-det N        boxes kept per image after merging (100)\n";

static int bad(const char *flag, const char *v) {
    fprintf(stderr, "tta: detect: %s: bad value '%s'\n", flag, v);
    return -1;
}

static int parse_float(const char *s, float lo, float hi, float *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) return 0;
    *out = (float)v;
    return 1;
}

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

int det_cli_flag(int argc, char **argv, int *i, det_cli *d) {
    const char *a = argv[*i];
    if (*i + 1 >= argc || a[0] != '-' || a[1] != '-') return cli_format_flag(argc, argv, i, &d->fmt);
    const char *v = argv[*i + 1];
    int ok = 1;
    if (!strcmp(a, "--model")) d->model = v;
    else if (!strcmp(a, "--output-layout")) {
        if (tta_det_layout_parse(v, &d->o.layout)) { cli_fail(); return -1; }
    } else if (!strcmp(a, "--box-format")) {
        if (tta_box_format_parse(v, &d->o.box_format)) { cli_fail(); return -1; }
    } else if (!strcmp(a, "--normalized")) ok = parse_int(v, 0, 1, &d->o.normalized);
    else if (!strcmp(a, "--classes")) ok = parse_int(v, 1, 100000, &d->o.n_classes);
    else if (!strcmp(a, "--class-names")) d->o.class_names = v;
    else if (!strcmp(a, "--stride")) ok = parse_int(v, 1, 4096, &d->o.stride);
    else if (!strcmp(a, "--img-size")) ok = parse_int(v, 1, 16384, &d->o.img_size);
    else if (!strcmp(a, "--pad")) ok = parse_float(v, 0, 255, &d->o.pad_value);
    else if (!strcmp(a, "--score-thr")) ok = parse_float(v, 0, 1, &d->o.score_thr);
    else if (!strcmp(a, "--top-k")) ok = parse_int(v, 1, 1000000, &d->o.top_k);
    else if (!strcmp(a, "--view-nms")) {
        if (!strcmp(v, "none")) d->o.view_nms_iou = -1;
        else ok = parse_float(v, 1e-6f, 1, &d->o.view_nms_iou);
    } else if (!strcmp(a, "--view-max-det")) ok = parse_int(v, 1, 1000000, &d->o.view_max_det);
    else if (!strcmp(a, "--threads")) ok = parse_int(v, 0, 4096, &d->o.n_threads);
    else if (!strcmp(a, "--max-batch")) ok = parse_int(v, 1, 1 << 20, &d->o.max_batch);
    else if (!strcmp(a, "--merge")) {
        tta_fuse_options f;
        tta_fuse_method m;
        tta_soft_nms_kind kind = TTA_SOFT_NMS_GAUSSIAN;
        if (tta_fuse_method_parse(v, &m, &kind)) { cli_fail(); return -1; }
        tta_fuse_options_default(&f, m);
        f.soft_kind = kind;
        /* keep what other flags already set */
        if (d->iou_set) f.iou_thr = d->fuse.iou_thr;
        if (d->skip_set) f.skip_thr = d->fuse.skip_thr;
        if (d->sigma_set) f.sigma = d->fuse.sigma;
        if (d->conf_set) f.conf_type = d->fuse.conf_type, f.allows_overflow = d->fuse.allows_overflow;
        f.max_det = d->fuse.max_det;
        d->fuse = f;
        d->merge_set = 1;
    } else if (!strcmp(a, "--iou")) ok = parse_float(v, 0, 1, &d->fuse.iou_thr), d->iou_set = 1;
    else if (!strcmp(a, "--skip")) ok = parse_float(v, 0, 1, &d->fuse.skip_thr), d->skip_set = 1;
    else if (!strcmp(a, "--sigma")) ok = parse_float(v, 1e-6f, 100, &d->fuse.sigma), d->sigma_set = 1;
    else if (!strcmp(a, "--conf-type")) {
        if (tta_wbf_conf_parse(v, &d->fuse.conf_type, &d->fuse.allows_overflow)) { cli_fail(); return -1; }
        d->conf_set = 1;
    } else if (!strcmp(a, "--max-det")) ok = parse_int(v, 1, 1000000, &d->fuse.max_det), d->max_det_set = 1;
    else if (!strcmp(a, "--weights")) d->weights = v;
    else return cli_format_flag(argc, argv, i, &d->fmt);
    if (!ok) return bad(a, v);
    ++*i;
    return 1;
}

int det_cli_open(const det_cli *d, tta_model **model, tta_detector **det) {
    *model = NULL;
    *det = NULL;
    if (!d->model) {
        fprintf(stderr, "tta: detect: --model is required\n");
        return 1;
    }
    if (tta_model_load(d->model, cli_model_options(), model)) return cli_fail();
    tta_detector_options o = d->o;
    tta_input_format fmt;
    const cli_format *f = &d->fmt;
    if (f->layout || f->size || f->scale || f->mean || f->std) {
        if (tta_input_format_from_model(*model, &fmt) ||
            tta_input_format_set(&fmt, f->layout, f->size, f->scale, f->mean, f->std))
            return cli_fail();
        o.format = &fmt;
    }
    if (tta_detector_new(det, *model, &o)) {
        fprintf(stderr, "tta: %s: %s\n", d->model, tta_last_error());
        return 1;
    }
    return 0;
}

void det_cli_fuse_text(const tta_fuse_options *f, char *buf, size_t size) {
    const char *name = tta_fuse_method_name(f->method);
    if (f->method == TTA_FUSE_SOFT_NMS) name = f->soft_kind == TTA_SOFT_NMS_LINEAR ? "soft-nms-linear" : "soft-nms";
    int n = snprintf(buf, size, "%s iou=%g", name, f->iou_thr);
    if (f->skip_thr > 0 && n > 0 && (size_t)n < size) n += snprintf(buf + n, size - (size_t)n, " skip=%g", f->skip_thr);
    if (f->method == TTA_FUSE_WBF && (f->conf_type != TTA_WBF_CONF_AVG || f->allows_overflow) && n > 0 &&
        (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " conf=%s", f->allows_overflow ? "allows_overflow" : tta_wbf_conf_name(f->conf_type));
}

/* "# merge: wbf iou=0.55 [skip=S] [conf=C]" in a policy file or text */
static int merge_comment(const char *text, det_cli *d, tta_fuse_options *fuse, const char *path) {
    const char *m = strstr(text, "# merge:");
    if (!m) return 0;
    char line[256];
    size_t n = strcspn(m + 8, "\n");
    if (n >= sizeof line) n = sizeof line - 1;
    memcpy(line, m + 8, n);
    line[n] = 0;
    char *save = NULL, *tok = strtok_r(line, " \t", &save);
    tta_fuse_options f = *fuse;
    if (tok && !d->merge_set) {
        tta_fuse_method meth;
        tta_soft_nms_kind kind = TTA_SOFT_NMS_GAUSSIAN;
        if (tta_fuse_method_parse(tok, &meth, &kind)) {
            fprintf(stderr, "tta: %s: merge comment: %s\n", path, tta_last_error());
            return 1;
        }
        tta_fuse_options_default(&f, meth);
        f.soft_kind = kind;
        f.max_det = fuse->max_det;
        if (d->iou_set) f.iou_thr = fuse->iou_thr;
        if (d->skip_set) f.skip_thr = fuse->skip_thr;
        if (d->sigma_set) f.sigma = fuse->sigma;
        if (d->conf_set) f.conf_type = fuse->conf_type, f.allows_overflow = fuse->allows_overflow;
    }
    while (tok && (tok = strtok_r(NULL, " \t", &save))) {
        float v;
        if (!strncmp(tok, "iou=", 4) && parse_float(tok + 4, 0, 1, &v)) {
            if (!d->iou_set) f.iou_thr = v;
        } else if (!strncmp(tok, "skip=", 5) && parse_float(tok + 5, 0, 1, &v)) {
            if (!d->skip_set) f.skip_thr = v;
        } else if (!strncmp(tok, "conf=", 5)) {
            if (!d->conf_set && tta_wbf_conf_parse(tok + 5, &f.conf_type, &f.allows_overflow)) {
                fprintf(stderr, "tta: %s: merge comment: %s\n", path, tta_last_error());
                return 1;
            }
        } else {
            fprintf(stderr, "tta: %s: merge comment: cannot read '%s'\n", path, tok);
            return 1;
        }
    }
    *fuse = f;
    return 0;
}

int det_cli_load_policy(const char *arg, tta_policy *pol, det_cli *d, tta_fuse_options *fuse) {
    *fuse = d->fuse;
    if (cli_load_policy(arg, pol)) return 1;
    struct stat st;
    const char *path = arg[0] == '@' ? arg + 1 : NULL;
    if (!path && !tta_policy_preset(arg) && stat(arg, &st) == 0 && S_ISREG(st.st_mode)) path = arg;
    if (!path) return merge_comment(arg, d, fuse, "policy"); /* inline text may carry one too */
    void *buf;
    size_t size;
    if (tta_read_file(path, &buf, &size)) return cli_fail();
    ((char *)buf)[size] = '\0';
    int rc = merge_comment(buf, d, fuse, path);
    tta_free(buf);
    return rc;
}

int det_cli_run_table(tta_detector *det, const tta_policy *pol, const tta_coco *data, tta_det_table *t,
                      const char *what, double *seconds) {
    memset(t, 0, sizeof *t);
    t->n_images = data->n_images;
    t->n_views = pol->n_views;
    t->boxes = tta_calloc((size_t)data->n_images, sizeof *t->boxes);
    if (!t->boxes) {
        fprintf(stderr, "tta: out of memory\n");
        return 1;
    }
    tta_image imgs[CHUNK];
    memset(imgs, 0, sizeof imgs);
    double t0 = cli_now();
    int rc = 0;
    int64_t b, e; /* this rank's images */
    dist_range(data->n_images, CHUNK, &b, &e);
    cli_progress pg;
    cli_progress_start_views(&pg, what, pol->n_views, e - b);
    for (int s = (int)b; s < e && !rc; s += CHUNK) {
        int cnt = e - s < CHUNK ? (int)e - s : CHUNK;
        for (int i = 0; i < cnt && !rc; i++)
            if (tta_coco_read_image(data, s + i, &imgs[i])) rc = cli_fail();
        if (!rc && tta_detect_views(det, pol, imgs, cnt, t->boxes + s)) rc = cli_fail();
        if (!rc) cli_progress_update(&pg, s + cnt - b);
    }
    cli_progress_end(&pg);
    for (int i = 0; i < CHUNK; i++) tta_image_destroy(&imgs[i]);
    if (dist_any_failed(rc, "detect") || dist_gather_boxes(t->boxes, data->n_images, CHUNK)) rc = 1;
    if (seconds) *seconds = cli_now() - t0;
    return rc;
}

void det_cli_table_free(tta_det_table *t) {
    tta_boxes_free_array(t->boxes, t->n_images);
    memset(t, 0, sizeof *t);
}

tta_status det_cli_score(const tta_det_table *t, const int *views, const double *weights, int m,
                         const tta_fuse_options *fuse, const tta_coco *data, const int64_t *cat_ids, int n_classes,
                         tta_coco_stats *stats, tta_coco_eval **ev_out, tta_boxes **fused_out) {
    tta_boxes *fused = tta_calloc((size_t)t->n_images, sizeof *fused);
    if (!fused) return TTA_ERR_NOMEM;
    tta_coco_det *dets = NULL;
    int n = 0;
    tta_coco_eval *ev = NULL;
    tta_status st = tta_det_table_fuse(t, views, weights, m, fuse, fused);
    if (!st) st = tta_boxes_to_coco(data, fused, cat_ids, n_classes, &dets, &n);
    if (!st) st = tta_coco_eval_new(&ev, data);
    if (!st) st = tta_coco_eval_run(ev, dets, n);
    if (!st) st = tta_coco_eval_stats(ev, NULL, stats);
    tta_free(dets);
    if (ev_out && !st) *ev_out = ev;
    else tta_coco_eval_free(ev);
    if (fused_out && !st) *fused_out = fused;
    else tta_boxes_free_array(fused, t->n_images);
    return st;
}
