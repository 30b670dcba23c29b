/* dist.c - see dist.h. With TTA_WITH_MPI the collectives go through MPI (Open MPI or any MPI-3
 * library); without it this is the single-process case. Only this file includes mpi.h.
 *
 * Waiting: MPI libraries wait by spinning, which takes a core from the ranks still computing on
 * the same machine (a rank done early would slow the others down). Every collective here is
 * the non-blocking form, tested between short sleeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dist.h"

void dist_range_of(int rank, int64_t n, int chunk, int64_t *begin, int64_t *end) {
    int64_t chunks = n > 0 ? (n + chunk - 1) / chunk : 0, size = dist_size();
    int64_t c0 = chunks * rank / size, c1 = chunks * (rank + 1) / size;
    *begin = c0 * chunk < n ? c0 * chunk : n;
    *end = c1 * chunk < n ? c1 * chunk : n;
}

void dist_range(int64_t n, int chunk, int64_t *begin, int64_t *end) {
    dist_range_of(dist_rank(), n, chunk, begin, end);
}

int dist_leave(void) { return dist_rank() != 0; }

#ifndef TTA_WITH_MPI

/* A launcher's rank count, when this process was started by one. */
static int launched_size(void) {
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1) return atoi(v);
    }
    return 1;
}

int dist_init(int *argc, char ***argv) {
    (void)argc, (void)argv;
    int n = launched_size();
    if (n > 1) { /* every rank would run the whole job and write the same files */
        fprintf(
            stderr,
            "tta: started as one of %d MPI ranks, but this tta was built without MPI (install libopenmpi-dev "
            "and rebuild, or run it without mpirun)\n",
            n);
        return 1;
    }
    return 0;
}
int dist_finish(int rc) { return rc; }
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
int dist_any_failed(int rc, const char *what) {
    (void)what;
    return rc != 0;
}
int dist_allgather_rows(void *buf, size_t row_bytes, int64_t n, int chunk) {
    (void)buf, (void)row_bytes, (void)n, (void)chunk;
    return 0;
}
int dist_allgather_bytes(const void *mine, size_t len, void **all, size_t *lens) {
    *all = malloc(len ? len : 1);
    if (!*all) {
        fprintf(stderr, "tta: out of memory\n");
        return 1;
    }
    memcpy(*all, mine, len);
    lens[0] = len;
    return 0;
}
int dist_allreduce_sum_i64(int64_t *v, size_t n) {
    (void)v, (void)n;
    return 0;
}
int dist_allreduce_max_int(int *v) {
    (void)v;
    return 0;
}
int dist_bcast(void *buf, size_t bytes) {
    (void)buf, (void)bytes;
    return 0;
}

#else /* TTA_WITH_MPI */

#include <limits.h>
#include <mpi.h>
#include <omp.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

static int g_on; /* MPI initialised */
static int g_rank, g_size = 1;
static int g_agreed;   /* every rank knows that one failed (dist_any_failed said so) */
static MPI_Comm g_fin; /* dist_finish's own communicator: never confused with a phase's */

/* How long a rank whose failure nobody else knows of waits for the others at the end before it
 * stops the job: they are in a collective it will never join. */
#define ORPHAN_WAIT_S 10.0

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Waits for req, sleeping 1 ms between tests; 1 when `limit` seconds (> 0) pass first. */
static int wait_sleeping(MPI_Request *req, double limit) {
    double t0 = now_s();
    struct timespec nap = {0, 1000000};
    for (;;) {
        int done = 0;
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done) return 0;
        if (limit > 0 && now_s() - t0 > limit) return 1;
        nanosleep(&nap, NULL);
    }
}

static int launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMI_RANK") || getenv("PMIX_RANK");
}

/* Each rank's share of this machine's cores, when several ranks run on it. */
static void share_cores(void) {
    MPI_Comm local;
    int n_local = 1;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
        MPI_Comm_size(local, &n_local);
        MPI_Comm_free(&local);
    }
    const char *t = getenv("TTA_THREADS"), *o = getenv("OMP_NUM_THREADS");
    if (n_local < 2 || (t && *t) || (o && *o)) return;
    cpu_set_t set;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int mask = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)online;
    /* bound by the launcher (mpirun binds to cores by default): the mask is at most our share */
    int per = (int)(online / n_local);
    per = per < mask ? per : mask;
    per = per < 1 ? 1 : per;
    char buf[16];
    snprintf(buf, sizeof buf, "%d", per);
    setenv("TTA_THREADS", buf, 1); /* the runtime's default (src/runtime/plan.c) */
    omp_set_num_threads(per);      /* and OpenMP's, for the loops outside the model */
    if (g_rank == 0)
        fprintf(
            stderr,
            "tta: %d MPI ranks, %d on this machine (%ld cores): %d thread%s per rank (--threads to change)\n",
            g_size, n_local, online, per, per > 1 ? "s" : "");
}

int dist_init(int *argc, char ***argv) {
    if (!launched()) return 0;
    int provided = 0;
    /* only the main thread calls MPI; OpenMP threads never do */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "tta: MPI could not start\n");
        return 1;
    }
    g_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm_dup(MPI_COMM_WORLD, &g_fin);
    if (g_rank != 0 && !freopen("/dev/null", "w", stdout)) fclose(stdout); /* rank 0 alone reports */
    share_cores();
    return 0;
}

int dist_finish(int rc) {
    if (!g_on) return rc;
    MPI_Request req;
    MPI_Ibarrier(g_fin, &req);
    if (wait_sleeping(&req, rc && !g_agreed ? ORPHAN_WAIT_S : 0)) {
        fprintf(stderr, "tta: rank %d of %d failed while the other ranks were still at work; stopping them\n",
                g_rank, g_size);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    MPI_Comm_free(&g_fin);
    MPI_Finalize();
    return rc;
}

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }

/* An MPI call that failed: MPI's default handler aborts first, so this is for other handlers. */
static int mpi_bad(int err, const char *what) {
    if (err == MPI_SUCCESS) return 0;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(err, msg, &len);
    fprintf(stderr, "tta: rank %d: %s: %s\n", g_rank, what, msg);
    return 1;
}

int dist_any_failed(int rc, const char *what) {
    if (!g_on) return rc != 0;
    int mine = rc ? g_rank : g_size, first = g_size;
    MPI_Request req;
    if (mpi_bad(MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req), "MPI_Iallreduce"))
        return 1;
    wait_sleeping(&req, 0);
    if (first == g_size) return 0;
    g_agreed = 1;
    if (g_rank == 0 && !rc)
        fprintf(stderr, "tta: %s: rank %d of %d failed (its message is above); every rank stops\n", what,
                first, g_size);
    return 1;
}

int dist_allgather_rows(void *buf, size_t row_bytes, int64_t n, int chunk) {
    if (!g_on || g_size == 1) return 0;
    if (row_bytes > INT_MAX || n > INT_MAX) {
        fprintf(stderr, "tta: %lld rows of %zu bytes: too large to gather in one step\n", (long long)n,
                row_bytes);
        return 1;
    }
    int *counts = malloc(sizeof(int) * 2 * (size_t)g_size), rc = 0;
    if (!counts) {
        fprintf(stderr, "tta: out of memory\n");
        return 1;
    }
    int *displs = counts + g_size;
    for (int r = 0; r < g_size; r++) {
        int64_t b, e;
        dist_range_of(r, n, chunk, &b, &e);
        counts[r] = (int)(e - b), displs[r] = (int)b;
    }
    MPI_Datatype row;
    MPI_Request req;
    rc = mpi_bad(MPI_Type_contiguous((int)row_bytes, MPI_BYTE, &row), "MPI_Type_contiguous");
    if (!rc) rc = mpi_bad(MPI_Type_commit(&row), "MPI_Type_commit");
    if (!rc)
        rc = mpi_bad(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, row,
                                     MPI_COMM_WORLD, &req),
                     "MPI_Iallgatherv");
    if (!rc) wait_sleeping(&req, 0);
    MPI_Type_free(&row);
    free(counts);
    return rc;
}

int dist_allgather_bytes(const void *mine, size_t len, void **all, size_t *lens) {
    *all = NULL;
    int64_t l = (int64_t)len, *ls = malloc(sizeof(int64_t) * (size_t)g_size);
    int *counts = malloc(sizeof(int) * 2 * (size_t)g_size);
    MPI_Request req;
    int rc = !ls || !counts;
    if (rc) fprintf(stderr, "tta: out of memory\n");
    if (!rc)
        rc = mpi_bad(MPI_Iallgather(&l, 1, MPI_INT64_T, ls, 1, MPI_INT64_T, MPI_COMM_WORLD, &req),
                     "MPI_Iallgather");
    if (!rc) wait_sleeping(&req, 0);
    int64_t total = 0;
    for (int r = 0; !rc && r < g_size; r++) {
        counts[r] = (int)ls[r], counts[g_size + r] = (int)total;
        lens[r] = (size_t)ls[r];
        total += ls[r];
    }
    if (!rc && total > INT_MAX) {
        fprintf(stderr, "tta: %lld bytes of results: too large to gather in one step (use fewer images)\n",
                (long long)total);
        rc = 1;
    }
    if (!rc && !(*all = malloc(total ? (size_t)total : 1))) {
        fprintf(stderr, "tta: out of memory for %lld bytes of results\n", (long long)total);
        rc = 1;
    }
    if (!rc)
        rc = mpi_bad(MPI_Iallgatherv(mine, (int)len, MPI_BYTE, *all, counts, counts + g_size, MPI_BYTE,
                                     MPI_COMM_WORLD, &req),
                     "MPI_Iallgatherv");
    if (!rc) wait_sleeping(&req, 0);
    free(ls);
    free(counts);
    if (rc) {
        free(*all);
        *all = NULL;
    }
    return rc;
}

int dist_allreduce_sum_i64(int64_t *v, size_t n) {
    for (size_t i = 0; g_on && i < n; i += 1 << 26) {
        int cnt = (int)(n - i < (size_t)1 << 26 ? n - i : (size_t)1 << 26);
        MPI_Request req;
        if (mpi_bad(MPI_Iallreduce(MPI_IN_PLACE, v + i, cnt, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD, &req),
                    "MPI_Iallreduce"))
            return 1;
        wait_sleeping(&req, 0);
    }
    return 0;
}

int dist_allreduce_max_int(int *v) {
    if (!g_on) return 0;
    MPI_Request req;
    if (mpi_bad(MPI_Iallreduce(MPI_IN_PLACE, v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &req), "MPI_Iallreduce"))
        return 1;
    wait_sleeping(&req, 0);
    return 0;
}

int dist_bcast(void *buf, size_t bytes) {
    for (size_t i = 0; g_on && i < bytes; i += 1 << 30) {
        int cnt = (int)(bytes - i < (size_t)1 << 30 ? bytes - i : (size_t)1 << 30);
        MPI_Request req;
        if (mpi_bad(MPI_Ibcast((char *)buf + i, cnt, MPI_BYTE, 0, MPI_COMM_WORLD, &req), "MPI_Ibcast"))
            return 1;
        wait_sleeping(&req, 0);
    }
    return 0;
}

#endif
