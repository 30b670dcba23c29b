/* progress.h - progress of long loops on standard error, the same for every command.
 *
 * On a terminal: one line redrawn in place, a bar with the count, the rate and the time left,
 *     validation [##########..........]  1000/2000 images  812/s  1 s left
 * When standard error is a file or a pipe: a plain line every few seconds (and at the end), so
 * logs stay readable:
 *     validation: 1000/2000 images, 812/s, 1 s left
 * Nothing at all after `tta --quiet` (cli_quiet). */
#ifndef TTA_CLI_PROGRESS_H
#define TTA_CLI_PROGRESS_H

#include <stdbool.h>

/* Set by `tta --quiet ...` (main.c): no progress, no notes. */
extern bool cli_quiet;

typedef struct cli_progress {
    char label[128];
    const char *unit; /* "images" */
    long long total;
    double t0, last; /* start, last drawn (cli_now) */
    bool tty, drawn;
} cli_progress;

/* Starts a progress line for `total` items of `unit` (a static string). */
void cli_progress_start(cli_progress *p, const char *label, long long total, const char *unit);
/* The same for `total` images run through `n_views` views: the label "WHAT, N views", and
 * " (rank 0's share)" when the images are split across MPI ranks. A WHAT too long for the label
 * keeps its start and end around "...". */
void cli_progress_start_views(cli_progress *p, const char *what, int n_views, long long total);
/* `done` of the total are finished: redraws when it is time (a tenth of a second on a terminal,
 * five seconds otherwise) and always when done reaches the total. */
void cli_progress_update(cli_progress *p, long long done);
/* Ends the line (a newline after a terminal bar; the final count when nothing was printed yet). */
void cli_progress_end(cli_progress *p);

/* The text of one progress report, for tests: the bar when `bar`, else the plain line. */
void cli_progress_format(const cli_progress *p, long long done, double elapsed, bool bar, char *buf, int size);

#endif
