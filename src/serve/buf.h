/* buf.h - a growable text buffer for the server's responses (JSON bodies, the Prometheus
 * metrics page), with the JSON string and number writers they share. Internal to the server. */
#ifndef TTA_SERVE_BUF_H
#define TTA_SERVE_BUF_H

#include <stddef.h>

/* A zeroed struct is an empty buffer. After a failed allocation `oom` is set and further
 * writes are dropped: check it once at the end. data is always NUL-terminated when not NULL. */
typedef struct serve_buf {
    char *data;
    size_t len, cap;
    int oom;
} serve_buf;

void serve_buf_put(serve_buf *b, const char *s, size_t n);
void serve_buf_puts(serve_buf *b, const char *s);
void serve_buf_printf(serve_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal: quoted, with ", \ and control characters escaped; bytes >= 0x80
 * are copied as they are (UTF-8 passes through). */
void serve_buf_json_str(serve_buf *b, const char *s);
/* A number with up to 6 significant digits ("%.6g"), or null when it is not finite (JSON has
 * no NaN or infinity). */
void serve_buf_json_num(serve_buf *b, double v);
/* Gives the text to the caller (malloc'd, free() it) and empties the buffer; NULL after oom. */
char *serve_buf_take(serve_buf *b, size_t *len);
void serve_buf_free(serve_buf *b);

#endif
