/*
 * slate-controller: durable files. Atomic replacement (write a temporary
 * file, fsync it, rename it over the old one, fsync the directory) and a
 * checked frame around the payload, so a crash at any point leaves either
 * the old file or the new one, and a torn or foreign file is detected.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_PERSIST_H
#define CTL_PERSIST_H

#include <stddef.h>
#include <stdint.h>

/*
 * Frame layout (little-endian):
 *   0  8  magic "SLATECTL"
 *   8  4  format version (CTL_PERSIST_VERSION)
 *  12  4  kind (what the payload is; the caller's tag)
 *  16  8  payload length
 *  24  8  XXH64 of the payload (seed 0)
 *  32  .. payload
 */
#define CTL_PERSIST_VERSION 1u
#define CTL_PERSIST_HEADER  32u

typedef enum ctl_persist_err {
    CTL_PERSIST_OK = 0,
    CTL_PERSIST_EIO = 1,      /* open/read/write/fsync/rename failed; errno kept */
    CTL_PERSIST_ENOENT = 2,   /* no such file */
    CTL_PERSIST_EMAGIC = 3,   /* not one of our files */
    CTL_PERSIST_EVERSION = 4, /* a format version we do not read */
    CTL_PERSIST_EKIND = 5,    /* a different kind of payload */
    CTL_PERSIST_ESIZE = 6,    /* length disagrees with the file, or over the limit */
    CTL_PERSIST_ECHECKSUM = 7 /* payload damaged */
} ctl_persist_err;

const char *ctl_persist_strerror(ctl_persist_err e);

/* Writes `len` bytes to `path` atomically (temp + fsync + rename + fsync dir). */
ctl_persist_err ctl_persist_write_atomic(const char *path, const void *data, size_t len);

/* Frames `payload` and writes it atomically. */
ctl_persist_err ctl_persist_save(const char *path, uint32_t kind, const void *payload, size_t len);

/*
 * Reads and checks a framed file. On success *payload is malloc'd (caller
 * frees) and *len set. Files over `max_len` payload bytes are refused.
 */
ctl_persist_err ctl_persist_load(const char *path, uint32_t kind, size_t max_len, void **payload,
                                 size_t *len);

/*
 * Checks that `dir` exists, is a directory and takes a durable write (a probe
 * file is created, fsynced and removed). Returns 0, or -1 with a sentence in
 * err ("... does not exist", "... is not writable: Permission denied").
 */
int ctl_persist_check_dir(const char *dir, char *err, size_t errcap);

/*
 * Removes the temporary files a crash can leave beside `base` in `dir`
 * (`<base>.tmp.<pid>`, written by ctl_persist_write_atomic). Call at start,
 * before anything writes there. Returns how many were removed.
 */
unsigned ctl_persist_clean_tmp(const char *dir, const char *base);

/* Frames a payload in memory (for tests and fuzzing): out must hold HEADER + len. */
void ctl_persist_frame(uint8_t *out, uint32_t kind, const void *payload, size_t len);
/* Checks a frame in memory; on success *payload points into buf. */
ctl_persist_err ctl_persist_unframe(const uint8_t *buf, size_t buf_len, uint32_t kind,
                                    const uint8_t **payload, size_t *len);

#endif
