/* fuse_index.h - a uniform grid over the boxes of one class, so that the fusing rules test a
 * box only against boxes that could overlap it instead of against every box of the class.
 *
 * Each entry (a kept box, a cluster's best box or running fused box, a remaining box) is filed
 * in the one cell holding its top-left corner (x1, y1), in doubly linked lists threaded
 * through per-call arrays: inserting, removing and moving an entry (WBF's fused box moves as
 * boxes join) are O(1). A query names the corner range where every entry that can overlap the
 * query box enough must lie, and gets the entries of the cells covering it (a superset; the
 * rules still compute the exact IoU and break ties by entry id, so the order of the candidates
 * does not matter). Bounds:
 *   IoU(f, b) > t > 0  =>  the intersection's width iw > t * max(w_f, w_b) (IoU <= inter / area
 *                          <= iw / w for either box), so f.x1 lies within b.x1 - w_f (1 - t), below
 *                          (w_f < w_b / t), and b.x1 + w_b (1 - t), above: f.x1 in
 *                          (b.x1 - w_b (1 - t) / t, b.x1 + w_b (1 - t)); the same in y
 *                          (fuse_grid_reach_iou, fuse_grid_high);
 *   f intersects b     =>  f.x1 in (b.x1 - max w_f, b.x2): for soft-NMS, whose Gaussian decay
 *                          touches every overlapping box; boxes much wider or taller than the
 *                          class's typical box go to an overflow list every query visits.
 * The margins cover the rounding of the IoU and of the bounds. A 1 x 1 grid is the plain scan
 * (small classes, IoU thresholds too low for a useful bound, or below 0 where even disjoint
 * boxes match): it files every entry, degenerate ones included. */
#ifndef TTA_DETECT_FUSE_INDEX_H
#define TTA_DETECT_FUSE_INDEX_H

#include <math.h>

typedef struct fuse_grid {
    double ox, oy; /* corner of cell (0, 0) */
    double inv;    /* 1 / cell size */
    int gx, gy;    /* columns, rows; 1 x 1: one list of everything */
    int *head;     /* gx * gy lists, then the overflow list */
    int *next, *prev, *cell; /* per entry id, shared by every grid of a call; cell -1: not filed */
} fuse_grid;

/* What a class's boxes look like, for sizing its grid. */
typedef struct fuse_extent {
    double x1, y1, x2, y2; /* the region every box of the class lies in */
    double sum_w, sum_h;   /* sum of the widths and heights */
    int n;
} fuse_extent;

/* Cells a grid for `e` may use, overflow list included: fuse_grid_init uses at most this many. */
static inline int fuse_grid_cells_max(int n) { return 4 * n + 2; }

/* Sizes the grid for the extent (1 x 1 when `plain`) over head[0 .. fuse_grid_cells_max(e->n)),
 * and empties its lists. next/prev/cell are set by the caller. */
void fuse_grid_init(fuse_grid *g, const fuse_extent *e, int plain, int *head);

static inline int fuse_grid_col(const fuse_grid *g, double x, int n) {
    double c = (x - g->ox) * g->inv; /* monotone in x, so a range maps to a range of cells */
    if (!(c > 0)) return 0;
    if (c >= n - 1) return n - 1;
    return (int)c;
}

static inline void fuse_grid_link(fuse_grid *g, int id, int cell) {
    int h = g->head[cell];
    g->next[id] = h;
    g->prev[id] = -1;
    if (h >= 0) g->prev[h] = id;
    g->head[cell] = id;
    g->cell[id] = cell;
}

static inline void fuse_grid_remove(fuse_grid *g, int id) {
    int cell = g->cell[id];
    if (cell < 0) return;
    int p = g->prev[id], q = g->next[id];
    if (p >= 0) g->next[p] = q;
    else g->head[cell] = q;
    if (q >= 0) g->prev[q] = p;
    g->cell[id] = -1;
}

/* The cell of a box (its corner), or -1 for a box no query with a bound can match (empty,
 * inverted or NaN: its IoU with anything is 0 or NaN); `big` files it in the overflow list. */
static inline int fuse_grid_cell_of(const fuse_grid *g, double x1, double y1, double x2, double y2, int big) {
    if (g->gx == 1 && g->gy == 1) return 0;
    if (!(x1 < x2 && y1 < y2)) return -1;
    if (big) return g->gx * g->gy;
    return fuse_grid_col(g, y1, g->gy) * g->gx + fuse_grid_col(g, x1, g->gx);
}

/* Files entry id (not filed yet) by its box. */
static inline void fuse_grid_insert(fuse_grid *g, int id, double x1, double y1, double x2, double y2, int big) {
    int cell = fuse_grid_cell_of(g, x1, y1, x2, y2, big);
    if (cell >= 0) fuse_grid_link(g, id, cell);
    else g->cell[id] = -1;
}

/* Re-files a filed entry whose box changed. */
static inline void fuse_grid_move(fuse_grid *g, int id, double x1, double y1, double x2, double y2) {
    int cell = fuse_grid_cell_of(g, x1, y1, x2, y2, 0);
    if (cell == g->cell[id]) return;
    fuse_grid_remove(g, id);
    if (cell >= 0) fuse_grid_link(g, id, cell);
}

/* The lowest corner coordinate an overlapping box can have: x1 - reach, widened by margins
 * that cover the rounding of the IoU and of this bound. */
static inline double fuse_grid_low(double x1, double reach) {
    return x1 - reach * (1 + 1e-6) - 1e-9 * (fabs(x1) + reach);
}

/* How far below x1 the corner of a box with IoU > t with a box of width (or height) w can
 * lie: w (1 - t) / t (never below 0); infinite for t <= 0. */
static inline double fuse_grid_reach_iou(double w, double t) {
    if (!(t > 0)) return INFINITY;
    double r = w * (1 - t) / t;
    return r > 0 ? r : 0;
}

/* The highest corner coordinate such a box can have: x1 + w (1 - t), with the same margins. */
static inline double fuse_grid_high(double x1, double w, double t) {
    double r = t > 0 ? w * (1 - t) : INFINITY;
    if (!(r > 0)) r = 0;
    return x1 + r * (1 + 1e-6) + 1e-9 * (fabs(x1) + r);
}

/* Writes to out the entries filed in the cells of corners [lx, hx] x [ly, hy] and in the
 * overflow list; returns their count. */
int fuse_grid_query(const fuse_grid *g, double lx, double ly, double hx, double hy, int *out);

#endif
