/* rewrite.h - graph rewrites run by the loader (see rewrite.c). */
#ifndef TTA_RUNTIME_REWRITE_H
#define TTA_RUNTIME_REWRITE_H

#include "runtime/graph.h"

typedef struct tta_rewrite_stats {
    int constants_inlined;
    int identity_removed;
    int bn_folded;
    int activations_fused;
} tta_rewrite_stats;

tta_status tta_graph_rewrite(tta_graph *g, tta_rewrite_stats *stats);

#endif
