/*
 * export.h — CAA_EXPORT marks what libcaa.so exports. libcaa is built with
 * -fvisibility=hidden, so a function without it stays inside the library
 * (tests/lib/symbols.sh checks that the two lists agree).
 */
#ifndef CAA_EXPORT_H
#define CAA_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define CAA_EXPORT __attribute__((visibility("default")))
#else
#define CAA_EXPORT
#endif

#endif
