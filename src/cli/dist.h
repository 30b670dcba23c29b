/* dist.h - the `tta` command across MPI ranks (`mpirun -np K tta eval ...`): which images each
 * rank runs, and the few collective steps that give every rank the tables a single process
 * would have built, byte for byte.
 *
 * The expensive part of eval, search, detect eval and segment eval is running the model over
 * images x views; what follows (merging, metrics, search, bootstrap intervals) is cheap and
 * deterministic. So each rank runs a contiguous block of whole chunks of images (the commands'
 * own CHUNK: the model sees the same batches as in one process, and its outputs depend on the
 * batch they were computed in), the blocks are gathered into every rank, and the rest of the
 * command runs unchanged. Rank 0 alone reports: the other ranks leave before (dist_leave) and
 * never print on stdout or write files.
 *
 * Built with MPI when the Makefile finds it (TTA_WITH_MPI), and then only when the process was
 * started by mpirun (or another PMI launcher): a plain `tta` run never initialises MPI. Without
 * MPI every function below is the single-process case: rank 0 of 1, gathers that do nothing.
 * Every collective returns 0 or 1 after printing an error; a rank that fails inside a phase says
 * so through dist_any_failed, so that all ranks stop together instead of waiting for it. */
#ifndef TTA_CLI_DIST_H
#define TTA_CLI_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Called first in main (after any re-exec): MPI_Init when launched by mpirun, stdout of ranks
 * other than 0 sent to /dev/null, and, when several ranks share a machine and neither
 * TTA_THREADS nor OMP_NUM_THREADS is set, each rank's default thread count set to its share of
 * the cores. Returns 0, or 1 after printing why MPI could not start. */
int dist_init(int *argc, char ***argv);
/* Called last: waits (sleeping, not spinning) until every rank has finished its command, then
 * MPI_Finalize. A rank whose failure the others could not learn of (it failed outside a phase
 * while they wait inside one) aborts the whole job after a few seconds instead of hanging.
 * Returns rc. */
int dist_finish(int rc);

int dist_rank(void);
int dist_size(void);

/* Images [*begin, *end) of this rank: a contiguous block of whole chunks of `chunk` images
 * (the last chunk may be short). Ranks after the last chunk get an empty block. */
void dist_range(int64_t n, int chunk, int64_t *begin, int64_t *end);
/* The same for any rank. */
void dist_range_of(int rank, int64_t n, int chunk, int64_t *begin, int64_t *end);

/* Every rank learns whether any rank failed: rc != 0 on any rank gives 1 on all. Rank 0 names
 * the first failing rank when it was not itself (that rank printed its own error). `what` is the
 * command ("eval"). Waits by sleeping, so a rank done early does not take a core from the others. */
int dist_any_failed(int rc, const char *what);

/* buf holds n rows of row_bytes each; this rank has filled rows dist_range(n, chunk). Afterwards
 * every rank's buf holds every row (MPI_Allgatherv of raw bytes: the same bits). */
int dist_allgather_rows(void *buf, size_t row_bytes, int64_t n, int chunk);
/* Variable-sized pieces: each rank gives `len` bytes at `mine`; *all (malloc'd, free it) receives
 * every rank's bytes in rank order, lens[r] (dist_size() entries) their sizes. */
int dist_allgather_bytes(const void *mine, size_t len, void **all, size_t *lens);
/* Sums n int64 counts over all ranks, in place (integers: the same in any order). */
int dist_allreduce_sum_i64(int64_t *v, size_t n);
/* Largest value of v over all ranks, in place. */
int dist_allreduce_max_int(int *v);
/* Copies `bytes` at buf from rank 0 to every rank. */
int dist_bcast(void *buf, size_t bytes);

/* 1 on ranks other than 0, which leave the command here (their part is done, rank 0 reports);
 * 0 on rank 0 and in a single process. */
int dist_leave(void);

#endif
