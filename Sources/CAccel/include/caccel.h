#ifndef CACCEL_H
#define CACCEL_H
#include <stddef.h>
#include <stdint.h>

// Hardware-accelerated kernels for the hot loops of large transfers, each chosen at run time by CPUID (the
// callers keep a portable Swift version for other CPUs): SHA-256 with the x86 SHA extensions, base64 decoding
// and encoding with AVX2.

/// SHA-256's 64 round constants (FIPS 180-4, 4.2.2), shared with the portable Swift version.
const uint32_t *etch_sha256_constants(void);

/// Whether this CPU has the SHA extensions (and SSSE3/SSE4.1) that etch_sha256_blocks_hw uses.
int etch_sha256_hw_available(void);

/// Runs SHA-256's compression function over `blocks` 64-byte blocks at `data`, updating `state` (eight words,
/// a..h). Only to be called when etch_sha256_hw_available() returned 1.
void etch_sha256_blocks_hw(uint32_t state[8], const uint8_t *data, size_t blocks);

/// Whether this CPU (and the OS) supports AVX2, which the etch_base64_*_avx2 functions use.
int etch_base64_avx2_available(void);

/// Decodes standard base64 (A-Z a-z 0-9 + /, no padding or other characters) from `src` in blocks of 32
/// characters into 24 bytes each, then at most one block of 16 into 12, stopping before the first block holding
/// anything else and before fewer than 16 characters remain (`dst` needs room for only the 3/4 of `n` that the
/// whole input decodes to). Returns the characters consumed, a multiple of 16; they decoded to 3/4 as many bytes
/// at `dst`. The caller decodes the
/// rest (the tail, padding, other alphabets, errors). Only to be called when etch_base64_avx2_available()
/// returned 1.
size_t etch_base64_decode_avx2(const uint8_t *src, size_t n, uint8_t *dst);

/// Encodes `src` as standard base64 in blocks of 24 bytes into 32 characters each, while at least 28 bytes
/// remain (each block reads four bytes past its own). Returns the bytes consumed, a multiple of 24; they were
/// encoded to 4/3 as many characters at `dst`. The caller encodes the rest, padding included. Only to be
/// called when etch_base64_avx2_available() returned 1.
size_t etch_base64_encode_avx2(const uint8_t *src, size_t n, uint8_t *dst);

#endif
