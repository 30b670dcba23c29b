/* html.h - the pieces of a self-contained HTML report: the page around the content (inline
 * style and a tiny inline script, nothing fetched), escaped text, tables, and PNG pictures
 * embedded as base64 data URIs. The commands gather figures; these functions only write them.
 *
 * The page is also well-formed XML (every element closed, the script free of '<' and '&'), so
 * a test can parse the whole file with an XML parser. Internal to tta. */
#ifndef TTA_REPORT_HTML_H
#define TTA_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "tta/image.h"
#include "tta/status.h"

/* Writes s with & < > " ' as character references (for text and attribute values). */
void tta_html_escape(FILE *f, const char *s);

/* RFC 4648 base64 of in[0..n) into out (4 * ceil(n / 3) characters and a '\0'; give
 * tta_base64_size(n) bytes). Returns the characters written, without the '\0'. */
size_t tta_base64_size(size_t n);
size_t tta_base64_encode(const unsigned char *in, size_t n, char *out);

/* The page: <!DOCTYPE html>, head with title and style, body opened with an <h1> and a line
 * under it (subtitle may be NULL). tta_html_end closes it after a status line that the inline
 * script fills in once the page has rendered ("rendered: N plots, N pictures"). */
void tta_html_begin(FILE *f, const char *title, const char *subtitle);
void tta_html_end(FILE *f);

/* A section heading with an id (for links) and a paragraph of escaped text. */
void tta_html_h2(FILE *f, const char *id, const char *text);
void tta_html_p(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Text as printed by a command, in a monospaced block (escaped). */
void tta_html_pre(FILE *f, const char *text);

/* Tables: headers are n escaped strings; cells are printf-formatted and escaped. Numeric cells
 * are right-aligned, text cells left-aligned. */
void tta_html_table_begin(FILE *f, const char *id, const char *caption, int n, const char *const *headers);
void tta_html_row_begin(FILE *f);
void tta_html_cell(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tta_html_cell_text(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tta_html_row_end(FILE *f);
void tta_html_table_end(FILE *f);

/* A picture as <img> with a PNG data URI, enlarged by the smallest whole factor (nearest
 * neighbour) that makes its longer side at least min_side pixels (0: as it is). Errors: those
 * of tta_image_encode_png. */
tta_status tta_html_png(FILE *f, const tta_image *img, int min_side, const char *alt);
/* The same picture as a data URI alone ("data:image/png;base64,..."), for an SVG <image>;
 * *width and *height receive its size after enlarging. */
tta_status tta_html_png_uri(FILE *f, const tta_image *img, int min_side, int *width, int *height);

/* A row of pictures, each with a caption under it (figures flow and wrap): open the strip,
 * add items (a picture then its caption lines), close. */
void tta_html_strip_begin(FILE *f, const char *cls, const char *heading);
void tta_html_item_begin(FILE *f);
void tta_html_item_caption(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tta_html_item_end(FILE *f);
void tta_html_strip_end(FILE *f);

#endif
