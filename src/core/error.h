/* error.h - internal helpers to record the last-error message (see include/tta/status.h). */
#ifndef TTA_CORE_ERROR_H
#define TTA_CORE_ERROR_H

#include <stdarg.h>

#include "tta/status.h"

/* Records a printf-style message for `status` and returns `status`, so callers write
 *     return tta_errorf(TTA_ERR_PARSE, "%s: truncated header", path); */
tta_status tta_errorf(tta_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a va_list. */
tta_status tta_verrorf(tta_status status, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Prefixes the current message with a printf-style context and returns `status`:
 *     return tta_error_context(st, "node '%s' (%s)", name, op); */
tta_status tta_error_context(tta_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears the message (used by tests). */
void tta_error_clear(void);

#define TTA_TRY(expr)                                                                          \
    do {                                                                                       \
        tta_status tta_try_st_ = (expr);                                                       \
        if (tta_try_st_ != TTA_OK) return tta_try_st_;                                         \
    } while (0)

#endif
