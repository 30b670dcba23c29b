/* fuzz_tensor.c - libFuzzer target: tensor files. An input starting with the .npy magic
 * ("\x93NUMPY") is read as .npy, anything else as an ONNX TensorProto (.pb); either way the file
 * is the input's bytes as they are, so any .npy or .pb file is a valid seed or regression case.
 * A tensor that reads must write back and read again to the same dtype, shape and bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "tta/tensor_io.h"

static char path_pb[128], path_npy[128], rt_pb[128], rt_npy[128];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_scratch_path(path_pb, sizeof path_pb, "in.pb");
    fuzz_scratch_path(path_npy, sizeof path_npy, "in.npy");
    fuzz_scratch_path(rt_pb, sizeof rt_pb, "rt.pb");
    fuzz_scratch_path(rt_npy, sizeof rt_npy, "rt.npy");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int npy = size >= 6 && memcmp(data, "\x93NUMPY", 6) == 0;
    const char *path = npy ? path_npy : path_pb;
    fuzz_write_file(path, data, size);
    tta_tensor t;
    char *name = NULL;
    tta_status st = npy ? tta_tensor_read_npy(path, &t) : tta_tensor_read_pb(path, &t, &name);
    if (st == TTA_OK) {
        size_t nb = tta_tensor_nbytes(&t);
        fuzz_touch(t.data, nb);
        const char *p2 = npy ? rt_npy : rt_pb;
        tta_status ws = npy ? tta_tensor_write_npy(p2, &t) : tta_tensor_write_pb(p2, &t, name);
        if (ws == TTA_OK) {
            tta_tensor u;
            if (tta_tensor_read_file(p2, &u) != TTA_OK) {
                fprintf(stderr, "round trip failed: %s\n", tta_last_error());
                abort();
            }
            if (u.dtype != t.dtype || u.ndim != t.ndim || tta_tensor_nbytes(&u) != nb ||
                (nb && memcmp(u.data, t.data, nb))) {
                fprintf(stderr, "round trip mismatch\n");
                abort();
            }
            tta_tensor_destroy(&u);
        }
        tta_tensor_destroy(&t);
    }
    if (name) tta_free(name);
    return 0;
}
