/* test_main.c - runs the tests registered with TEST() and prints "N passed, N failed". */
#include "test.h"

struct test_case test_cases[1024];
int test_count;
int test_failures_in_case;

void test_register(const char *name, test_fn fn) {
    if (test_count < 1024) test_cases[test_count++] = (struct test_case){name, fn};
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    for (int i = 0; i < test_count; i++) {
        if (argc > 1) {
            int wanted = 0;
            for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], test_cases[i].name) == 0;
            if (!wanted) continue;
        }
        test_failures_in_case = 0;
        test_cases[i].fn();
        if (test_failures_in_case) {
            fprintf(stderr, "FAIL %s\n", test_cases[i].name);
            failed++;
        } else {
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
