/* boxes.c - the growable box list of detect.h and the IoU every merge rule and metric uses. */
#include <math.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tta/detect.h"

tta_status tta_boxes_reserve(tta_boxes *b, int capacity) {
    if (!b || capacity < 0) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_boxes_reserve: bad arguments");
    if (capacity <= b->capacity) return TTA_OK;
    int cap = b->capacity ? b->capacity : 16;
    while (cap < capacity) cap = cap > (1 << 29) ? capacity : cap * 2;
    tta_box *nb = tta_realloc(b->box, sizeof *nb * (size_t)cap);
    if (!nb) return tta_errorf(TTA_ERR_NOMEM, "out of memory for %d boxes", cap);
    b->box = nb;
    b->capacity = cap;
    return TTA_OK;
}

tta_status tta_boxes_push(tta_boxes *b, const tta_box *box) {
    if (b->n == b->capacity) TTA_TRY(tta_boxes_reserve(b, b->n + 1));
    b->box[b->n++] = *box;
    return TTA_OK;
}

void tta_boxes_clear(tta_boxes *b) {
    if (b) b->n = 0;
}

void tta_boxes_destroy(tta_boxes *b) {
    if (!b) return;
    tta_free(b->box);
    b->box = NULL;
    b->n = b->capacity = 0;
}

void tta_boxes_free_array(tta_boxes *lists, int n) {
    if (!lists) return;
    for (int i = 0; i < n; i++) tta_boxes_destroy(&lists[i]);
    tta_free(lists);
}

float tta_box_iou(const tta_box *a, const tta_box *b) {
    float iw = fminf(a->x2, b->x2) - fmaxf(a->x1, b->x1);
    float ih = fminf(a->y2, b->y2) - fmaxf(a->y1, b->y1);
    if (iw <= 0 || ih <= 0) return 0.0f;
    float inter = iw * ih;
    float uni = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;
    return uni > 0 ? inter / uni : 0.0f;
}
