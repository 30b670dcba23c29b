/* alloc.h - the library's allocation calls, through the hook of tta_set_allocator (tensor.h),
 * whose tta_free is public. Internal to tta. */
#ifndef TTA_CORE_ALLOC_H
#define TTA_CORE_ALLOC_H

#include <stddef.h>

#include "tta/tensor.h"

void *tta_malloc(size_t size);
void *tta_calloc(size_t count, size_t size);
void *tta_realloc(void *ptr, size_t size);
char *tta_strdup(const char *s);

#endif
