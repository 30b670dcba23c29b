/* progress.c - see progress.h: one progress display for every command's long loops. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_util.h"
#include "cli/dist.h"
#include "cli/progress.h"

bool cli_quiet = false;

#define BAR 20

void cli_progress_start(cli_progress *p, const char *label, long long total, const char *unit) {
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->unit = unit ? unit : "items";
    p->total = total > 0 ? total : 0;
    p->t0 = p->last = cli_now();
    p->tty = isatty(fileno(stderr));
}

void cli_progress_start_views(cli_progress *p, const char *what, int n_views, long long total) {
    char label[sizeof p->label], tail[64];
    snprintf(tail, sizeof tail, ", %d views%s", n_views, dist_size() > 1 ? " (rank 0's share)" : "");
    /* a long WHAT (a model's path in a deep folder) loses its middle, never the tail */
    int room = (int)(sizeof label - 1 - strlen(tail)), len = (int)strlen(what);
    if (len <= room) snprintf(label, sizeof label, "%s%s", what, tail);
    else {
        int head = (room - 3) / 2, end = room - 3 - head;
        snprintf(label, sizeof label, "%.*s...%s%s", head, what, what + len - end, tail);
    }
    cli_progress_start(p, label, total, "images");
}

/* "12 s", "3 min 5 s", "1 h 2 min" */
static void format_duration(double s, char *buf, int size) {
    long t = (long)(s + 0.5);
    if (t < 60) snprintf(buf, (size_t)size, "%ld s", t);
    else if (t < 3600) snprintf(buf, (size_t)size, "%ld min %ld s", t / 60, t % 60);
    else snprintf(buf, (size_t)size, "%ld h %ld min", t / 3600, t % 3600 / 60);
}

void cli_progress_format(const cli_progress *p, long long done, double elapsed, bool bar, char *buf, int size) {
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char rate_text[32] = "", left[48] = "";
    if (rate > 0) snprintf(rate_text, sizeof rate_text, rate >= 10 ? "%.0f/s" : "%.1f/s", rate);
    if (rate > 0 && done < p->total) {
        char d[32];
        format_duration((double)(p->total - done) / rate, d, sizeof d);
        snprintf(left, sizeof left, "%s left", d);
    } else if (done >= p->total) {
        char d[32];
        format_duration(elapsed, d, sizeof d);
        snprintf(left, sizeof left, "in %s", d);
    }
    if (bar) {
        char cells[BAR + 1];
        int full = p->total > 0 ? (int)(BAR * (done < p->total ? done : p->total) / p->total) : BAR;
        for (int i = 0; i < BAR; i++) cells[i] = i < full ? '#' : '.';
        cells[BAR] = '\0';
        snprintf(buf, (size_t)size, "%s [%s] %lld/%lld %s  %s  %s", p->label, cells, done, p->total, p->unit,
                 rate_text, left);
    } else {
        snprintf(buf, (size_t)size, "%s: %lld/%lld %s%s%s%s%s", p->label, done, p->total, p->unit,
                 rate_text[0] ? ", " : "", rate_text, left[0] ? ", " : "", left);
    }
}

void cli_progress_update(cli_progress *p, long long done) {
    if (cli_quiet) return;
    double t = cli_now();
    bool end = done >= p->total;
    if (!end && t - p->last < (p->tty ? 0.1 : 5.0)) return;
    char line[256];
    cli_progress_format(p, done, t - p->t0, p->tty, line, sizeof line);
    if (p->tty) fprintf(stderr, "\r%s\033[K", line); /* \033[K: clear what a longer line left */
    else fprintf(stderr, "%s\n", line);
    p->last = t;
    p->drawn = true;
}

void cli_progress_end(cli_progress *p) {
    if (cli_quiet) return;
    if (p->tty && p->drawn) fprintf(stderr, "\n");
}
