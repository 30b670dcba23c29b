/* cpu.h - the instruction-set level our own kernels dispatch on, and the forced channel block.
 *
 * Every kernel of ours that is compiled for one instruction set (Winograd, the GEMM
 * micro-kernel, the search's scoring loops) asks tta_cpu_isa() and has a portable path below it.
 * The level is the CPU's, capped by the environment so that one machine tests every path:
 *
 *   TTA_MAX_ISA=generic|avx2|avx512   caps our kernels; the runtime passes the same cap to
 *                                     oneDNN (unless ONEDNN_MAX_CPU_ISA is set itself)
 *   ONEDNN_MAX_CPU_ISA=...            when TTA_MAX_ISA is unset, caps ours as well
 *   TTA_BLOCK=8|16                    forces the channel block of the blocked layout (default:
 *                                     16 with oneDNN at AVX-512, else 8)
 *
 * Values are read once per process. An unknown value is an error reported by tta_cpu_check().
 */
#ifndef TTA_CORE_CPU_H
#define TTA_CORE_CPU_H

#include "tta/status.h"

typedef enum tta_isa { TTA_ISA_GENERIC = 0, TTA_ISA_AVX2 = 1, TTA_ISA_AVX512 = 2 } tta_isa;

/* The level our kernels may use (hardware, capped). */
tta_isa tta_cpu_isa(void);
/* The hardware's own level. */
tta_isa tta_cpu_isa_hardware(void);
/* "generic", "avx2", "avx512". */
const char *tta_isa_name(tta_isa isa);
/* A loop built three times, for the baseline, AVX2 and AVX-512 (the attributes are empty off x86,
 * where the three builds are the same), and the build for this CPU picked once per call:
 *     TTA_TARGET_AVX2 static void f_avx2(...) { body(...); }   (body: static inline, always_inline)
 *     fn = TTA_ISA_PICK(f_generic, f_avx2, f_avx512);
 * Kernels built so compile without FMA contraction (-std=c11), so all builds give the same bits. */
#if defined(__x86_64__) || defined(__i386__)
#define TTA_TARGET_AVX2 __attribute__((target("avx2")))
#define TTA_TARGET_AVX512 __attribute__((target("avx512f")))
#else
#define TTA_TARGET_AVX2
#define TTA_TARGET_AVX512
#endif
#define TTA_ISA_PICK(generic, avx2, avx512)                                                                  \
    (tta_cpu_isa() >= TTA_ISA_AVX512 ? (avx512) : tta_cpu_isa() >= TTA_ISA_AVX2 ? (avx2) : (generic))

/* TTA_BLOCK's value (8 or 16), or 0 when unset. */
int tta_cpu_block_forced(void);
/* TTA_OK, or TTA_ERR_INVALID_ARG with a message naming a bad TTA_MAX_ISA / ONEDNN_MAX_CPU_ISA /
 * TTA_BLOCK value. */
tta_status tta_cpu_check(void);

#endif
