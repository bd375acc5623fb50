/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file export.h
 * @brief Symbol visibility and attribute macros shared by every public header.
 *
 * The library is compiled with hidden visibility by default; only declarations
 * marked `SLATE_API` are exported from `libslate.so`. Define `SLATE_STATIC_DEFINE`
 * to make `SLATE_API` expand to nothing (for example when compiling the sources
 * straight into another program).
 */
#ifndef SLATE_EXPORT_H
#define SLATE_EXPORT_H

#if defined(SLATE_STATIC_DEFINE)
#define SLATE_API
#elif defined(_WIN32)
#if defined(SLATE_BUILDING)
#define SLATE_API __declspec(dllexport)
#else
#define SLATE_API
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define SLATE_API __attribute__((visibility("default")))
#else
#define SLATE_API
#endif

/** Warn when a caller ignores a returned status. */
#if defined(__GNUC__) || defined(__clang__)
#define SLATE_NODISCARD __attribute__((warn_unused_result))
#else
#define SLATE_NODISCARD
#endif

#endif /* SLATE_EXPORT_H */
