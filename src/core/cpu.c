/* cpu.c - which instruction set our own kernels may use, and the channel block of the runtime's
 * blocked layout (see core/cpu.h).
 *
 * The hardware's level (generic x86-64, AVX2+FMA, AVX-512 F/BW/VL/DQ) is capped by TTA_MAX_ISA
 * (generic, avx2, avx512), else by ONEDNN_MAX_CPU_ISA when that is set, so that one variable
 * makes our dispatch follow oneDNN's and one machine can test every path below its own. An
 * unknown value is remembered and reported by tta_cpu_check() (the plan refuses to start),
 * rather than silently ignored (oneDNN's own variables are oneDNN's to judge).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/error.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static tta_isa isa_hw, isa_use;
static int block_forced; /* 8, 16, or 0 */
static char bad_var[24], bad_value[40];

static tta_isa hardware(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    return avx512 ? TTA_ISA_AVX512 : avx2 ? TTA_ISA_AVX2 : TTA_ISA_GENERIC;
#else
    return TTA_ISA_GENERIC;
#endif
}

/* Parses an ISA name (ours or oneDNN's, any case); -1 when unknown. */
static int parse_isa(const char *s) {
    char low[40];
    size_t n = 0;
    for (; s[n] && n + 1 < sizeof low; n++) low[n] = (char)tolower((unsigned char)s[n]);
    low[n] = 0;
    if (s[n]) return -1;
    static const struct {
        const char *name;
        tta_isa isa;
    } names[] = {
        {"generic", TTA_ISA_GENERIC},     {"default", TTA_ISA_GENERIC},    {"sse41", TTA_ISA_GENERIC},
        {"avx", TTA_ISA_GENERIC},         {"avx2", TTA_ISA_AVX2},          {"avx2_vnni", TTA_ISA_AVX2},
        {"avx512", TTA_ISA_AVX512},       {"avx512_core", TTA_ISA_AVX512}, {"avx512_core_vnni", TTA_ISA_AVX512},
        {"avx512_core_bf16", TTA_ISA_AVX512}, {"avx512_core_amx", TTA_ISA_AVX512}, {"all", TTA_ISA_AVX512},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(low, names[i].name)) return (int)names[i].isa;
    return -1;
}

static void remember_bad(const char *var, const char *value) {
    if (bad_var[0]) return;
    strncpy(bad_var, var, sizeof bad_var - 1);
    strncpy(bad_value, value, sizeof bad_value - 1);
}

static void init(void) {
    isa_hw = isa_use = hardware();
    const char *var = "TTA_MAX_ISA", *cap = getenv(var);
    if (!cap || !*cap) cap = getenv(var = "ONEDNN_MAX_CPU_ISA");
    if (!cap || !*cap) cap = getenv(var = "DNNL_MAX_CPU_ISA");
    if (cap && *cap) {
        int c = parse_isa(cap);
        if (c < 0 && !strcmp(var, "TTA_MAX_ISA")) remember_bad(var, cap); /* oneDNN's own: its business */
        else if ((tta_isa)c < isa_use) isa_use = (tta_isa)c;
    }
    const char *b = getenv("TTA_BLOCK");
    if (b && *b) {
        if (!strcmp(b, "8") || !strcmp(b, "16")) block_forced = atoi(b);
        else remember_bad("TTA_BLOCK", b);
    }
}

tta_isa tta_cpu_isa(void) {
    pthread_once(&once, init);
    return isa_use;
}

tta_isa tta_cpu_isa_hardware(void) {
    pthread_once(&once, init);
    return isa_hw;
}

const char *tta_isa_name(tta_isa isa) {
    switch (isa) {
    case TTA_ISA_AVX512: return "avx512";
    case TTA_ISA_AVX2: return "avx2";
    default: return "generic";
    }
}

int tta_cpu_block_forced(void) {
    pthread_once(&once, init);
    return block_forced;
}

tta_status tta_cpu_check(void) {
    pthread_once(&once, init);
    if (!bad_var[0]) return TTA_OK;
    if (!strcmp(bad_var, "TTA_BLOCK"))
        return tta_errorf(TTA_ERR_INVALID_ARG, "TTA_BLOCK='%s': the channel block must be 8 or 16", bad_value);
    return tta_errorf(TTA_ERR_INVALID_ARG, "%s='%s': unknown instruction set (use generic, avx2 or avx512)", bad_var,
                      bad_value);
}
