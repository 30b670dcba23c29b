/* alloc.c - the one allocation hook every library allocation goes through. Tests install a
 * counting or failing allocator with tta_set_allocator(). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "tta/tensor.h"

static void *default_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    return realloc(ptr, size);
}
static void default_free(void *user, void *ptr) {
    (void)user;
    free(ptr);
}

static tta_allocator current = {default_realloc, default_free, NULL};

void tta_set_allocator(const tta_allocator *allocator) {
    if (allocator && allocator->realloc_fn && allocator->free_fn) {
        current = *allocator;
    } else {
        current.realloc_fn = default_realloc;
        current.free_fn = default_free;
        current.user = NULL;
    }
}

void *tta_malloc(size_t size) { return current.realloc_fn(current.user, NULL, size ? size : 1); }

void *tta_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = tta_malloc(count * size);
    if (p && count * size > 0) memset(p, 0, count * size);
    return p;
}

void *tta_realloc(void *ptr, size_t size) { return current.realloc_fn(current.user, ptr, size ? size : 1); }

void tta_free(void *ptr) {
    if (ptr) current.free_fn(current.user, ptr);
}

char *tta_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = tta_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}
