/* cli_util.h - helpers shared by the subcommands: policies from presets, text or files,
 * class names from model metadata, and the one-line error convention. */
#ifndef TTA_CLI_UTIL_H
#define TTA_CLI_UTIL_H

#include "tta/augment.h"
#include "tta/runtime.h"

/* P is a preset name, policy text, or the path of a policy file ("@FILE" forces a file). */
int cli_load_policy(const char *arg, tta_policy *pol);
/* Class names from metadata tta.class_names (comma-separated); NULL entries when absent.
 * Returns a malloc'd array of k strings (free with cli_free_names). */
char **cli_class_names(const tta_model *m, int k);
void cli_free_names(char **names, int k);
/* Prints "tta: <last error>" to stderr and returns 1. */
int cli_fail(void);

#endif
