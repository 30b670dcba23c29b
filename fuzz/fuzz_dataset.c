/* fuzz_dataset.c - libFuzzer target: IDX, CIFAR-10, CIFAR-100 and list data sets through data
 * specs (tta_dataset_open), each item read, its label checked against the class count, a slice.
 *
 * Input layout (as the harness of issue 14): byte 0 the kind (mod 4: idx, cifar10, cifar100,
 * list), byte 1 a range suffix from the table below, bytes 2-3 the length of file A
 * (little-endian, clamped), then A, then B. idx/cifar: A and B are the images and labels files
 * (B unused by cifar, which then names a missing second file); list: A is the list file and B an
 * image "img.png" beside it that the list may name. Any file may be gzip-compressed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "tta/dataset.h"

static char pa[128], pb[128], plist[160], pimg[160];
static const char *ranges[] = {"",       "[0:1]", "[-1:]",   "[:]",     "[1:]",  "[:-1]",
                               "[5:2]",  "[0:0]", "[-9223372036854775808:]", "[:9223372036854775807]",
                               "[1:3]",  "[x:1]", "[0:1:2]", "[",       "]",     "[-2:-1]"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char dir[128];
    fuzz_scratch_path(pa, sizeof pa, "a");
    fuzz_scratch_path(pb, sizeof pb, "b");
    fuzz_scratch_path(dir, sizeof dir, "ds");
    mkdir(dir, 0777);
    snprintf(plist, sizeof plist, "%s/list.txt", dir);
    snprintf(pimg, sizeof pimg, "%s/img.png", dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    int kind = data[0] % 4;
    const char *range = ranges[data[1] % (sizeof ranges / sizeof *ranges)];
    size_t la = (size_t)data[2] | ((size_t)data[3] << 8);
    if (la > size - 4) la = size - 4;
    const uint8_t *a = data + 4, *b = a + la;
    size_t lb = size - 4 - la;
    static const char *kinds[] = {"idx", "cifar10", "cifar100"};
    char spec[512];
    if (kind < 3) {
        fuzz_write_file(pa, a, la);
        fuzz_write_file(pb, b, lb);
        snprintf(spec, sizeof spec, "%s:%s,%s%s", kinds[kind], pa, pb, range);
    } else {
        fuzz_write_file(plist, a, la);
        fuzz_write_file(pimg, b, lb);
        snprintf(spec, sizeof spec, "list:%s%s", plist, range);
    }
    tta_dataset *ds = NULL;
    if (tta_dataset_open(&ds, spec) != TTA_OK) return 0;
    int64_t n = tta_dataset_count(ds);
    if (n < 1) {
        fprintf(stderr, "opened data set with %lld items\n", (long long)n);
        abort();
    }
    int nc = tta_dataset_num_classes(ds);
    const int *labels = tta_dataset_labels(ds);
    tta_image img = {0};
    for (int64_t i = 0; i < n && i < 64; i++) {
        int label = -1;
        if (tta_dataset_get(ds, i, &img, &label) != TTA_OK) continue;
        if (label < 0 || label >= nc || labels[i] != label) {
            fprintf(stderr, "label %d outside [0,%d) or differs from labels[]\n", label, nc);
            abort();
        }
        (void)tta_dataset_class_name(ds, label);
        fuzz_touch(img.data, tta_image_nbytes(&img));
    }
    tta_image_destroy(&img);
    if (n > 2) tta_dataset_slice(ds, 1, n - 1);
    tta_dataset_free(ds);
    return 0;
}
