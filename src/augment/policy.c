/* policy.c - policies: the text language, the presets, printing and building.
 *
 * Grammar (whitespace allowed between tokens, '#' starts a comment that runs to the end of
 * the line):
 *     policy    := item { ('\n' | ';') item }
 *     item      := <empty> | PRESET | transform { '>' transform } [ '@' NUMBER ]
 *     transform := NAME [ '(' [ arg { ',' arg } ] ')' ]
 *     arg       := NUMBER ['%'] | WORD | 'fill' '=' NUMBER
 * Errors carry the line and column (both from 1) of the offending token. Printing a policy
 * writes each view on a line in canonical form (every argument that matters spelled out), so
 * parse(print(p)) == p, and two views are the same view exactly when they print the same.
 * "@ W" gives a view a weight W >= 0 for the weighted merge; a policy keeps weights only when
 * some view has one (the others then weigh 1). */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment/internal.h"
#include "core/alloc.h"
#include "core/error.h"

/* ---- presets ---- */

static const struct {
    const char *name, *text;
} presets[] = {
    {"seed", "identity; hflip; shift(3, 0, wrap); shift(-3, 0, wrap); shift(0, 3, wrap); "
             "shift(0, -3, wrap); rotate(10, bilinear, edge); rotate(-10, bilinear, edge)"},
    {"flip", "identity; hflip"},
    {"d4", "identity; rot90(1); rot90(2); rot90(3); hflip; vflip; transpose; transpose > rot90(2)"},
    {"five-crop", "identity; crop(tl, 87.5%); crop(tr, 87.5%); crop(bl, 87.5%); crop(br, 87.5%); "
                  "crop(center, 87.5%)"},
    {"ten-crop", "identity; crop(tl, 87.5%); crop(tr, 87.5%); crop(bl, 87.5%); crop(br, 87.5%); "
                 "crop(center, 87.5%); hflip > crop(tl, 87.5%); hflip > crop(tr, 87.5%); "
                 "hflip > crop(bl, 87.5%); hflip > crop(br, 87.5%); hflip > crop(center, 87.5%)"},
    {"multiscale", "identity; scale(0.9, bilinear, constant); scale(1.1, bilinear, constant)"},
};
#define N_PRESETS ((int)(sizeof presets / sizeof presets[0]))

const char *tta_policy_preset(const char *name) {
    for (int i = 0; name && i < N_PRESETS; i++)
        if (strcmp(presets[i].name, name) == 0) return presets[i].text;
    return NULL;
}

const char *tta_policy_preset_name(int i) { return i >= 0 && i < N_PRESETS ? presets[i].name : NULL; }

static const char *preset_by_span(const char *s, size_t len) {
    for (int i = 0; i < N_PRESETS; i++)
        if (strlen(presets[i].name) == len && memcmp(presets[i].name, s, len) == 0) return presets[i].text;
    return NULL;
}

/* ---- policy objects ---- */

tta_status tta_policy_init(tta_policy *pol) {
    if (!pol) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_policy_init: NULL policy");
    pol->weights = NULL;
    pol->views = tta_calloc(8, sizeof *pol->views);
    if (!pol->views) {
        pol->n_views = pol->capacity = 0;
        return tta_errorf(TTA_ERR_NOMEM, "out of memory for a policy");
    }
    pol->capacity = 8;
    pol->n_views = 1; /* the identity */
    return TTA_OK;
}

void tta_policy_destroy(tta_policy *pol) {
    if (!pol) return;
    tta_free(pol->views);
    tta_free(pol->weights);
    memset(pol, 0, sizeof *pol);
}

size_t tta_view_format(const tta_view *view, char *buf, size_t size) {
    size_t n = 0;
    if (size) buf[0] = '\0';
    if (view->n == 0) return (size_t)snprintf(buf, size, "identity");
    for (int i = 0; i < view->n; i++) {
        if (i) {
            if (n + 3 < size) memcpy(buf + n, " > ", 4);
            n += 3;
        }
        n += aug_transform_format(&view->t[i], n < size ? buf + n : NULL, n < size ? size - n : 0);
    }
    if (size && n >= size) buf[size - 1] = '\0';
    return n;
}

int tta_view_equal(const tta_view *a, const tta_view *b) {
    char ta[1024], tb[1024];
    tta_view_format(a, ta, sizeof ta);
    tta_view_format(b, tb, sizeof tb);
    return strcmp(ta, tb) == 0;
}

size_t tta_policy_format(const tta_policy *pol, char *buf, size_t size) {
    size_t n = 0;
    if (size) buf[0] = '\0';
    for (int v = 0; v < pol->n_views; v++) {
        n += tta_view_format(&pol->views[v], n < size ? buf + n : NULL, n < size ? size - n : 0);
        if (pol->weights) {
            char w[40];
            aug_format_number(pol->weights[v], w, sizeof w);
            n += (size_t)snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, " @ %s", w);
        }
        if (n + 1 < size) {
            buf[n] = '\n';
            buf[n + 1] = '\0';
        }
        n++;
    }
    return n;
}

static int find_view(const tta_policy *pol, const tta_view *view) {
    for (int v = 0; v < pol->n_views; v++)
        if (tta_view_equal(&pol->views[v], view)) return v;
    return -1;
}

/* Drops identity transforms from a chain (they change nothing) so that equal views print the
 * same. Returns NULL or the problem with the first bad transform. */
static const char *normalise_view(tta_view *view) {
    if (view->n < 0 || view->n > TTA_MAX_CHAIN) return "too many transforms in one view";
    int n = 0;
    for (int i = 0; i < view->n; i++) {
        const char *why = aug_transform_check(&view->t[i]);
        if (why) return why;
        if (view->t[i].op != TTA_OP_IDENTITY) view->t[n++] = view->t[i];
    }
    view->n = n;
    memset(view->t + n, 0, sizeof view->t[0] * (size_t)(TTA_MAX_CHAIN - n));
    return NULL;
}

static tta_status append_view(tta_policy *pol, const tta_view *view) {
    if (pol->n_views == pol->capacity) {
        int cap = pol->capacity ? pol->capacity * 2 : 8;
        tta_view *nv = tta_realloc(pol->views, sizeof *nv * (size_t)cap);
        if (!nv) return tta_errorf(TTA_ERR_NOMEM, "out of memory for a policy of %d views", cap);
        pol->views = nv;
        if (pol->weights) {
            double *nw = tta_realloc(pol->weights, sizeof *nw * (size_t)cap);
            if (!nw) return tta_errorf(TTA_ERR_NOMEM, "out of memory for a policy of %d views", cap);
            pol->weights = nw;
        }
        pol->capacity = cap;
    }
    if (pol->weights) pol->weights[pol->n_views] = 1;
    pol->views[pol->n_views++] = *view;
    return TTA_OK;
}

/* Gives view v weight w, creating the weights (all 1) on first use. */
static tta_status set_weight(tta_policy *pol, int v, double w) {
    if (!pol->weights) {
        pol->weights = tta_malloc(sizeof(double) * (size_t)pol->capacity);
        if (!pol->weights) return tta_errorf(TTA_ERR_NOMEM, "out of memory for view weights");
        for (int i = 0; i < pol->capacity; i++) pol->weights[i] = 1;
    }
    pol->weights[v] = w;
    return TTA_OK;
}

tta_status tta_policy_add_view(tta_policy *pol, const tta_view *view) {
    if (!pol || !view || !pol->views)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_policy_add_view: bad arguments");
    tta_view v = *view;
    const char *why = normalise_view(&v);
    if (why) return tta_errorf(TTA_ERR_INVALID_ARG, "bad view: %s", why);
    if (find_view(pol, &v) >= 0) {
        char text[256];
        tta_view_format(&v, text, sizeof text);
        return tta_errorf(TTA_ERR_INVALID_ARG, "view '%s' is already in the policy", text);
    }
    return append_view(pol, &v);
}

/* ---- the parser ---- */

typedef struct parser {
    const char *source;     /* name for messages, or NULL */
    const char *p;          /* next character */
    const char *line_start; /* first character of the current line */
    int line;
    int identity_seen;  /* the text listed the identity view */
    const char *preset; /* name of the preset being expanded, or NULL */
} parser;

static tta_status perr(const parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static tta_status perr(const parser *ps, const char *at, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int col = (int)(at - ps->line_start) + 1;
    return tta_errorf(TTA_ERR_PARSE, "%s%sline %d, column %d: %s", ps->source ? ps->source : "",
                      ps->source ? ": " : "", ps->line, col, msg);
}

/* Skips blanks and a comment, never the end of the line. */
static void skip_blank(parser *ps) {
    for (;;) {
        char c = *ps->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
            ps->p++;
        } else if (c == '#') {
            while (*ps->p && *ps->p != '\n')
                ps->p++;
        } else {
            return;
        }
    }
}

static int is_word_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static int is_word_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-'; }

static size_t word_len(const char *s) {
    size_t n = 0;
    if (!is_word_start(s[0])) return 0;
    while (is_word_char(s[n]))
        n++;
    return n;
}

/* Length of a number token at s (sign, digits, point, exponent), 0 if none. */
static size_t number_len(const char *s) {
    size_t n = 0, digits = 0;
    if (s[n] == '+' || s[n] == '-') n++;
    while (isdigit((unsigned char)s[n]))
        n++, digits++;
    if (s[n] == '.') {
        n++;
        while (isdigit((unsigned char)s[n]))
            n++, digits++;
    }
    if (!digits) return 0;
    if (s[n] == 'e' || s[n] == 'E') {
        size_t m = n + 1;
        if (s[m] == '+' || s[m] == '-') m++;
        if (isdigit((unsigned char)s[m])) {
            while (isdigit((unsigned char)s[m]))
                m++;
            n = m;
        }
    }
    return n;
}

static double parse_number(const char *s, size_t len) {
    char tmp[64];
    if (len >= sizeof tmp) len = sizeof tmp - 1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return strtod(tmp, NULL);
}

static int word_index(const char *s, size_t len, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) return i;
    return -1;
}

static const char *const interp_words[] = {"nearest", "bilinear", "bicubic"};
static const char *const border_words[] = {"constant", "edge", "reflect", "wrap"};
static const char *const anchor_words[] = {"center", "tl", "tr", "bl", "br"};

static int at_view_end(char c) { return c == '\0' || c == '\n' || c == ';'; }

/* Parses one transform at ps->p (blanks skipped) into *t. */
static tta_status parse_transform(parser *ps, tta_transform *t) {
    const char *start = ps->p;
    size_t len = word_len(start);
    if (!len) {
        if (*start == '>') return perr(ps, start, "expected a transform before '>'");
        return perr(ps, start, "expected a transform name, found '%c'", *start);
    }
    const aug_op_info *info = aug_op_by_name(start, len);
    if (!info) {
        if (preset_by_span(start, len))
            return perr(ps, start, "preset '%.*s' must be a view of its own, not part of a chain", (int)len,
                        start);
        return perr(ps, start,
                    "unknown transform '%.*s' (expected identity, hflip, vflip, transpose, rot90, "
                    "shift, rotate, scale, resize, crop, letterbox, brightness, contrast, gamma, "
                    "saturation, or a preset: seed, flip, d4, five-crop, ten-crop, multiscale)",
                    (int)len, start);
    }
    *t = aug_transform_default(info->op);
    ps->p += len;
    skip_blank(ps);
    int n_num = 0, n_pct = 0, seen_interp = 0, seen_border = 0, seen_fill = 0, seen_anchor = 0;
    double num[2] = {0, 0};
    const char *first_num_at = NULL;
    if (*ps->p == '(') {
        const char *open = ps->p++;
        skip_blank(ps);
        if (*ps->p == ')') {
            ps->p++;
        } else {
            for (;;) {
                skip_blank(ps);
                const char *at = ps->p;
                size_t wl = word_len(at), nl = number_len(at);
                if (wl) {
                    ps->p += wl;
                    skip_blank(ps);
                    int k;
                    if (*ps->p == '=') {
                        if (!(wl == 4 && memcmp(at, "fill", 4) == 0))
                            return perr(ps, at, "unknown option '%.*s=' (only fill= is allowed)", (int)wl,
                                        at);
                        if (!(info->flags & AUG_ARG_FILL))
                            return perr(ps, at, "%s takes no fill value", info->name);
                        if (seen_fill++) return perr(ps, at, "fill is given twice");
                        ps->p++;
                        skip_blank(ps);
                        size_t fl = number_len(ps->p);
                        if (!fl) return perr(ps, ps->p, "expected a number after 'fill='");
                        t->fill = parse_number(ps->p, fl);
                        if (!(t->fill >= 0 && t->fill <= 1))
                            return perr(ps, ps->p, "fill must be between 0 and 1 (a fraction of full scale)");
                        ps->p += fl;
                    } else if ((k = word_index(at, wl, interp_words, 3)) >= 0) {
                        if (!(info->flags & AUG_ARG_INTERP))
                            return perr(ps, at, "%s takes no interpolation", info->name);
                        if (seen_interp++) return perr(ps, at, "interpolation is given twice");
                        t->interp = (tta_interp)k;
                    } else if ((k = word_index(at, wl, border_words, 4)) >= 0) {
                        if (!(info->flags & AUG_ARG_BORDER))
                            return perr(ps, at, "%s takes no border mode", info->name);
                        if (seen_border++) return perr(ps, at, "border mode is given twice");
                        t->border = (tta_border)k;
                    } else if ((k = word_index(at, wl, anchor_words, 5)) >= 0) {
                        if (!(info->flags & AUG_ARG_ANCHOR))
                            return perr(ps, at, "%s takes no anchor", info->name);
                        if (seen_anchor++ || n_num) return perr(ps, at, "the anchor must come first, once");
                        t->anchor = (tta_anchor)k;
                    } else {
                        return perr(ps, at,
                                    "unknown word '%.*s' (interpolation: nearest, bilinear, bicubic; "
                                    "border: constant, edge, reflect, wrap; anchor: center, tl, tr, bl, br)",
                                    (int)wl, at);
                    }
                } else if (nl) {
                    if (n_num == info->max_num)
                        return perr(ps, at, "too many numbers: %s takes %s%d", info->name,
                                    info->min_num == info->max_num ? "" : "at most ", info->max_num);
                    if (!first_num_at) first_num_at = at;
                    num[n_num++] = parse_number(at, nl);
                    ps->p += nl;
                    if (*ps->p == '%') {
                        if (!(info->flags & AUG_ARG_PERCENT))
                            return perr(ps, ps->p, "%s takes no percentages", info->name);
                        n_pct++;
                        ps->p++;
                    }
                    if ((info->flags & AUG_ARG_PERCENT) && n_pct && n_pct != n_num)
                        return perr(ps, at, "give both sizes in pixels or both in percent");
                } else if (*at == '\0' || *at == '\n') {
                    return perr(ps, at, "missing ')' to close the '(' at column %d",
                                (int)(open - ps->line_start) + 1);
                } else {
                    return perr(ps, at, "expected a number or a word, found '%c'", *at);
                }
                skip_blank(ps);
                if (*ps->p == ',') {
                    ps->p++;
                    continue;
                }
                if (*ps->p == ')') {
                    ps->p++;
                    break;
                }
                if (*ps->p == '\0' || *ps->p == '\n')
                    return perr(ps, ps->p, "missing ')' to close the '(' at column %d",
                                (int)(open - ps->line_start) + 1);
                return perr(ps, ps->p, "expected ',' or ')', found '%c'", *ps->p);
            }
        }
    }
    if ((info->flags & AUG_ARG_ANCHOR) && !seen_anchor)
        return perr(ps, start, "%s needs an anchor first: center, tl, tr, bl or br", info->name);
    if (n_num < info->min_num)
        return perr(ps, start, "%s needs %s%d number%s, got %d", info->name,
                    info->min_num == info->max_num ? "" : "at least ", info->min_num,
                    info->min_num == 1 ? "" : "s", n_num);
    if (info->op == TTA_OP_ROT90) {
        if (n_num) {
            /* on the double (a cast of a huge number to an integer is undefined): fmod is exact */
            if (!isfinite(num[0]) || num[0] != floor(num[0])) return perr(ps, first_num_at, "rot90 takes a whole number");
            double k = fmod(num[0], 4.0);
            t->p[0] = k < 0 ? k + 4 : k + 0.0; /* + 0.0: -0 becomes 0 */
        }
    } else {
        t->p[0] = num[0];
        t->p[1] = n_num == 2 ? num[1] : num[0]; /* resize(224) means 224 x 224 */
    }
    t->relative = n_pct > 0;
    if (!(info->flags & AUG_ARG_FILL) || (t->border != TTA_BORDER_CONSTANT && info->op != TTA_OP_LETTERBOX)) {
        if (seen_fill && (info->flags & AUG_ARG_FILL))
            return perr(ps, start, "fill= only applies to the constant border");
        t->fill = info->fill;
    }
    const char *why = aug_transform_check(t);
    if (why) return perr(ps, first_num_at ? first_num_at : start, "%s: %s", info->name, why);
    return TTA_OK;
}

/* Adds a parsed view; `at` is where it started, for messages. weight < 0: none given. */
static tta_status add_parsed(parser *ps, tta_policy *pol, tta_view *view, const char *at, double weight) {
    normalise_view(view); /* transforms were checked one by one */
    if (view->n == 0) {
        if (ps->identity_seen && !ps->preset) return perr(ps, at, "the identity view is listed twice");
        ps->identity_seen = 1;
        return weight >= 0 ? set_weight(pol, 0, weight) : TTA_OK; /* views[0] is the identity already */
    }
    int dup = find_view(pol, view);
    if (dup >= 0) {
        char text[256];
        tta_view_format(view, text, sizeof text);
        if (ps->preset)
            return perr(ps, at, "view '%s' of preset '%s' is already in the policy (view %d)", text,
                        ps->preset, dup);
        return perr(ps, at, "view '%s' is already in the policy (view %d)", text, dup);
    }
    tta_status st = append_view(pol, view);
    if (st == TTA_OK && weight >= 0) st = set_weight(pol, pol->n_views - 1, weight);
    if (st != TTA_OK) return tta_error_context(st, "line %d", ps->line);
    return TTA_OK;
}

static tta_status parse_text(parser *ps, tta_policy *pol) {
    for (;;) {
        skip_blank(ps);
        char c = *ps->p;
        if (c == '\0') return TTA_OK;
        if (c == '\n') {
            ps->p++;
            ps->line++;
            ps->line_start = ps->p;
            continue;
        }
        if (c == ';') {
            ps->p++;
            continue;
        }
        const char *at = ps->p;
        size_t wl = word_len(at);
        const char *preset = wl ? preset_by_span(at, wl) : NULL;
        if (preset && !aug_op_by_name(at, wl)) {
            ps->p += wl;
            skip_blank(ps);
            if (*ps->p == '@') return perr(ps, ps->p, "preset '%.*s' takes no weight", (int)wl, at);
            if (!at_view_end(*ps->p))
                return perr(ps, at, "preset '%.*s' must be a view of its own, not part of a chain", (int)wl,
                            at);
            /* expand in place: errors would be ours, so report them at the preset's name */
            parser sub = {.source = NULL,
                          .p = preset,
                          .line_start = preset,
                          .line = 1,
                          .identity_seen = 1,
                          .preset = NULL};
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)wl, at);
            sub.preset = name;
            tta_policy tmp;
            TTA_TRY(tta_policy_init(&tmp));
            tta_status st = parse_text(&sub, &tmp);
            for (int v = 1; st == TTA_OK && v < tmp.n_views; v++) {
                parser here = *ps;
                here.preset = name;
                st = add_parsed(&here, pol, &tmp.views[v], at, -1);
            }
            tta_policy_destroy(&tmp);
            TTA_TRY(st);
            continue;
        }
        tta_view view = {0};
        double weight = -1;
        for (;;) {
            skip_blank(ps);
            if (view.n == TTA_MAX_CHAIN)
                return perr(ps, ps->p, "too many transforms in one view (at most %d)", TTA_MAX_CHAIN);
            TTA_TRY(parse_transform(ps, &view.t[view.n]));
            view.n++;
            skip_blank(ps);
            if (*ps->p == '>') {
                ps->p++;
                skip_blank(ps);
                if (at_view_end(*ps->p)) return perr(ps, ps->p, "expected a transform after '>'");
                continue;
            }
            if (*ps->p == '@') {
                ps->p++;
                skip_blank(ps);
                size_t nl = number_len(ps->p);
                if (!nl) return perr(ps, ps->p, "expected a weight (a number >= 0) after '@'");
                weight = parse_number(ps->p, nl);
                if (!(weight >= 0 && weight <= 1e12)) return perr(ps, ps->p, "a weight must be a number >= 0");
                ps->p += nl;
                skip_blank(ps);
                if (at_view_end(*ps->p)) break;
                return perr(ps, ps->p, "expected ';' or the end of the line after the weight, found '%c'", *ps->p);
            }
            if (at_view_end(*ps->p)) break;
            return perr(ps, ps->p, "expected '>', ';' or the end of the line, found '%c'", *ps->p);
        }
        TTA_TRY(add_parsed(ps, pol, &view, at, weight));
    }
}

tta_status tta_policy_parse(tta_policy *pol, const char *text, const char *source) {
    if (!pol) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_policy_parse: NULL policy");
    memset(pol, 0, sizeof *pol);
    if (!text) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_policy_parse: NULL text");
    TTA_TRY(tta_policy_init(pol));
    parser ps = {.source = source, .p = text, .line_start = text, .line = 1};
    tta_status st = parse_text(&ps, pol);
    if (st == TTA_OK && pol->weights) {
        double sum = 0;
        for (int v = 0; v < pol->n_views; v++) sum += pol->weights[v];
        if (!(sum > 0))
            st = tta_errorf(TTA_ERR_PARSE, "%s%severy view has weight 0", source ? source : "", source ? ": " : "");
    }
    if (st != TTA_OK) {
        tta_policy_destroy(pol);
        TTA_TRY(tta_policy_init(pol)); /* leave a valid (identity) policy behind */
        return st;
    }
    return TTA_OK;
}
