/* base64.h - base64 (RFC 4648 section 4, the standard alphabet) for images inside JSON bodies
 * and the segmentation mask PNG in responses. Internal to the server. */
#ifndef TTA_SERVE_BASE64_H
#define TTA_SERVE_BASE64_H

#include <stddef.h>

/* Bytes that n characters of base64 decode to at most. */
size_t serve_base64_decoded_max(size_t n);

/* Decodes n characters into out (at least serve_base64_decoded_max(n) bytes); *out_len
 * receives the byte count. Whitespace (space, tab, CR, LF) is skipped, as in MIME line breaks;
 * the final '=' padding may be left out. Refused with -1 (and *why naming the problem, with
 * the offset of the bad character): any other character, a '=' that is not final padding,
 * a length that leaves a lone character (1 mod 4), and non-zero bits in the last character's
 * unused part (RFC 4648 section 3.5: such text is not the canonical encoding of any bytes). */
int serve_base64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len, char *why,
                        size_t why_size);

/* Encodes n bytes with padding into out (4 * ceil(n / 3) characters and a NUL); returns the
 * character count. */
size_t serve_base64_encoded_len(size_t n);
size_t serve_base64_encode(const unsigned char *in, size_t n, char *out);

#endif
