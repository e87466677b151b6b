// Hot loops are compiled three times (baseline x86-64, v3 with AVX2 and FMA, v4 with AVX-512)
// and the loader picks the copy the CPU runs, so a portable build still uses the wide units.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MAYA_KERNEL_CLONES \
  __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define MAYA_KERNEL_CLONES
#endif
