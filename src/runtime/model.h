/* model.h - the loaded model behind the opaque tta_model: the graph IR and where it came from. */
#ifndef TTA_RUNTIME_MODEL_H
#define TTA_RUNTIME_MODEL_H

#include "runtime/graph.h"
#include "tta/runtime.h"

struct tta_model {
    tta_graph graph;
    char *name; /* path or caller-given name, for messages */
};

#endif
