/* test.h - a minimal unit-test harness: TEST() registers a function, CHECK*() record failures
 * with file and line, and test_main() runs every test (or those named on the command line)
 * and ends with the line "N passed, N failed". One binary per test file. */
#ifndef TTA_TEST_H
#define TTA_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*test_fn)(void);
struct test_case { const char *name; test_fn fn; };

extern struct test_case test_cases[];
extern int test_count;
extern int test_failures_in_case;

void test_register(const char *name, test_fn fn);

#define TEST(name)                                                                             \
    static void test_##name(void);                                                             \
    __attribute__((constructor)) static void test_register_##name(void) {                      \
        test_register(#name, test_##name);                                                     \
    }                                                                                          \
    static void test_##name(void)

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);         \
            test_failures_in_case++;                                                           \
        }                                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                     \
    do {                                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                                    \
        if (a_ != b_) {                                                                        \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__,  \
                    #a, a_, #b, b_);                                                           \
            test_failures_in_case++;                                                           \
        }                                                                                      \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                  \
    do {                                                                                       \
        double a_ = (double)(a), b_ = (double)(b);                                             \
        if (!(fabs(a_ - b_) <= (tol))) {                                                       \
            fprintf(stderr, "  %s:%d: %s == %.9g, expected %.9g (tol %g)\n", __FILE__,         \
                    __LINE__, #a, a_, b_, (double)(tol));                                      \
            test_failures_in_case++;                                                           \
        }                                                                                      \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                        \
    do {                                                                                       \
        const char *h_ = (hay), *n_ = (needle);                                                \
        if (!h_ || !strstr(h_, n_)) {                                                          \
            fprintf(stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,   \
                    h_ ? h_ : "(null)", n_);                                                   \
            test_failures_in_case++;                                                           \
        }                                                                                      \
    } while (0)

#endif
