/* cache.c - the prediction cache: every candidate view runs once over a data set, and its
 * probabilities are kept in a file, so that a later search with another budget, objective or
 * a pool that shares views with this one reads them instead of running the model.
 *
 * Keys: the model (its file size and a 64-bit hash of its bytes: a re-exported model with the
 * same name is a different model), the data spec and the view's canonical text; each record
 * also carries a hash of the labels, which catches a data file that changed under the same
 * spec. A file made for another model is stale and starts over empty. A corrupt or truncated
 * file is an error that names the byte where it goes wrong; the caller then rebuilds it, and
 * because saving writes a temporary file and renames it over the old one, an interrupted save
 * never leaves a half-written cache behind.
 *
 * Format (all integers little-endian, floats IEEE-754 binary32 little-endian):
 *     "TTACACHE"  u32 version (1)  u64 model size  u64 model hash
 *     records:  u32 "REC1"  u32 spec length  spec bytes  u32 view length  view bytes
 *               u32 n  u32 k  u64 labels hash  n x k float32  u64 hash of the record so far */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/file_key.h"
#include "tta/search.h"
#include "tta/tensor.h"
#include "tta/tensor_io.h"

#define CACHE_VERSION 1u
#define HEADER_BYTES 28
#define MAX_TEXT 65536
static const char magic[8] = {'T', 'T', 'A', 'C', 'A', 'C', 'H', 'E'};
static const char rec_tag[4] = {'R', 'E', 'C', '1'};

typedef struct cache_entry {
    char *spec, *view;
    int n, k;
    uint64_t labels_hash;
    float *probs;
} cache_entry;

struct tta_pred_cache {
    char *path;
    uint64_t model_size, model_hash;
    int count, capacity;
    cache_entry *e;
};

/* ---- hashing ---- */

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t tta_hash64(const void *data, size_t size, uint64_t h) {
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (rotl(h, 29) ^ (w * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
    }
    if (i < size) {
        uint64_t w = 0;
        memcpy(&w, p + i, size - i);
        w ^= (uint64_t)(size - i) << 56;
        h = (rotl(h, 29) ^ (w * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
    }
    return h ^ (h >> 31);
}

tta_status tta_file_key(const char *path, uint64_t *size, uint64_t *hash) {
    FILE *f = fopen(path, "rb");
    if (!f) return tta_errorf(TTA_ERR_IO, "%s: cannot open", path);
    unsigned char *buf = tta_malloc(1 << 20);
    if (!buf) {
        fclose(f);
        return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", path);
    }
    uint64_t h = 0, total = 0;
    size_t got;
    while ((got = fread(buf, 1, 1 << 20, f)) > 0) {
        h = tta_hash64(buf, got, h);
        total += got;
    }
    int err = ferror(f);
    fclose(f);
    tta_free(buf);
    if (err) return tta_errorf(TTA_ERR_IO, "%s: read error", path);
    *size = total;
    *hash = h;
    return TTA_OK;
}

/* ---- little-endian fields ---- */

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---- entries ---- */

static void entry_free(cache_entry *e) {
    tta_free(e->spec);
    tta_free(e->view);
    tta_free(e->probs);
    memset(e, 0, sizeof *e);
}

static void clear_entries(tta_pred_cache *c) {
    for (int i = 0; i < c->count; i++) entry_free(&c->e[i]);
    c->count = 0;
}

static int find_index(const tta_pred_cache *c, const char *spec, const char *view) {
    for (int i = 0; i < c->count; i++)
        if (!strcmp(c->e[i].spec, spec) && !strcmp(c->e[i].view, view)) return i;
    return -1;
}

/* Takes ownership of the entry's strings and buffer (freed on failure). */
static tta_status add_entry(tta_pred_cache *c, cache_entry *e) {
    int i = find_index(c, e->spec, e->view);
    if (i >= 0) {
        entry_free(&c->e[i]);
        c->e[i] = *e;
        return TTA_OK;
    }
    if (c->count == c->capacity) {
        int cap = c->capacity ? c->capacity * 2 : 64;
        cache_entry *ne = tta_realloc(c->e, sizeof *ne * (size_t)cap);
        if (!ne) {
            entry_free(e);
            return tta_errorf(TTA_ERR_NOMEM, "prediction cache: out of memory for %d records", cap);
        }
        c->e = ne;
        c->capacity = cap;
    }
    c->e[c->count++] = *e;
    return TTA_OK;
}

/* ---- reading ---- */

static tta_status parse_file(tta_pred_cache *c, const unsigned char *buf, size_t size, int *stale) {
    const char *path = c->path;
    if (size < HEADER_BYTES) {
        if (size >= 8 && memcmp(buf, magic, 8)) return tta_errorf(TTA_ERR_PARSE, "%s: not a tta prediction cache", path);
        return tta_errorf(TTA_ERR_PARSE, "%s: truncated header (%zu of %d bytes)", path, size, HEADER_BYTES);
    }
    if (memcmp(buf, magic, 8)) return tta_errorf(TTA_ERR_PARSE, "%s: not a tta prediction cache", path);
    uint32_t version = get32(buf + 8);
    if (version != CACHE_VERSION)
        return tta_errorf(TTA_ERR_PARSE, "%s: cache version %u (this build reads %u)", path, version, CACHE_VERSION);
    if (get64(buf + 12) != c->model_size || get64(buf + 20) != c->model_hash) {
        if (stale) *stale = 1;
        return TTA_OK;
    }
    size_t pos = HEADER_BYTES;
    for (int r = 0; pos < size; r++) {
        size_t start = pos;
        cache_entry e = {0};
#define NEED(bytes, what)                                                                                    \
    do {                                                                                                     \
        if ((bytes) > size - pos) {                                                                          \
            entry_free(&e);                                                                                  \
            return tta_errorf(TTA_ERR_PARSE, "%s: truncated in record %d (%s at byte %zu, file of %zu bytes)", \
                              path, r, what, pos, size);                                                     \
        }                                                                                                    \
    } while (0)
        NEED(4, "tag");
        if (memcmp(buf + pos, rec_tag, 4))
            return tta_errorf(TTA_ERR_PARSE, "%s: record %d at byte %zu has a bad tag (corrupt file)", path, r, pos);
        pos += 4;
        char **texts[2] = {&e.spec, &e.view};
        const char *names[2] = {"data spec", "view text"};
        for (int s = 0; s < 2; s++) {
            NEED(4, names[s]);
            uint32_t len = get32(buf + pos);
            pos += 4;
            if (len == 0 || len > MAX_TEXT) {
                entry_free(&e);
                return tta_errorf(TTA_ERR_PARSE, "%s: record %d: %s of %u bytes at byte %zu (corrupt file)", path, r,
                                  names[s], len, pos - 4);
            }
            NEED((size_t)len, names[s]);
            *texts[s] = tta_malloc(len + 1);
            if (!*texts[s]) {
                entry_free(&e);
                return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", path);
            }
            memcpy(*texts[s], buf + pos, len);
            (*texts[s])[len] = '\0';
            pos += len;
        }
        NEED(16, "sizes");
        uint32_t n = get32(buf + pos), k = get32(buf + pos + 4);
        e.labels_hash = get64(buf + pos + 8);
        pos += 16;
        if (n == 0 || k == 0 || n > (1u << 30) || k > (1u << 20)) {
            entry_free(&e);
            return tta_errorf(TTA_ERR_PARSE, "%s: record %d: %u images x %u classes (corrupt file)", path, r, n, k);
        }
        size_t bytes = (size_t)n * k * 4;
        NEED(bytes, "probabilities");
        NEED(bytes + 8, "record hash");
#undef NEED
        uint64_t h = tta_hash64(buf + start, pos + bytes - start, 0);
        if (h != get64(buf + pos + bytes)) {
            tta_status st = tta_errorf(TTA_ERR_PARSE, "%s: record %d (view '%s' on '%s') fails its checksum (corrupt file)",
                                       path, r, e.view, e.spec);
            entry_free(&e);
            return st;
        }
        e.n = (int)n;
        e.k = (int)k;
        e.probs = tta_malloc(bytes);
        if (!e.probs) {
            entry_free(&e);
            return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for %u x %u probabilities", path, n, k);
        }
        memcpy(e.probs, buf + pos, bytes); /* little-endian host */
        pos += bytes + 8;
        TTA_TRY(add_entry(c, &e));
    }
    return TTA_OK;
}

tta_status tta_pred_cache_open(tta_pred_cache **out, const char *path, uint64_t model_size, uint64_t model_hash,
                               int *stale) {
    if (stale) *stale = 0;
    *out = NULL;
    if (!path || !*path) return tta_errorf(TTA_ERR_INVALID_ARG, "prediction cache: no path");
    tta_pred_cache *c = tta_calloc(1, sizeof *c);
    if (!c || !(c->path = tta_strdup(path))) {
        tta_free(c);
        return tta_errorf(TTA_ERR_NOMEM, "prediction cache: out of memory");
    }
    c->model_size = model_size;
    c->model_hash = model_hash;
    *out = c;
    FILE *f = fopen(path, "rb");
    if (!f) return TTA_OK; /* no cache yet */
    fclose(f);
    void *buf = NULL;
    size_t size = 0;
    tta_status st = tta_read_file(path, &buf, &size);
    if (st == TTA_OK) st = parse_file(c, buf, size, stale);
    tta_free(buf);
    if (st != TTA_OK) clear_entries(c); /* start over: the caller rebuilds it */
    return st;
}

const float *tta_pred_cache_find(const tta_pred_cache *c, const char *spec, const char *view, int n, int k,
                                 uint64_t labels_hash) {
    if (!c || !spec || !view) return NULL;
    int i = find_index(c, spec, view);
    if (i < 0 || c->e[i].n != n || c->e[i].k != k || c->e[i].labels_hash != labels_hash) return NULL;
    return c->e[i].probs;
}

tta_status tta_pred_cache_put(tta_pred_cache *c, const char *spec, const char *view, int n, int k,
                              uint64_t labels_hash, const float *probs) {
    if (!c || !spec || !view || !*spec || !*view || !probs || n <= 0 || k <= 0 || strlen(spec) > MAX_TEXT ||
        strlen(view) > MAX_TEXT)
        return tta_errorf(TTA_ERR_INVALID_ARG, "prediction cache: bad record");
    cache_entry e = {0};
    e.spec = tta_strdup(spec);
    e.view = tta_strdup(view);
    e.probs = tta_malloc(sizeof(float) * (size_t)n * k);
    if (!e.spec || !e.view || !e.probs) {
        entry_free(&e);
        return tta_errorf(TTA_ERR_NOMEM, "prediction cache: out of memory");
    }
    memcpy(e.probs, probs, sizeof(float) * (size_t)n * k);
    e.n = n;
    e.k = k;
    e.labels_hash = labels_hash;
    return add_entry(c, &e);
}

int tta_pred_cache_count(const tta_pred_cache *c) { return c ? c->count : 0; }

/* ---- writing ---- */

static tta_status write_record(FILE *f, const cache_entry *e) {
    size_t ls = strlen(e->spec), lv = strlen(e->view), bytes = (size_t)e->n * e->k * 4;
    size_t total = 4 + 4 + ls + 4 + lv + 16 + bytes;
    unsigned char *b = tta_malloc(total + 8);
    if (!b) return tta_errorf(TTA_ERR_NOMEM, "prediction cache: out of memory");
    size_t p = 0;
    memcpy(b, rec_tag, 4);
    p += 4;
    put32(b + p, (uint32_t)ls);
    memcpy(b + p + 4, e->spec, ls);
    p += 4 + ls;
    put32(b + p, (uint32_t)lv);
    memcpy(b + p + 4, e->view, lv);
    p += 4 + lv;
    put32(b + p, (uint32_t)e->n);
    put32(b + p + 4, (uint32_t)e->k);
    put64(b + p + 8, e->labels_hash);
    p += 16;
    memcpy(b + p, e->probs, bytes);
    p += bytes;
    put64(b + p, tta_hash64(b, p, 0));
    size_t wrote = fwrite(b, 1, p + 8, f);
    tta_free(b);
    return wrote == p + 8 ? TTA_OK : TTA_ERR_IO;
}

tta_status tta_pred_cache_save(const tta_pred_cache *c) {
    if (!c) return tta_errorf(TTA_ERR_INVALID_ARG, "prediction cache: NULL");
    size_t len = strlen(c->path);
    char *tmp = tta_malloc(len + 8);
    if (!tmp) return tta_errorf(TTA_ERR_NOMEM, "prediction cache: out of memory");
    snprintf(tmp, len + 8, "%s.tmp", c->path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        tta_status st = tta_errorf(TTA_ERR_IO, "%s: cannot create file", tmp);
        tta_free(tmp);
        return st;
    }
    unsigned char h[HEADER_BYTES];
    memcpy(h, magic, 8);
    put32(h + 8, CACHE_VERSION);
    put64(h + 12, c->model_size);
    put64(h + 20, c->model_hash);
    tta_status st = fwrite(h, 1, HEADER_BYTES, f) == HEADER_BYTES ? TTA_OK : TTA_ERR_IO;
    for (int i = 0; i < c->count && st == TTA_OK; i++) st = write_record(f, &c->e[i]);
    if (fclose(f) != 0 && st == TTA_OK) st = TTA_ERR_IO;
    if (st == TTA_OK && rename(tmp, c->path) != 0) st = TTA_ERR_IO;
    if (st != TTA_OK) {
        remove(tmp);
        st = st == TTA_ERR_NOMEM ? st : tta_errorf(TTA_ERR_IO, "%s: write failed", c->path);
    }
    tta_free(tmp);
    return st;
}

void tta_pred_cache_free(tta_pred_cache *c) {
    if (!c) return;
    clear_entries(c);
    tta_free(c->e);
    tta_free(c->path);
    tta_free(c);
}
