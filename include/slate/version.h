/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file version.h
 * @brief Compile-time and run-time version of libslate.
 *
 * The build reads the three numbers below from this header, so this is the one
 * place a release changes. The shared library's SONAME carries the major number.
 */
#ifndef SLATE_VERSION_H
#define SLATE_VERSION_H

#include "slate/export.h"

#define SLATE_VERSION_MAJOR 0
#define SLATE_VERSION_MINOR 1
#define SLATE_VERSION_PATCH 0

/** One integer that orders versions: major * 10000 + minor * 100 + patch. */
#define SLATE_VERSION_NUMBER                                                                       \
    (SLATE_VERSION_MAJOR * 10000 + SLATE_VERSION_MINOR * 100 + SLATE_VERSION_PATCH)

#define SLATE_STRINGIFY_(x) #x
#define SLATE_STRINGIFY(x)  SLATE_STRINGIFY_(x)
/** The version as a string literal, "major.minor.patch". */
#define SLATE_VERSION_STRING                                                                       \
    SLATE_STRINGIFY(SLATE_VERSION_MAJOR)                                                           \
    "." SLATE_STRINGIFY(SLATE_VERSION_MINOR) "." SLATE_STRINGIFY(SLATE_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The version of the library actually linked, as SLATE_VERSION_NUMBER.
 *
 * Compare it with SLATE_VERSION_NUMBER to detect a header/library mismatch.
 * Cost: O(1). Never fails.
 */
SLATE_API unsigned slate_version_number(void);

/**
 * @brief The version of the library actually linked, as "major.minor.patch".
 * @return a static string; never NULL. Cost: O(1).
 */
SLATE_API const char *slate_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_VERSION_H */
