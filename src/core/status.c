/* status.c - the per-thread last-error message behind tta_last_error(). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define TTA_ERROR_MAX 1024

static _Thread_local char last_error[TTA_ERROR_MAX];

const char *tta_last_error(void) { return last_error; }

void tta_error_clear(void) { last_error[0] = '\0'; }

tta_status tta_verrorf(tta_status status, const char *fmt, va_list ap) {
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    return status;
}

tta_status tta_errorf(tta_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tta_status st = tta_verrorf(status, fmt, ap);
    va_end(ap);
    return st;
}

/* The public name of tta_errorf, for callbacks (status.h). */
tta_status tta_set_error(tta_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tta_status st = tta_verrorf(status, fmt, ap);
    va_end(ap);
    return st;
}

tta_status tta_error_context(tta_status status, const char *fmt, ...) {
    char prefix[TTA_ERROR_MAX], old[TTA_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    size_t n = strlen(prefix);
    if (n > TTA_ERROR_MAX - 3) n = TTA_ERROR_MAX - 3;
    memcpy(last_error, prefix, n);
    memcpy(last_error + n, ": ", 2);
    size_t rest = TTA_ERROR_MAX - n - 3, m = strlen(old);
    if (m > rest) m = rest;
    memcpy(last_error + n + 2, old, m);
    last_error[n + 2 + m] = '\0';
    return status;
}

const char *tta_status_name(tta_status status) {
    switch (status) {
    case TTA_OK: return "ok";
    case TTA_ERR_INVALID_ARG: return "invalid argument";
    case TTA_ERR_IO: return "i/o error";
    case TTA_ERR_PARSE: return "parse error";
    case TTA_ERR_UNSUPPORTED: return "unsupported";
    case TTA_ERR_SHAPE: return "shape error";
    case TTA_ERR_NOMEM: return "out of memory";
    case TTA_ERR_ATTR: return "bad attribute";
    case TTA_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *tta_version(void) { return TTA_VERSION; }
