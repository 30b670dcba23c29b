/* file_key.h - reading whole files and hashing bytes: what caches key their entries by.
 * Internal to tta. */
#ifndef TTA_CORE_FILE_KEY_H
#define TTA_CORE_FILE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "tta/status.h"

/* Reads a whole file into a tta_malloc'd buffer (io/tensor_pb.c). */
tta_status tta_read_file(const char *path, void **data, size_t *size);
/* 64-bit hash of bytes, continuing from h (start with 0) (search/cache.c). */
uint64_t tta_hash64(const void *data, size_t size, uint64_t h);
/* Size and hash of a file's bytes. Errors: IO. */
tta_status tta_file_key(const char *path, uint64_t *size, uint64_t *hash);

#endif
