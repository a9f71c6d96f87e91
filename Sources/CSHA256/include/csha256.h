#ifndef CSHA256_H
#define CSHA256_H
#include <stddef.h>
#include <stdint.h>

/// SHA-256's 64 round constants (FIPS 180-4, 4.2.2), shared with the portable Swift version.
const uint32_t *etch_sha256_constants(void);

/// Whether this CPU has the SHA extensions (and SSSE3/SSE4.1) that etch_sha256_blocks_hw uses.
int etch_sha256_hw_available(void);

/// Runs SHA-256's compression function over `blocks` 64-byte blocks at `data`, updating `state` (eight words,
/// a..h). Only to be called when etch_sha256_hw_available() returned 1.
void etch_sha256_blocks_hw(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
