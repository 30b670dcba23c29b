/* base64.c - see base64.h. A 256-entry table maps characters to 6-bit values (64: whitespace,
 * 65: padding, 255: invalid); the decoder keeps a 24-bit accumulator and writes 3 bytes per 4
 * characters. */
#include <stdint.h>
#include <stdio.h>

#include "serve/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum { WS = 64, PAD = 65, BAD = 255 };

static unsigned char value_of(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return (unsigned char)(c - 'A');
    if (c >= 'a' && c <= 'z') return (unsigned char)(c - 'a' + 26);
    if (c >= '0' && c <= '9') return (unsigned char)(c - '0' + 52);
    if (c == '+') return 62;
    if (c == '/') return 63;
    if (c == '=') return PAD;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return WS;
    return BAD;
}

size_t serve_base64_decoded_max(size_t n) { return n / 4 * 3 + 3; }

int serve_base64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len, char *why,
                        size_t why_size) {
    uint32_t acc = 0;
    int k = 0;   /* characters in acc */
    int pad = 0; /* '=' seen */
    size_t o = 0, last = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char v = value_of((unsigned char)in[i]);
        if (v == WS) continue;
        if (v == BAD) {
            snprintf(why, why_size, "invalid base64 character 0x%02x at offset %zu", (unsigned char)in[i], i);
            return -1;
        }
        if (v == PAD) {
            /* padding completes a group of 2 or 3 characters: "xx==" or "xxx=" */
            if (pad == 0 && k < 2) {
                snprintf(why, why_size, "base64 padding '=' at offset %zu does not end a group", i);
                return -1;
            }
            pad++;
            if (k + pad > 4) {
                snprintf(why, why_size, "too much base64 padding at offset %zu", i);
                return -1;
            }
            continue;
        }
        if (pad) {
            snprintf(why, why_size, "base64 data after '=' padding at offset %zu", i);
            return -1;
        }
        acc = acc << 6 | v;
        last = i;
        if (++k == 4) {
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            acc = 0;
            k = 0;
        }
    }
    if (k == 1) {
        snprintf(why, why_size, "base64 length leaves a lone character at offset %zu (truncated?)", last);
        return -1;
    }
    if (pad && k + pad != 4) {
        snprintf(why, why_size, "base64 padding does not complete the last group");
        return -1;
    }
    if (k == 2) { /* 12 bits: one byte, 4 unused bits */
        if (acc & 0xF) goto noncanonical;
        out[o++] = (unsigned char)(acc >> 4);
    } else if (k == 3) { /* 18 bits: two bytes, 2 unused bits */
        if (acc & 0x3) goto noncanonical;
        out[o++] = (unsigned char)(acc >> 10);
        out[o++] = (unsigned char)(acc >> 2);
    }
    *out_len = o;
    return 0;
noncanonical:
    snprintf(why, why_size, "base64 character at offset %zu has non-zero unused bits", last);
    return -1;
}

size_t serve_base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

size_t serve_base64_encode(const unsigned char *in, size_t n, char *out) {
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}
