/* transform.c - the table of transforms: names, arguments and defaults, range checks, and the
 * canonical text of one transform. The policy parser (policy.c) and the plan builder (plan.c)
 * both work from this table, so a transform is described in one place. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment/internal.h"

#define G AUG_GEOMETRIC
static const aug_op_info ops[TTA_OP_COUNT] = {
    {"identity", TTA_OP_IDENTITY, 0, 0, G, TTA_INTERP_BILINEAR, TTA_BORDER_CONSTANT, 0},
    {"hflip", TTA_OP_HFLIP, 0, 0, G, TTA_INTERP_BILINEAR, TTA_BORDER_CONSTANT, 0},
    {"vflip", TTA_OP_VFLIP, 0, 0, G, TTA_INTERP_BILINEAR, TTA_BORDER_CONSTANT, 0},
    {"transpose", TTA_OP_TRANSPOSE, 0, 0, G, TTA_INTERP_BILINEAR, TTA_BORDER_CONSTANT, 0},
    {"rot90", TTA_OP_ROT90, 0, 1, G, TTA_INTERP_BILINEAR, TTA_BORDER_CONSTANT, 0},
    {"shift", TTA_OP_SHIFT, 2, 2, G | AUG_ARG_INTERP | AUG_ARG_BORDER | AUG_ARG_FILL, TTA_INTERP_BILINEAR,
     TTA_BORDER_WRAP, 0},
    {"rotate", TTA_OP_ROTATE, 1, 1, G | AUG_ARG_INTERP | AUG_ARG_BORDER | AUG_ARG_FILL, TTA_INTERP_BILINEAR,
     TTA_BORDER_EDGE, 0},
    {"scale", TTA_OP_SCALE, 1, 1, G | AUG_ARG_INTERP | AUG_ARG_BORDER | AUG_ARG_FILL, TTA_INTERP_BILINEAR,
     TTA_BORDER_CONSTANT, 0},
    {"resize", TTA_OP_RESIZE, 1, 2, G | AUG_ARG_INTERP | AUG_ARG_PERCENT, TTA_INTERP_BILINEAR,
     TTA_BORDER_EDGE, 0},
    {"crop", TTA_OP_CROP, 1, 2, G | AUG_ARG_ANCHOR | AUG_ARG_PERCENT, TTA_INTERP_NEAREST, TTA_BORDER_CONSTANT,
     0},
    {"letterbox", TTA_OP_LETTERBOX, 1, 2, G | AUG_ARG_INTERP | AUG_ARG_FILL, TTA_INTERP_BILINEAR,
     TTA_BORDER_CONSTANT, 0.5},
    {"brightness", TTA_OP_BRIGHTNESS, 1, 1, 0, TTA_INTERP_BILINEAR, TTA_BORDER_CONSTANT, 0},
    {"contrast", TTA_OP_CONTRAST, 1, 1, 0, TTA_INTERP_BILINEAR, TTA_BORDER_CONSTANT, 0},
    {"gamma", TTA_OP_GAMMA, 1, 1, 0, TTA_INTERP_BILINEAR, TTA_BORDER_CONSTANT, 0},
    {"saturation", TTA_OP_SATURATION, 1, 1, 0, TTA_INTERP_BILINEAR, TTA_BORDER_CONSTANT, 0},
};
#undef G

static const char *interp_names[] = {"nearest", "bilinear", "bicubic"};
static const char *border_names[] = {"constant", "edge", "reflect", "wrap"};
static const char *anchor_names[] = {"center", "tl", "tr", "bl", "br"};

const aug_op_info *aug_op_by_name(const char *name, size_t len) {
    for (int i = 0; i < TTA_OP_COUNT; i++)
        if (strlen(ops[i].name) == len && memcmp(ops[i].name, name, len) == 0) return &ops[i];
    return NULL;
}

const aug_op_info *aug_op_info_of(tta_op op) { return (unsigned)op < TTA_OP_COUNT ? &ops[op] : NULL; }

const char *aug_interp_name(tta_interp i) { return (unsigned)i < 3 ? interp_names[i] : "?"; }
const char *aug_border_name(tta_border b) { return (unsigned)b < 4 ? border_names[b] : "?"; }

const char *tta_op_name(tta_op op) {
    const aug_op_info *info = aug_op_info_of(op);
    return info ? info->name : "?";
}
const char *tta_interp_name(tta_interp interp) { return aug_interp_name(interp); }
const char *tta_border_name(tta_border border) { return aug_border_name(border); }
size_t tta_transform_format(const tta_transform *t, char *buf, size_t size) {
    if (size) buf[0] = '\0';
    return aug_transform_format(t, buf, size);
}
const char *aug_anchor_name(tta_anchor a) { return (unsigned)a < 5 ? anchor_names[a] : "?"; }

tta_transform aug_transform_default(tta_op op) {
    const aug_op_info *info = aug_op_info_of(op);
    tta_transform t = {0};
    t.op = op;
    if (info) {
        t.interp = info->interp;
        t.border = info->border;
        t.fill = info->fill;
    }
    if (op == TTA_OP_ROT90) t.p[0] = 1;
    return t;
}

static int is_int(double v) { return isfinite(v) && v == floor(v); }

const char *aug_transform_check(const tta_transform *t) {
    const aug_op_info *info = aug_op_info_of(t->op);
    if (!info) return "unknown transform code";
    if ((unsigned)t->interp > TTA_INTERP_BICUBIC) return "unknown interpolation";
    if ((unsigned)t->border > TTA_BORDER_WRAP) return "unknown border mode";
    if ((unsigned)t->anchor > TTA_ANCHOR_BR) return "unknown crop anchor";
    if (!(t->fill >= 0 && t->fill <= 1)) return "fill must be between 0 and 1";
    if (t->relative && !(info->flags & AUG_ARG_PERCENT)) return "percentages are not allowed here";
    double a = t->p[0], b = t->p[1];
    switch (t->op) {
    case TTA_OP_ROT90:
        if (!is_int(a) || a < 0 || a > 3) return "rot90 takes a whole number of quarter turns";
        break;
    case TTA_OP_SHIFT:
        if (!isfinite(a) || !isfinite(b) || fabs(a) > 1e6 || fabs(b) > 1e6) return "shift must be finite";
        break;
    case TTA_OP_ROTATE:
        if (!isfinite(a) || fabs(a) > 1e6) return "the angle must be finite";
        break;
    case TTA_OP_SCALE:
        if (!(a >= 0.01 && a <= 100)) return "the zoom factor must be between 0.01 and 100";
        break;
    case TTA_OP_RESIZE:
    case TTA_OP_CROP:
    case TTA_OP_LETTERBOX:
        if (t->relative) {
            double hi = t->op == TTA_OP_CROP ? 100 : 1000;
            if (!(a > 0 && a <= hi && b > 0 && b <= hi))
                return t->op == TTA_OP_CROP ? "crop percentages must be in (0, 100]"
                                            : "percentages must be in (0, 1000]";
        } else if (!is_int(a) || !is_int(b) || a < 1 || b < 1 || a > 65536 || b > 65536) {
            return "sizes must be whole numbers of pixels from 1 to 65536";
        }
        break;
    case TTA_OP_BRIGHTNESS:
    case TTA_OP_CONTRAST:
    case TTA_OP_SATURATION:
        if (!(a >= 0 && a <= 1e6)) return "the factor must be >= 0";
        break;
    case TTA_OP_GAMMA:
        if (!(a > 0 && a <= 1e6)) return "gamma must be > 0";
        break;
    default: break;
    }
    return NULL;
}

void aug_format_number(double v, char *buf, size_t size) {
    if (v == 0) v = 0; /* no "-0" */
    /* enough digits for the integer part, so that 10 prints as "10" and not "1e+01" */
    int min_prec = fabs(v) >= 1 && fabs(v) < 1e15 ? (int)floor(log10(fabs(v))) + 1 : 1;
    for (int prec = min_prec; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* snprintf into buf at offset *len, keeping the total length needed */
#define PUT(...)                                                                                             \
    do {                                                                                                     \
        int n_ = snprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, __VA_ARGS__);      \
        if (n_ > 0) *len += (size_t)n_;                                                                      \
    } while (0)

static void put_size(char *buf, size_t size, size_t *len, double v, int relative) {
    char num[32];
    aug_format_number(v, num, sizeof num);
    PUT(", %s%s", num, relative ? "%" : "");
}

size_t aug_transform_format(const tta_transform *t, char *buf, size_t size) {
    const aug_op_info *info = aug_op_info_of(t->op);
    size_t n = 0, *len = &n;
    char a[32], b[32];
    if (!info) {
        PUT("?");
        return n;
    }
    aug_format_number(t->p[0], a, sizeof a);
    aug_format_number(t->p[1], b, sizeof b);
    PUT("%s", info->name);
    switch (t->op) {
    case TTA_OP_ROT90: PUT("(%s)", a); return n;
    case TTA_OP_SHIFT: PUT("(%s, %s", a, b); break;
    case TTA_OP_ROTATE:
    case TTA_OP_SCALE: PUT("(%s", a); break;
    case TTA_OP_RESIZE:
    case TTA_OP_LETTERBOX:
        PUT("(%s%s", a, t->relative ? "%" : "");
        if (t->p[1] != t->p[0]) put_size(buf, size, len, t->p[1], t->relative);
        break;
    case TTA_OP_CROP:
        PUT("(%s", aug_anchor_name(t->anchor));
        put_size(buf, size, len, t->p[0], t->relative);
        if (t->p[1] != t->p[0]) put_size(buf, size, len, t->p[1], t->relative);
        PUT(")");
        return n;
    case TTA_OP_BRIGHTNESS:
    case TTA_OP_CONTRAST:
    case TTA_OP_GAMMA:
    case TTA_OP_SATURATION: PUT("(%s)", a); return n;
    default: return n;
    }
    /* resampling transforms: interpolation and border, then fill */
    int always = t->op == TTA_OP_ROTATE || t->op == TTA_OP_SCALE;
    if ((info->flags & AUG_ARG_INTERP) && (always || t->interp != info->interp))
        PUT(", %s", aug_interp_name(t->interp));
    if (info->flags & AUG_ARG_BORDER) PUT(", %s", aug_border_name(t->border));
    int fill_used = t->op == TTA_OP_LETTERBOX || t->border == TTA_BORDER_CONSTANT;
    if ((info->flags & AUG_ARG_FILL) && fill_used && t->fill != info->fill) {
        aug_format_number(t->fill, a, sizeof a);
        PUT(", fill=%s", a);
    }
    PUT(")");
    return n;
}
