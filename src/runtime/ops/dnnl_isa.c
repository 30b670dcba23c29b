/* dnnl_isa.c - what oneDNN runs on, for the layout pass and `tta --isa`: the channel block of
 * blocked tensors (oneDNN's nChw16c kernels on AVX-512, nChw8c otherwise) and the instruction
 * sets in use. Kept here so that the plan's layout pass sees oneDNN only through kernels and
 * these two calls. */
#include <pthread.h>
#include <stdio.h>

#include <oneapi/dnnl/dnnl.h>

#include "core/cpu.h"
#include "runtime/ops/dnnl_common.h"
#include "tta/runtime.h" /* tta_runtime_isa: public, exported */

/* 16 where oneDNN runs AVX-512 kernels (its nChw16c kernels), else 8; TTA_BLOCK forces either, so
 * an AVX2 machine tests the 16-channel paths too (oneDNN then runs nChw16c with slower kernels). */
static pthread_once_t block_once = PTHREAD_ONCE_INIT;
static int block;
static void block_init(void) {
    tta_dnnl_isa_init();
    int forced = tta_cpu_block_forced();
    block = forced ? forced : dnnl_get_effective_cpu_isa() >= dnnl_cpu_isa_avx512_core ? 16 : 8;
}
int tta_layout_block(void) {
    pthread_once(&block_once, block_init);
    return block;
}

static char isa_text[96];
static pthread_once_t isa_text_once = PTHREAD_ONCE_INIT;
static void isa_text_init(void) {
    int b = tta_layout_block(); /* first: it applies TTA_MAX_ISA to oneDNN */
    const char *dn;
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: dn = "sse41"; break;
    case dnnl_cpu_isa_avx: dn = "avx"; break;
    case dnnl_cpu_isa_avx2: dn = "avx2"; break;
    case dnnl_cpu_isa_avx2_vnni: dn = "avx2_vnni"; break;
    case dnnl_cpu_isa_avx512_core: dn = "avx512_core"; break;
    case dnnl_cpu_isa_avx512_core_vnni: dn = "avx512_core_vnni"; break;
    case dnnl_cpu_isa_avx512_core_bf16: dn = "avx512_core_bf16"; break;
    case dnnl_cpu_isa_avx512_core_amx: dn = "avx512_core_amx"; break;
    default: dn = "other"; break;
    }
    snprintf(isa_text, sizeof isa_text, "%s (oneDNN), %s (tta), block %d", dn, tta_isa_name(tta_cpu_isa()), b);
}
const char *tta_runtime_isa(void) {
    pthread_once(&isa_text_once, isa_text_init);
    return isa_text;
}
