/* model.h - the loaded model behind the opaque tta_model: the graph IR and where it came from. */
#ifndef TTA_RUNTIME_MODEL_H
#define TTA_RUNTIME_MODEL_H

#include <stdbool.h>

#include "runtime/graph.h"
#include "tta/runtime.h"

struct tta_model {
    tta_graph graph;
    char *name; /* path or caller-given name, for messages */
    bool rewrites; /* graph rewrites on (not tta_model_options.no_rewrites): plans may fuse too */
};

#endif
