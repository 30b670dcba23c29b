/* range.c - the "[a:b]" suffix of data specs (range.h): python-slice-like, but strict, so that a
 * typo in a range is an error instead of a silently smaller run. */
#include "data/range.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static int parse_int(const char *s, size_t n, long long *v) {
    if (n == 0 || n > 20) return 0;
    char buf[24];
    memcpy(buf, s, n);
    buf[n] = '\0';
    size_t i = buf[0] == '-' || buf[0] == '+';
    if (!buf[i]) return 0;
    for (size_t k = i; buf[k]; k++)
        if (buf[k] < '0' || buf[k] > '9') return 0;
    errno = 0;
    *v = strtoll(buf, NULL, 10);
    return errno == 0;
}

tta_status tta_range_parse(const char *s, tta_range *r) {
    size_t at = r->at;
    memset(r, 0, sizeof *r);
    r->at = at;
    r->present = 1;
    snprintf(r->text, sizeof r->text, "%s", s);
    size_t n = strlen(s);
    const char *colon = memchr(s, ':', n);
    if (n < 2 || s[n - 1] != ']' || !colon)
        return tta_errorf(TTA_ERR_INVALID_ARG, "range '%s' is not of the form [a:b] (either side optional)",
                          r->text);
    const char *a = s + 1, *b = colon + 1;
    size_t na = (size_t)(colon - a), nb = (size_t)(s + n - 1 - b);
    if (memchr(b, ':', nb))
        return tta_errorf(TTA_ERR_INVALID_ARG, "range '%s': steps are not supported, write [a:b]", r->text);
    if ((r->has_a = na > 0) && !parse_int(a, na, &r->a))
        return tta_errorf(TTA_ERR_INVALID_ARG, "range '%s': start '%.*s' is not an integer", r->text, (int)na,
                          a);
    if ((r->has_b = nb > 0) && !parse_int(b, nb, &r->b))
        return tta_errorf(TTA_ERR_INVALID_ARG, "range '%s': end '%.*s' is not an integer", r->text, (int)nb,
                          b);
    return TTA_OK;
}

tta_status tta_range_resolve(const tta_range *r, int64_t count, const char *what, int64_t *begin,
                             int64_t *end) {
    long long a = r->has_a ? r->a : 0, b = r->has_b ? r->b : count;
    if (a < 0) a += count;
    if (b < 0) b += count;
    if (a < 0 || b < 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "range %s starts before the first image of %s (%lld images)",
                          r->text, what, (long long)count);
    if (a > count || b > count)
        return tta_errorf(TTA_ERR_INVALID_ARG, "range %s goes past the end of %s (%lld images)", r->text,
                          what, (long long)count);
    if (a >= b) return tta_errorf(TTA_ERR_INVALID_ARG, "range %s is empty", r->text);
    *begin = a;
    *end = b;
    return TTA_OK;
}
