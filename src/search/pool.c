/* pool.c - candidate pools for the policy search, written in the policy language, and the
 * families that step 1 of the search sweeps (a view's family and its row in the family table).
 *
 * A family groups views that differ only in one parameter, and a row the views that share its
 * magnitude: shift(3, 0) and shift(-3, 0) are row "3 px" of family "shift x", so that the sweep
 * answers "which shift, in pixels?" as the reference experiment asks it (both directions at
 * once). Composites "hflip > X" get the family of X prefixed with "hflip > ". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tta/augment.h"
#include "tta/search.h"

/* Every single view once, then each composed with hflip. Kept as plain text so that a user
 * can copy it, trim it and pass it back with --pool. */
static const char default_pool[] =
    "identity\n"
    "hflip\nvflip\n"
    "shift(1, 0, wrap)\nshift(-1, 0, wrap)\nshift(2, 0, wrap)\nshift(-2, 0, wrap)\n"
    "shift(3, 0, wrap)\nshift(-3, 0, wrap)\nshift(4, 0, wrap)\nshift(-4, 0, wrap)\n"
    "shift(0, 1, wrap)\nshift(0, -1, wrap)\nshift(0, 2, wrap)\nshift(0, -2, wrap)\n"
    "shift(0, 3, wrap)\nshift(0, -3, wrap)\nshift(0, 4, wrap)\nshift(0, -4, wrap)\n"
    "rotate(2)\nrotate(-2)\nrotate(5)\nrotate(-5)\nrotate(10)\nrotate(-10)\nrotate(15)\nrotate(-15)\n"
    "scale(0.85)\nscale(0.9)\nscale(0.95)\nscale(1.05)\nscale(1.1)\nscale(1.15)\n"
    "crop(center, 87.5%)\ncrop(tl, 87.5%)\ncrop(tr, 87.5%)\ncrop(bl, 87.5%)\ncrop(br, 87.5%)\n"
    "brightness(0.9)\nbrightness(1.1)\ncontrast(0.9)\ncontrast(1.1)\n"
    "hflip > vflip\n"
    "hflip > shift(1, 0, wrap)\nhflip > shift(-1, 0, wrap)\nhflip > shift(2, 0, wrap)\nhflip > shift(-2, 0, wrap)\n"
    "hflip > shift(3, 0, wrap)\nhflip > shift(-3, 0, wrap)\nhflip > shift(4, 0, wrap)\nhflip > shift(-4, 0, wrap)\n"
    "hflip > shift(0, 1, wrap)\nhflip > shift(0, -1, wrap)\nhflip > shift(0, 2, wrap)\nhflip > shift(0, -2, wrap)\n"
    "hflip > shift(0, 3, wrap)\nhflip > shift(0, -3, wrap)\nhflip > shift(0, 4, wrap)\nhflip > shift(0, -4, wrap)\n"
    "hflip > rotate(2)\nhflip > rotate(-2)\nhflip > rotate(5)\nhflip > rotate(-5)\n"
    "hflip > rotate(10)\nhflip > rotate(-10)\nhflip > rotate(15)\nhflip > rotate(-15)\n"
    "hflip > scale(0.85)\nhflip > scale(0.9)\nhflip > scale(0.95)\nhflip > scale(1.05)\nhflip > scale(1.1)\n"
    "hflip > scale(1.15)\n"
    "hflip > crop(center, 87.5%)\nhflip > crop(tl, 87.5%)\nhflip > crop(tr, 87.5%)\nhflip > crop(bl, 87.5%)\n"
    "hflip > crop(br, 87.5%)\n"
    "hflip > brightness(0.9)\nhflip > brightness(1.1)\nhflip > contrast(0.9)\nhflip > contrast(1.1)\n";

static const char small_pool[] =
    "identity\n"
    "hflip\n"
    "shift(2, 0, wrap)\nshift(-2, 0, wrap)\nshift(0, 2, wrap)\nshift(0, -2, wrap)\n"
    "rotate(10)\nrotate(-10)\n"
    "scale(0.9)\nscale(1.1)\n"
    "hflip > shift(2, 0, wrap)\nhflip > shift(-2, 0, wrap)\nhflip > shift(0, 2, wrap)\nhflip > shift(0, -2, wrap)\n"
    "hflip > rotate(10)\nhflip > rotate(-10)\n"
    "hflip > scale(1.1)\n";

const char *tta_search_pool_text(const char *name) {
    if (!name) return NULL;
    if (!strcmp(name, "default")) return default_pool;
    if (!strcmp(name, "small")) return small_pool;
    return NULL;
}

int tta_search_view_is_composite(const tta_view *view) { return view->n >= 2; }

/* A parameter as a row shows it: 3, 0.1, 2.5 (rows group equal values, never near ones). */
static void format_number(double v, char *buf, size_t size) { snprintf(buf, size, "%.15g", v); }

/* Family and row of one transform (ops without a family of their own: the op name, and the
 * transform's text as the row). */
static void single_family(const tta_transform *t, char *fam, size_t fs, char *row, size_t rs, double *order) {
    const char *name = tta_op_name(t->op);
    char a[32], b[32], suffix[48] = "";
    *order = 0;
    switch (t->op) {
    case TTA_OP_HFLIP:
    case TTA_OP_VFLIP:
    case TTA_OP_TRANSPOSE:
    case TTA_OP_ROT90:
        snprintf(fam, fs, "flip");
        tta_transform_format(t, row, rs);
        *order = t->op * 4 + t->p[0];
        return;
    case TTA_OP_SHIFT: {
        if (t->border != TTA_BORDER_WRAP) snprintf(suffix, sizeof suffix, " (%s)", tta_border_name(t->border));
        double dx = fabs(t->p[0]), dy = fabs(t->p[1]);
        format_number(dx, a, sizeof a);
        format_number(dy, b, sizeof b);
        if (dy == 0) {
            snprintf(fam, fs, "shift x%s", suffix);
            snprintf(row, rs, "%s px", a);
            *order = dx;
        } else if (dx == 0) {
            snprintf(fam, fs, "shift y%s", suffix);
            snprintf(row, rs, "%s px", b);
            *order = dy;
        } else {
            snprintf(fam, fs, "shift xy%s", suffix);
            snprintf(row, rs, "%s, %s px", a, b);
            *order = dx * 1000 + dy;
        }
        return;
    }
    case TTA_OP_ROTATE:
        if (t->interp != TTA_INTERP_BILINEAR || t->border != TTA_BORDER_EDGE)
            snprintf(suffix, sizeof suffix, " (%s, %s)", tta_interp_name(t->interp), tta_border_name(t->border));
        snprintf(fam, fs, "rotate%s", suffix);
        format_number(fabs(t->p[0]), a, sizeof a);
        snprintf(row, rs, "%s deg", a);
        *order = fabs(t->p[0]);
        return;
    case TTA_OP_SCALE:
    case TTA_OP_BRIGHTNESS:
    case TTA_OP_CONTRAST:
    case TTA_OP_GAMMA:
    case TTA_OP_SATURATION:
        /* factors about 1: 0.9 and 1.1 share the row "1 +- 0.1" */
        if (t->op == TTA_OP_SCALE && (t->interp != TTA_INTERP_BILINEAR || t->border != TTA_BORDER_CONSTANT))
            snprintf(suffix, sizeof suffix, " (%s, %s)", tta_interp_name(t->interp), tta_border_name(t->border));
        snprintf(fam, fs, "%s%s", name, suffix);
        {
            double d = fabs(t->p[0] - 1);
            d = round(d * 1e9) / 1e9; /* 1 - 0.9 and 1.1 - 1 differ in the last bits */
            format_number(d, a, sizeof a);
            snprintf(row, rs, "1 +- %s", a);
            *order = d;
        }
        return;
    case TTA_OP_CROP:
        snprintf(fam, fs, "crop");
        format_number(t->p[0], a, sizeof a);
        format_number(t->p[1], b, sizeof b);
        if (t->p[0] == t->p[1]) snprintf(row, rs, "%s%s", a, t->relative ? "%" : " px");
        else snprintf(row, rs, "%s x %s%s", a, b, t->relative ? "%" : " px");
        *order = t->p[0] * 1000 + t->p[1];
        return;
    default:
        snprintf(fam, fs, "%s", name);
        tta_transform_format(t, row, rs);
        *order = t->p[0] * 1000 + t->p[1];
        return;
    }
}

void tta_search_view_family(const tta_view *view, char *family, size_t family_size, char *row, size_t row_size,
                            double *order) {
    double ord = 0;
    if (view->n == 0) {
        snprintf(family, family_size, "identity");
        snprintf(row, row_size, "identity");
    } else if (view->n == 1) {
        single_family(&view->t[0], family, family_size, row, row_size, &ord);
    } else if (view->n == 2 && view->t[0].op == TTA_OP_HFLIP) {
        char f[80];
        single_family(&view->t[1], f, sizeof f, row, row_size, &ord);
        snprintf(family, family_size, "hflip > %s", f);
    } else {
        snprintf(family, family_size, "composite");
        tta_view_format(view, row, row_size);
    }
    if (order) *order = ord;
}
