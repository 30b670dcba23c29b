/* report_cli.h - what the commands share to write their --report: the classification examples
 * (images TTA corrected or broke, with every view as the model saw it and each view's own
 * prediction), gathered from the predictions a command already has, and the atomic write of a
 * report file (PATH.part, renamed into place only when the whole page was written). */
#ifndef TTA_CLI_REPORT_CLI_H
#define TTA_CLI_REPORT_CLI_H

#include "report/report.h"
#include "tta/augment.h"
#include "tta/dataset.h"

#define CLI_MAX_EXAMPLES 8   /* of each kind: corrected, broken */
#define CLI_EXAMPLE_VIEWS 12 /* views shown per example (policies with more show their first 12) */

typedef struct cli_examples {
    int n, total;
    tta_report_example ex[CLI_MAX_EXAMPLES];
    tta_image views[CLI_MAX_EXAMPLES][CLI_EXAMPLE_VIEWS];
    const char *names[CLI_MAX_EXAMPLES][CLI_EXAMPLE_VIEWS];
    const char *preds[CLI_MAX_EXAMPLES][CLI_EXAMPLE_VIEWS];
    char name_text[CLI_MAX_EXAMPLES][CLI_EXAMPLE_VIEWS][96];
    char pred_text[CLI_MAX_EXAMPLES][CLI_EXAMPLE_VIEWS][64];
    char truth[CLI_MAX_EXAMPLES][64], single[CLI_MAX_EXAMPLES][80], merged[CLI_MAX_EXAMPLES][80];
} cli_examples;

/* The images of ds that the merged prediction corrected (corrected = 1: one pass wrong, merged
 * right) or broke (0: the reverse), the first CLI_MAX_EXAMPLES in data order. base and merged:
 * n x k probabilities. Each view's own probabilities of image i, view j of pol are at
 * view_probs + i * image_stride + sel[j] * view_stride. class_names may be NULL or hold NULLs
 * (then the data set's names, else "class N"). Returns 1 after printing an error. */
int cli_examples_collect(cli_examples *out, int corrected, const tta_dataset *ds, const tta_policy *pol,
                         const float *base, const float *merged, const float *view_probs, size_t image_stride,
                         size_t view_stride, const int *sel, int k, char *const *class_names);
void cli_examples_destroy(cli_examples *e);

/* Checks early, before a long run, that PATH can be written (creates and removes PATH.part);
 * prints the error and returns 1 when it cannot. */
int cli_report_check(const char *path);

/* The report at path: write(f, data) into PATH.part, then renamed into place. On failure the
 * part file is removed and the error printed; returns 0 or 1. */
int cli_report_write(const char *path, tta_status (*write)(FILE *f, const void *data), const void *data);

#endif
