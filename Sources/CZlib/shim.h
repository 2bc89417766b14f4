#ifndef SLOTWORKER_CZLIB_SHIM_H
#define SLOTWORKER_CZLIB_SHIM_H
// zlib.h is found through pkg-config (zlib.pc, Debian package zlib1g-dev).
#include <zlib.h>

/* deflateInit2 is a macro (Swift does not import function-like macros): start a raw deflate stream that writes a
 * gzip wrapper (RFC 1952; windowBits 15 + 16) at `level` (1 = fastest … 9 = smallest), 8 as memLevel (zlib's
 * default), the default strategy. Returns Z_OK or a zlib error code. */
static inline int slotworker_deflate_init_gzip(z_stream *stream, int level)
{
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/* A raw deflate stream (no wrapper; windowBits -15) at `level` with memLevel 4: the chunks of ``GzipChunkCache``
 * are a few kilobytes each, so a smaller hash table costs less to reset per chunk and compresses them as well. */
static inline int slotworker_deflate_init_raw(z_stream *stream, int level)
{
    return deflateInit2(stream, level, Z_DEFLATED, -15, 4, Z_DEFAULT_STRATEGY);
}

#endif
