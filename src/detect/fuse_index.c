/* fuse_index.c - sizing and querying the per-class grid of fuse_index.h. */
#include "detect/fuse_index.h"

/* Grids pay off from about this many boxes in a class; below, the plain scan is as fast. */
#define FUSE_GRID_MIN_BOXES 24

void fuse_grid_init(fuse_grid *g, const fuse_extent *e, int plain, int *head) {
    g->head = head;
    g->ox = e->x1;
    g->oy = e->y1;
    g->gx = g->gy = 1;
    g->inv = 1;
    double rw = e->x2 - e->x1, rh = e->y2 - e->y1;
    if (!plain && e->n >= FUSE_GRID_MIN_BOXES && rw > 0 && rh > 0 && isfinite(rw) && isfinite(rh)) {
        /* a cell about the size of a typical box, with at most 4 cells per box */
        double mw = e->sum_w / e->n, mh = e->sum_h / e->n;
        double cell = mw > mh ? mw : mh;
        double floor_cell = sqrt(rw * rh / (4.0 * e->n));
        if (!(cell > floor_cell)) cell = floor_cell;
        for (;;) {
            double cx = ceil(rw / cell), cy = ceil(rh / cell);
            if (cx * cy <= 4.0 * e->n && cx >= 1 && cy >= 1) {
                g->gx = (int)cx;
                g->gy = (int)cy;
                break;
            }
            cell *= 1.25;
        }
        g->inv = 1 / cell;
        if (!(isfinite(g->inv) && g->inv > 0)) g->gx = g->gy = 1, g->inv = 1;
    }
    int cells = g->gx * g->gy + 1;
    for (int k = 0; k < cells; k++)
        head[k] = -1;
}

int fuse_grid_query(const fuse_grid *g, double lx, double ly, double hx, double hy, int *out) {
    int n = 0;
    int c0 = fuse_grid_col(g, lx, g->gx), c1 = fuse_grid_col(g, hx, g->gx);
    int r0 = fuse_grid_col(g, ly, g->gy), r1 = fuse_grid_col(g, hy, g->gy);
    for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++)
            for (int id = g->head[r * g->gx + c]; id >= 0; id = g->next[id])
                out[n++] = id;
    for (int id = g->head[g->gx * g->gy]; id >= 0; id = g->next[id])
        out[n++] = id;
    return n;
}
