/* fuzz_common.h - helpers shared by the libFuzzer targets in this folder: a per-process scratch
 * path (targets whose API takes file names write each input there) and a whole-buffer touch, so
 * that ASan sees every byte a decoder claims to have produced. */
#ifndef TTA_FUZZ_COMMON_H
#define TTA_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "DIR/tta_fuzz_PID_NAME", DIR /dev/shm when it exists (no disk writes per exec), else /tmp. */
static inline void fuzz_scratch_path(char *out, size_t cap, const char *name) {
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(out, cap, "%s/tta_fuzz_%d_%s", dir, (int)getpid(), name);
}

/* Writes n bytes to path; a failure here is the harness's, so it aborts. */
static inline void fuzz_write_file(const char *path, const uint8_t *d, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

static inline void fuzz_touch(const void *p, size_t n) {
    volatile uint8_t s = 0;
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) s ^= b[i];
    (void)s;
}

#endif
