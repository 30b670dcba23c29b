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

/* Reads every byte of [p, p + n) so that ASan checks the whole range is addressable: through
 * memcmp, whose interceptor checks both ranges whole (strict_memcmp, the default) in one step,
 * rather than a byte loop that coverage instrumentation makes slow (64 MB of outputs took over
 * 10 s, F11). */
static inline void fuzz_touch(const void *p, size_t n) {
    if (!p || !n) return;
    const void *volatile q = p; /* opaque, so that memcmp(p, p) is not folded to 0 */
    volatile int same = memcmp(p, q, n);
    (void)same;
}

#endif
