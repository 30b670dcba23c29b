/* cmd_compare.c - `tta compare GOT REF [--rtol R] [--atol A]`: compares two tensor files (.pb or
 * .npy) with the ONNX backend-test rule; exit 0 when they match, 1 with the first mismatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/tensor_compare.h"
#include "tta/tensor_io.h"

int tta_cmd_compare(int argc, char **argv) {
    const char *files[2];
    int n = 0;
    double rtol = 1e-3, atol = 1e-7;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: tta compare GOT REF [--rtol R] [--atol A]\n\n"
                   "Compares two tensors (.pb TensorProto or .npy): same dtype and shape, and\n"
                   "|got - ref| <= atol + rtol |ref| (defaults 1e-7 and 1e-3, the ONNX test rule).\n");
            return 0;
        }
        if (!strcmp(argv[i], "--rtol") && i + 1 < argc) rtol = atof(argv[++i]);
        else if (!strcmp(argv[i], "--atol") && i + 1 < argc) atol = atof(argv[++i]);
        else if (argv[i][0] != '-' && n < 2) files[n++] = argv[i];
        else {
            fprintf(stderr, "tta: compare: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (n != 2) {
        fprintf(stderr, "usage: tta compare GOT REF [--rtol R] [--atol A]\n");
        return 2;
    }
    tta_tensor a = {0}, b = {0};
    if (tta_tensor_read_file(files[0], &a) || tta_tensor_read_file(files[1], &b)) {
        fprintf(stderr, "tta: %s\n", tta_last_error());
        tta_tensor_destroy(&a);
        return 1;
    }
    char why[512];
    int ok = tta_tensor_allclose(&a, &b, rtol, atol, why, sizeof why);
    if (ok) printf("match\n");
    else fprintf(stderr, "tta: %s differs from %s: %s\n", files[0], files[1], why);
    tta_tensor_destroy(&a);
    tta_tensor_destroy(&b);
    return ok ? 0 : 1;
}
