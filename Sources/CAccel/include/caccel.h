#ifndef CACCEL_H
#define CACCEL_H
#include <stddef.h>
#include <stdint.h>

// Hardware-accelerated kernels for the hot loops of large transfers, each chosen at run time by CPUID (the
// callers keep a portable Swift version for other CPUs): SHA-256 with the x86 SHA extensions, base64 decoding
// with AVX2.

/// SHA-256's 64 round constants (FIPS 180-4, 4.2.2), shared with the portable Swift version.
const uint32_t *etch_sha256_constants(void);

/// Whether this CPU has the SHA extensions (and SSSE3/SSE4.1) that etch_sha256_blocks_hw uses.
int etch_sha256_hw_available(void);

/// Runs SHA-256's compression function over `blocks` 64-byte blocks at `data`, updating `state` (eight words,
/// a..h). Only to be called when etch_sha256_hw_available() returned 1.
void etch_sha256_blocks_hw(uint32_t state[8], const uint8_t *data, size_t blocks);

/// Whether this CPU (and the OS) supports AVX2, which etch_base64_decode_avx2 uses.
int etch_base64_avx2_available(void);

/// Decodes standard base64 (A-Z a-z 0-9 + /, no padding or other characters) from `src` in blocks of 32
/// characters into 24 bytes each, stopping before the first block holding anything else and before the last
/// 44 characters (each block stores 32 bytes, 8 of them scratch, so `dst` needs room for only the 3/4 of `n`
/// that the whole input decodes to). Returns the characters consumed, a multiple of 32; they decoded to
/// 3/4 as many bytes at `dst`. The caller decodes the rest (the tail, padding, other alphabets, errors).
/// Only to be called when etch_base64_avx2_available() returned 1.
size_t etch_base64_decode_avx2(const uint8_t *src, size_t n, uint8_t *dst);

#endif
