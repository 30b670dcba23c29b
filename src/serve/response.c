/* response.c - see response.h. */
#include <stdio.h>

#include "serve/response.h"

void serve_json_error(serve_buf *b, int code, const char *message) {
    serve_buf_printf(b, "{\"error\": {\"code\": %d, \"message\": ", code);
    serve_buf_json_str(b, message ? message : "");
    serve_buf_puts(b, "}}\n");
}

void serve_json_begin(serve_buf *b, const char *model, const char *task) {
    serve_buf_puts(b, "{\"model\": ");
    serve_buf_json_str(b, model);
    serve_buf_puts(b, ", \"task\": ");
    serve_buf_json_str(b, task);
    serve_buf_puts(b, ", \"results\": [");
}

void serve_json_next(serve_buf *b) { serve_buf_puts(b, ", "); }
void serve_json_end(serve_buf *b) { serve_buf_puts(b, "]}\n"); }

static void class_entry(serve_buf *b, int c, const char *const *names, const float *probs) {
    serve_buf_printf(b, "\"class\": %d, ", c);
    if (names && names[c]) {
        serve_buf_puts(b, "\"label\": ");
        serve_buf_json_str(b, names[c]);
        serve_buf_puts(b, ", ");
    }
    serve_buf_puts(b, "\"probability\": ");
    serve_buf_json_num(b, probs[c]);
}

void serve_json_classify(serve_buf *b, const serve_class_result *r) {
    int k = r->k, top = r->top < k ? r->top : k;
    /* the best `top` classes by selection: k is small (a classifier's classes), top smaller */
    int order[64], best = 0;
    for (int c = 1; c < k; c++)
        if (r->probs[c] > r->probs[best]) best = c;
    serve_buf_puts(b, "{");
    class_entry(b, best, r->names, r->probs);
    serve_buf_puts(b, ", \"top\": [");
    if (top > 64) top = 64;
    for (int t = 0; t < top; t++) {
        int pick = -1;
        for (int c = 0; c < k; c++) {
            int used = 0;
            for (int u = 0; u < t && !used; u++)
                used = order[u] == c;
            if (!used && (pick < 0 || r->probs[c] > r->probs[pick])) pick = c;
        }
        order[t] = pick;
        serve_buf_puts(b, t ? ", {" : "{");
        class_entry(b, pick, r->names, r->probs);
        serve_buf_puts(b, "}");
    }
    serve_buf_puts(b, "], \"entropy\": ");
    serve_buf_json_num(b, r->entropy);
    serve_buf_puts(b, ", \"agreement\": ");
    serve_buf_json_num(b, r->n_views ? (double)r->agree / r->n_views : 0);
    serve_buf_printf(b, ", \"views_agreeing\": %d, \"passes\": %d", r->agree, r->n_views);
    if (r->confidence >= 0) {
        serve_buf_puts(b, ", \"identity_confidence\": ");
        serve_buf_json_num(b, r->confidence);
    }
    serve_buf_puts(b, "}");
}

void serve_json_detect(serve_buf *b, const tta_box *boxes, int n, const char *const *names, int n_names,
                       int width, int height, float min_score, int passes) {
    serve_buf_printf(b, "{\"width\": %d, \"height\": %d, \"passes\": %d, \"boxes\": [", width, height,
                     passes);
    int first = 1;
    for (int i = 0; i < n; i++) {
        const tta_box *x = &boxes[i];
        if (!(x->score >= min_score)) continue;
        serve_buf_puts(b, first ? "{\"box\": [" : ", {\"box\": [");
        first = 0;
        const float c[4] = {x->x1, x->y1, x->x2, x->y2};
        for (int j = 0; j < 4; j++) {
            if (j) serve_buf_puts(b, ", ");
            serve_buf_json_num(b, c[j]);
        }
        serve_buf_puts(b, "], \"score\": ");
        serve_buf_json_num(b, x->score);
        serve_buf_printf(b, ", \"class\": %d", x->label);
        if (names && x->label >= 0 && x->label < n_names && names[x->label]) {
            serve_buf_puts(b, ", \"label\": ");
            serve_buf_json_str(b, names[x->label]);
        }
        serve_buf_printf(b, ", \"support\": %d}", x->support);
    }
    serve_buf_puts(b, "]}");
}

void serve_json_segment(serve_buf *b, const serve_seg_result *r) {
    serve_buf_printf(b, "{\"width\": %d, \"height\": %d, \"classes\": %d, \"passes\": %d, \"uncertainty\": ",
                     r->width, r->height, r->classes, r->passes);
    serve_buf_json_num(b, r->uncertainty);
    serve_buf_puts(b, ", \"disagreement\": ");
    serve_buf_json_num(b, r->disagreement);
    serve_buf_puts(b, ", \"class_pixels\": {");
    int first = 1;
    for (int c = 0; c < r->classes; c++) {
        if (!r->class_pixels[c]) continue;
        if (!first) serve_buf_puts(b, ", ");
        first = 0;
        if (r->names && r->names[c])
            serve_buf_json_str(b, r->names[c]);
        else
            serve_buf_printf(b, "\"%d\"", c);
        serve_buf_printf(b, ": %lld", (long long)r->class_pixels[c]);
    }
    serve_buf_puts(b, "}, \"mask_png\": ");
    serve_buf_json_str(b, r->mask_png ? r->mask_png : "");
    if (r->uncertainty_png) {
        serve_buf_puts(b, ", \"uncertainty_png\": ");
        serve_buf_json_str(b, r->uncertainty_png);
    }
    serve_buf_puts(b, "}");
}
