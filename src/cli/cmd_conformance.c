/* cmd_conformance.c - `tta conformance`: runs ONNX backend test cases (a folder holding
 * model.onnx and test_data_set_N/{input_i.pb,output_i.pb}) with the official rule: same dtype,
 * same shape, |got - ref| <= 1e-7 + 1e-3 |ref| (NaN matches NaN).
 *
 * Each case runs in a child process, so a crash is reported as that case's failure and the
 * run goes on. With --expected-failures FILE (lines "suite/case  reason", '#' comments), the
 * exit status is non-zero when a case outside the file fails or a listed case passes.
 * The last line is "N passed, N failed, N skipped" (skipped: cases with no test data). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/tensor_compare.h"
#include "tta/runtime.h"
#include "tta/tensor_io.h"

#define SUITE_ROOT "/usr/share/libonnx-testdata/data"
#define MAX_IO 64
#define CASE_TIMEOUT_S 120

static const char *default_suites[] = {SUITE_ROOT "/node", SUITE_ROOT "/pytorch-converted",
                                       SUITE_ROOT "/pytorch-operator", SUITE_ROOT "/simple"};

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}
static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of subdirectories of dir whose names start with prefix (NULL: all). */
static int list_dirs(const char *dir, const char *prefix, char ***out) {
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d) return -1;
    int n = 0, cap = 0;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (prefix && strncmp(e->d_name, prefix, strlen(prefix))) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!is_dir(path)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, sizeof(char *) * (size_t)cap);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(char *), cmp_str);
    *out = names;
    return n;
}

static void free_list(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Runs one case in this process. Returns 0 pass, 1 fail, 2 skip; why gets the reason. */
static const char *model_override; /* --model: the model of every case */

static int run_case(const char *dir, char *why, size_t size) {
    char path[4096];
    if (model_override) snprintf(path, sizeof path, "%s", model_override);
    else snprintf(path, sizeof path, "%s/model.onnx", dir);
    char **sets;
    int n_sets = list_dirs(dir, "test_data_set_", &sets);
    if (n_sets <= 0) {
        snprintf(why, size, "no test_data_set_* folders");
        free_list(sets, n_sets > 0 ? n_sets : 0);
        return 2;
    }
    tta_model *m;
    if (tta_model_load(path, cli_model_options(), &m)) {
        snprintf(why, size, "%s", tta_last_error());
        free_list(sets, n_sets);
        return 1;
    }
    int result = 0;
    for (int s = 0; s < n_sets && result == 0; s++) {
        tta_tensor in[MAX_IO], ref[MAX_IO];
        memset(in, 0, sizeof in);
        memset(ref, 0, sizeof ref);
        int n_in = 0, n_ref = 0;
        tta_plan *p = NULL;
        for (; n_in < MAX_IO; n_in++) {
            snprintf(path, sizeof path, "%s/%s/input_%d.pb", dir, sets[s], n_in);
            if (!is_file(path)) break;
            if (tta_tensor_read_pb(path, &in[n_in], NULL)) {
                snprintf(why, size, "%s", tta_last_error());
                result = 1;
                goto next;
            }
        }
        for (; n_ref < MAX_IO; n_ref++) {
            snprintf(path, sizeof path, "%s/%s/output_%d.pb", dir, sets[s], n_ref);
            if (!is_file(path)) break;
            if (tta_tensor_read_pb(path, &ref[n_ref], NULL)) {
                snprintf(why, size, "%s", tta_last_error());
                result = 1;
                goto next;
            }
        }
        tta_plan_options po = {0};
        cli_plan_switches(&po);
        if (tta_plan_new(m, in, n_in, &po, &p) || tta_plan_run(p, in, n_in)) {
            snprintf(why, size, "%s", tta_last_error());
            result = 1;
            goto next;
        }
        if (n_ref != tta_plan_n_outputs(p)) {
            snprintf(why, size, "%d reference outputs but the model has %d", n_ref, tta_plan_n_outputs(p));
            result = 1;
            goto next;
        }
        for (int o = 0; o < n_ref && result == 0; o++) {
            if (!tta_tensor_allclose(tta_plan_output(p, o), &ref[o], 1e-3, 1e-7, why, size)) {
                size_t l = strlen(why);
                snprintf(why + l, size - l, " (output %d)", o);
                result = 1;
            }
        }
        if (result && n_sets > 1) {
            size_t l = strlen(why);
            snprintf(why + l, size - l, " (%s)", sets[s]);
        }
    next:
        tta_plan_free(p);
        for (int i = 0; i < n_in; i++) tta_tensor_destroy(&in[i]);
        for (int i = 0; i < n_ref; i++) tta_tensor_destroy(&ref[i]);
    }
    tta_model_free(m);
    free_list(sets, n_sets);
    return result;
}

/* Runs a case in a child; a crash or timeout is a failure with its reason. */
static int run_case_isolated(const char *dir, int fork_cases, char *why, size_t size) {
    if (!fork_cases) return run_case(dir, why, size);
    int fds[2];
    if (pipe(fds) != 0) return run_case(dir, why, size);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return run_case(dir, why, size);
    }
    if (pid == 0) {
        close(fds[0]);
        alarm(CASE_TIMEOUT_S);
        char msg[1024] = "";
        int r = run_case(dir, msg, sizeof msg);
        ssize_t w = write(fds[1], msg, strlen(msg));
        (void)w;
        close(fds[1]);
        _exit(r);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t r;
    while (got < size - 1 && (r = read(fds[0], why + got, size - 1 - got)) > 0) got += (size_t)r;
    why[got] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) <= 2) return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        snprintf(why, size, "crashed with signal %d%s", WTERMSIG(status),
                 WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    else
        snprintf(why, size, "exited with status %d (sanitizer report?)", WEXITSTATUS(status));
    return 1;
}

typedef struct expected {
    char **names;
    char **reasons;
    int n;
    int *seen;
} expected;

static int load_expected(const char *path, expected *e) {
    FILE *f = fopen(path, "r");
    memset(e, 0, sizeof *e);
    if (!f) return -1;
    char line[2048];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || !*p) continue;
        char *end = p;
        while (*end && *end != ' ' && *end != '\t' && *end != '\n') end++;
        char *reason = end;
        if (*reason) *reason++ = '\0';
        while (*reason == ' ' || *reason == '\t') reason++;
        reason[strcspn(reason, "\n")] = '\0';
        if (e->n == cap) {
            cap = cap ? 2 * cap : 256;
            e->names = realloc(e->names, sizeof(char *) * (size_t)cap);
            e->reasons = realloc(e->reasons, sizeof(char *) * (size_t)cap);
        }
        e->names[e->n] = strdup(p);
        e->reasons[e->n++] = strdup(reason);
    }
    fclose(f);
    e->seen = calloc((size_t)e->n + 1, sizeof(int));
    return 0;
}

static int find_expected(const expected *e, const char *name) {
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->names[i], name)) return i;
    return -1;
}

static int usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta conformance [-v] [--expected-failures FILE] [--write-failures FILE] [--no-fork] [DIR...]\n\n"
            "Runs ONNX backend test cases. Each DIR is a case (holding model.onnx) or a suite of case\n"
            "folders. Default: Debian's libonnx-testdata suites node/, pytorch-converted/,\n"
            "pytorch-operator/ and simple/ under " SUITE_ROOT ".\n"
            "A case passes when every output has the reference dtype and shape and\n"
            "|got - ref| <= 1e-7 + 1e-3 |ref| for every element.\n\n"
            "  -v                       print every case with its result and the reason of failures\n"
            "  --expected-failures FILE fail (exit 1) if a case outside FILE fails or a listed case passes\n"
            "  --write-failures FILE    write the failing cases with their reasons, in that format\n"
            "  --no-fork                run cases in this process (for debuggers)\n"
            "  --model FILE             use FILE for every case (case folders then need only\n"
            "                           test_data_set_N/, as in models/refs/)\n"
            "Ends with the line \"N passed, N failed, N skipped\".\n");
    return code;
}

int tta_cmd_conformance(int argc, char **argv) {
    int verbose = 0, fork_cases = 1;
    const char *expected_path = NULL, *write_path = NULL;
    const char *dirs[256];
    int n_dirs = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout, 0);
        if (!strcmp(argv[i], "-v")) verbose = 1;
        else if (!strcmp(argv[i], "--no-fork")) fork_cases = 0;
        else if (!strcmp(argv[i], "--expected-failures") && i + 1 < argc) expected_path = argv[++i];
        else if (!strcmp(argv[i], "--write-failures") && i + 1 < argc) write_path = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) model_override = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "tta: conformance: unknown option '%s'\n", argv[i]);
            return usage(stderr, 2);
        } else if (n_dirs < 256) {
            dirs[n_dirs++] = argv[i];
        } else {
            fprintf(stderr, "tta: conformance: too many folders (max 256); pass their parent instead\n");
            return 2;
        }
    }
    if (n_dirs == 0)
        for (size_t i = 0; i < sizeof default_suites / sizeof default_suites[0]; i++) dirs[n_dirs++] = default_suites[i];

    expected exp = {0};
    if (expected_path && load_expected(expected_path, &exp) != 0) {
        fprintf(stderr, "tta: %s: cannot read expected-failures file\n", expected_path);
        return 1;
    }
    FILE *wf = NULL;
    char *wf_tmp = NULL; /* the list goes to PATH.part, renamed into place when whole */
    if (write_path && !(wf = cli_output_open(write_path, &wf_tmp))) return 1;
    int passed = 0, failed = 0, skipped = 0, unexpected_fail = 0, unexpected_pass = 0;
    for (int d = 0; d < n_dirs; d++) {
        char model[4096];
        snprintf(model, sizeof model, "%s/model.onnx", dirs[d]);
        char **cases = NULL, **sets = NULL;
        int n_cases, n_sets = model_override ? list_dirs(dirs[d], "test_data_set_", &sets) : 0;
        free_list(sets, n_sets > 0 ? n_sets : 0);
        char parent[4096];
        if (is_file(model) || n_sets > 0) { /* a single case */
            n_cases = 1;
            cases = malloc(sizeof(char *));
            const char *slash = strrchr(dirs[d], '/');
            cases[0] = strdup(slash ? slash + 1 : dirs[d]);
            snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - dirs[d]) : 1, slash ? dirs[d] : ".");
        } else {
            n_cases = list_dirs(dirs[d], NULL, &cases);
            if (n_cases < 0) {
                fprintf(stderr, "tta: %s: not a test case or suite folder\n", dirs[d]);
                return 1;
            }
            snprintf(parent, sizeof parent, "%s", dirs[d]);
        }
        const char *suite = strrchr(parent, '/') ? strrchr(parent, '/') + 1 : parent;
        for (int c = 0; c < n_cases; c++) {
            char dir[8300], name[4400], why[1024] = "";
            snprintf(dir, sizeof dir, "%s/%s", parent, cases[c]);
            snprintf(name, sizeof name, "%s/%s", suite, cases[c]);
            int r = run_case_isolated(dir, fork_cases, why, sizeof why);
            for (char *q = why; *q; q++)
                if (*q == '\n') *q = ' ';
            int ei = expected_path ? find_expected(&exp, name) : -1;
            if (ei >= 0) exp.seen[ei] = 1;
            if (r == 0) {
                passed++;
                if (ei >= 0) {
                    unexpected_pass++;
                    printf("UNEXPECTED PASS %s (listed as: %s)\n", name, exp.reasons[ei]);
                } else if (verbose) {
                    printf("PASS %s\n", name);
                }
            } else if (r == 2) {
                skipped++;
                if (verbose) printf("SKIP %s: %s\n", name, why);
            } else {
                failed++;
                if (wf) fprintf(wf, "%s  %s\n", name, why);
                if (expected_path && ei < 0) {
                    unexpected_fail++;
                    printf("FAIL %s: %s\n", name, why);
                } else if (verbose) {
                    printf("FAIL %s: %s%s\n", name, why, ei >= 0 ? " (expected)" : "");
                }
            }
            fflush(stdout);
        }
        free_list(cases, n_cases);
    }
    int write_failed = wf && cli_output_commit(wf, wf_tmp, write_path);
    free(wf_tmp);
    int rc = failed ? 1 : 0;
    if (expected_path) {
        printf("expected failures: %d listed, %d unexpected failures, %d unexpected passes\n", exp.n, unexpected_fail,
               unexpected_pass);
        rc = unexpected_fail || unexpected_pass ? 1 : 0;
        for (int i = 0; i < exp.n; i++) {
            free(exp.names[i]);
            free(exp.reasons[i]);
        }
        free(exp.names);
        free(exp.reasons);
        free(exp.seen);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return write_failed ? 1 : rc;
}
