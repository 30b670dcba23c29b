/* file_out.h - files written whole or not at all: the bytes go to PATH.part, which is renamed
 * over PATH only once everything was written and closed; on any failure the partial file is
 * removed. So an interrupted or failed write (SIGINT, SIGKILL, a full disk) leaves the old file
 * or none at PATH, never a truncated one (a killed process may leave PATH.part behind). */
#ifndef TTA_CORE_FILE_OUT_H
#define TTA_CORE_FILE_OUT_H

#include <stdio.h>

#include "tta/status.h"

typedef struct tta_file_out {
    FILE *f;    /* write here */
    char *tmp;  /* PATH.part */
    char *path;
} tta_file_out;

/* Opens PATH.part for writing (mode "w" or "wb"). Errors: IO naming PATH, NOMEM. */
tta_status tta_file_out_open(tta_file_out *o, const char *path, const char *mode);
/* ok != 0: closes and renames into place (IO when the close or the rename fails, the partial
 * file removed); ok == 0: closes and removes the partial file and returns TTA_OK. Frees o. */
tta_status tta_file_out_finish(tta_file_out *o, int ok);

#endif
