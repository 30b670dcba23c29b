/* report_cli.c - classification examples for reports and the atomic report write (report_cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/report_cli.h"

static const char *class_name(char *const *names, const tta_dataset *ds, int c, char *buf, size_t size) {
    const char *s = names ? names[c] : NULL;
    if (!s) s = tta_dataset_class_name(ds, c);
    if (!s) snprintf(buf, size, "class %d", c), s = buf;
    return s;
}

int cli_examples_collect(cli_examples *out, int corrected, const tta_dataset *ds, const tta_policy *pol,
                         const float *base, const float *merged, const float *view_probs, size_t image_stride,
                         size_t view_stride, const int *sel, int k, char *const *class_names) {
    memset(out, 0, sizeof *out);
    int64_t n = tta_dataset_count(ds);
    const int *labels = tta_dataset_labels(ds);
    int nv = pol->n_views < CLI_EXAMPLE_VIEWS ? pol->n_views : CLI_EXAMPLE_VIEWS;
    tta_image src = {0};
    tta_aug_plan *plan = NULL;
    int rc = 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        int b = tta_argmax(base + (size_t)i * k, k), m = tta_argmax(merged + (size_t)i * k, k);
        int y = labels[i];
        if (corrected ? !(b != y && m == y) : !(b == y && m != y)) continue;
        out->total++;
        if (out->n == CLI_MAX_EXAMPLES) continue;
        int e = out->n++;
        tta_report_example *x = &out->ex[e];
        char tmp[32];
        if (tta_dataset_get(ds, i, &src, NULL) || tta_aug_plan_new(&plan, pol, src.height, src.width, 0, 0)) {
            rc = cli_fail();
            break;
        }
        for (int v = 0; v < nv && !rc; v++) {
            if (tta_augment_view(plan, v, &src, TTA_DTYPE_UINT8, &out->views[e][v])) rc = cli_fail();
            tta_view_format(&pol->views[v], out->name_text[e][v], sizeof out->name_text[e][v]);
            const float *p = view_probs + (size_t)i * image_stride + (size_t)sel[v] * view_stride;
            int c = tta_argmax(p, k);
            snprintf(out->pred_text[e][v], sizeof out->pred_text[e][v], "%s %.2f",
                     class_name(class_names, ds, c, tmp, sizeof tmp), p[c]);
            out->names[e][v] = out->name_text[e][v];
            out->preds[e][v] = out->pred_text[e][v];
        }
        tta_aug_plan_free(plan);
        plan = NULL;
        snprintf(out->truth[e], sizeof out->truth[e], "%s", class_name(class_names, ds, y, tmp, sizeof tmp));
        snprintf(out->single[e], sizeof out->single[e], "%s (%.2f)",
                 class_name(class_names, ds, b, tmp, sizeof tmp), base[(size_t)i * k + b]);
        snprintf(out->merged[e], sizeof out->merged[e], "%s (%.2f)",
                 class_name(class_names, ds, m, tmp, sizeof tmp), merged[(size_t)i * k + m]);
        *x = (tta_report_example){
            (int)i,        nv, out->views[e], out->names[e], out->preds[e], out->truth[e], out->single[e],
            out->merged[e]};
    }
    tta_image_destroy(&src);
    return rc;
}

void cli_examples_destroy(cli_examples *e) {
    for (int i = 0; i < CLI_MAX_EXAMPLES; i++)
        for (int v = 0; v < CLI_EXAMPLE_VIEWS; v++)
            tta_image_destroy(&e->views[i][v]);
}

int cli_report_check(const char *path) {
    char *tmp = NULL;
    FILE *f = cli_output_open(path, &tmp);
    if (!f) return 1;
    fclose(f);
    remove(tmp);
    free(tmp);
    return 0;
}

int cli_report_write(const char *path, tta_status (*write)(FILE *f, const void *data), const void *data) {
    char *tmp = NULL;
    FILE *f = cli_output_open(path, &tmp); /* PATH.part, renamed into place when whole */
    if (!f) return 1;
    if (write(f, data)) {
        fprintf(stderr, "tta: %s: %s\n", path, tta_last_error());
        fclose(f);
        remove(tmp);
        free(tmp);
        return 1;
    }
    int failed = cli_output_commit(f, tmp, path);
    free(tmp);
    return failed;
}
