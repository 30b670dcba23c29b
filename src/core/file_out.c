/* file_out.c - files written to PATH.part and renamed into place (file_out.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/file_out.h"
#include "tta/tensor.h"

tta_status tta_file_out_open(tta_file_out *o, const char *path, const char *mode) {
    memset(o, 0, sizeof *o);
    size_t n = strlen(path);
    o->tmp = tta_malloc(n + 6);
    o->path = tta_malloc(n + 1);
    if (!o->tmp || !o->path) {
        tta_free(o->tmp), tta_free(o->path);
        memset(o, 0, sizeof *o);
        return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(o->path, path, n + 1);
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".part", 6);
    o->f = fopen(o->tmp, mode);
    if (!o->f) {
        tta_status st = tta_errorf(TTA_ERR_IO, "%s: cannot create (%s)", path, strerror(errno));
        tta_free(o->tmp), tta_free(o->path);
        memset(o, 0, sizeof *o);
        return st;
    }
    return TTA_OK;
}

tta_status tta_file_out_finish(tta_file_out *o, int ok) {
    if (!o->f) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_file_out_finish: not open");
    tta_status st = TTA_OK;
    int closed = fclose(o->f) == 0;
    if (ok && !closed) st = tta_errorf(TTA_ERR_IO, "%s: write failed (%s)", o->path, strerror(errno));
    else if (ok && rename(o->tmp, o->path) != 0)
        st = tta_errorf(TTA_ERR_IO, "%s: cannot write (%s)", o->path, strerror(errno));
    if (!ok || st) remove(o->tmp);
    tta_free(o->tmp), tta_free(o->path);
    memset(o, 0, sizeof *o);
    return st;
}
