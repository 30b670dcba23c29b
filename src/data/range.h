/* range.h - the optional "[a:b]" suffix of data specs (dataset.h's syntax): parsing it and
 * resolving it against a data set's size. Shared by the classification specs (spec.c) and the
 * COCO specs (detect/coco_data.c) so that both accept and reject exactly the same ranges with
 * the same messages. */
#ifndef TTA_DATA_RANGE_H
#define TTA_DATA_RANGE_H

#include <stddef.h>
#include <stdint.h>

#include "tta/status.h"

typedef struct tta_range {
    int present; /* a [..] suffix was given */
    int has_a, has_b;
    long long a, b;
    size_t at;     /* offset of the '[' in the spec (set by the caller; kept by the parser) */
    char text[64]; /* as written, for messages */
} tta_range;

/* Parses "[a:b]" (the whole string; either side optional, signed integers). Keeps r->at.
 * Errors: INVALID_ARG naming the range. */
tta_status tta_range_parse(const char *s, tta_range *r);

/* Resolves r against `count` items into [*begin, *end), python-style (negative numbers count
 * from the end), but refusing ranges that run past either end or select nothing. `what` names
 * the data set in messages. Errors: INVALID_ARG. */
tta_status tta_range_resolve(const tta_range *r, int64_t count, const char *what, int64_t *begin,
                             int64_t *end);

#endif
