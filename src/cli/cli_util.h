/* cli_util.h - helpers shared by the subcommands: policies from presets, text or files,
 * class names from model metadata, and the one-line error convention. */
#ifndef TTA_CLI_UTIL_H
#define TTA_CLI_UTIL_H

#include <stdio.h>

#include "tta/augment.h"
#include "tta/classify.h"
#include "tta/runtime.h"

/* P is a preset name, policy text, or the path of a policy file ("@FILE" forces a file). */
int cli_load_policy(const char *arg, tta_policy *pol);
/* "NAME=POLICY" names a table row: returns the policy part and sets *name (malloc'd) to NAME,
 * or to the whole argument when it has no name. A name is plain words (letters, digits, spaces,
 * '_', '-', '+', ','): an '=' inside a transform's arguments, as in fill=0.5, is not a name. */
const char *cli_policy_name(const char *arg, char **name);
/* Class names from metadata tta.class_names (comma-separated); NULL entries when absent.
 * Returns a malloc'd array of k strings (free with cli_free_names). */
char **cli_class_names(const tta_model *m, int k);
void cli_free_names(char **names, int k);
/* Preprocessing overrides from the command line (--layout, --input-size, --scale, --mean,
 * --std); unset fields keep what the model's metadata and input shape say. */
typedef struct cli_format {
    const char *layout, *size, *scale, *mean, *std;
} cli_format;
/* If argv[*i] is one of the flags above (with its value), consumes it and returns 1. */
int cli_format_flag(int argc, char **argv, int *i, cli_format *f);
/* Help text for those flags. */
extern const char *cli_format_help;
/* A classifier for model m with the overrides applied; prints the error and returns 1 on
 * failure. */
int cli_classifier_new(struct tta_classifier **out, const tta_model *m, const cli_format *f, int threads,
                       int max_batch);

/* Writes s as a JSON string literal (quoted, with escapes). */
void cli_json_str(FILE *f, const char *s);

/* Closes an output file written by a command; if the close fails (disk full...), says so and
 * removes the partial file. Returns 0 on success, 1 on failure. */
int cli_close_output(FILE *f, const char *path);

/* Output files are written to PATH.part and renamed into place, so a failed or interrupted run
 * leaves the old file or none. cli_output_open opens PATH.part (*tmp receives its malloc'd name;
 * prints and returns NULL on failure); cli_output_commit closes it and renames it to PATH
 * (prints, removes the part file and returns 1 on failure). */
FILE *cli_output_open(const char *path, char **tmp);
int cli_output_commit(FILE *f, const char *tmp, const char *path);

/* Seconds on the monotonic clock. */
double cli_now(void);
/* The median of n > 0 values (sorts v). */
double cli_median(double *v, int n);

/* The runtime's comparison switches, which the library takes as options and the command reads
 * from the environment: TTA_NO_REWRITES=1 (model option no_rewrites; every command), and
 * TTA_NO_BLOCKED=1 and TTA_NO_WINOGRAD=1 (plan options no_blocked and no_winograd; the commands
 * that make plans themselves: run, bench, conformance). */
const tta_model_options *cli_model_options(void);
void cli_plan_switches(tta_plan_options *opts);

/* Prints "tta: <last error>" to stderr and returns 1. */
int cli_fail(void);

#endif
