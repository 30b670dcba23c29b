/* status.h - status codes and the last-error message.
 *
 * Every library call that can fail returns a tta_status. On failure the library keeps a
 * one-line message (naming the file, node or op concerned) that tta_last_error() returns
 * until the next failure on the same thread. The library never exits, aborts or prints.
 */
#ifndef TTA_STATUS_H
#define TTA_STATUS_H

#include "tta/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tta_status {
    TTA_OK = 0,
    TTA_ERR_INVALID_ARG = 1, /* a caller passed something impossible (NULL, bad count, bad flag) */
    TTA_ERR_IO = 2,          /* a file could not be opened, read or written */
    TTA_ERR_PARSE = 3,       /* a file is truncated, garbage or not of the expected format */
    TTA_ERR_UNSUPPORTED = 4, /* valid input that this build cannot handle (op, dtype, feature) */
    TTA_ERR_SHAPE = 5,       /* shapes or dtypes do not fit together */
    TTA_ERR_NOMEM = 6,       /* an allocation failed */
    TTA_ERR_ATTR = 7,        /* an operator attribute is missing or invalid */
    TTA_ERR_INTERNAL = 8     /* a bug in tta: please report it */
} tta_status;

/* The message of the most recent failure on this thread ("" if none). Valid until the next
 * failing call on the same thread. */
TTA_API const char *tta_last_error(void);

/* Records a printf-style message as this thread's last error and returns `status`, so that code
 * the library calls back (a tta_run_fn model, for one) reports why it failed the way the library
 * does:   return tta_set_error(TTA_ERR_IO, "camera %d: no frame", id);   */
TTA_API tta_status tta_set_error(tta_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Name of a status code, e.g. "parse error". */
TTA_API const char *tta_status_name(tta_status status);

/* The version of the library linked, "MAJOR.MINOR.PATCH" (TTA_VERSION is the headers'). */
TTA_API const char *tta_version(void);

#ifdef __cplusplus
}
#endif
#endif
