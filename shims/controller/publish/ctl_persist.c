/*
 * slate-controller: durable files.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_persist.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "wire.h"

static const char k_magic[8] = {'S', 'L', 'A', 'T', 'E', 'C', 'T', 'L'};

const char *ctl_persist_strerror(ctl_persist_err e)
{
    switch (e) {
    case CTL_PERSIST_OK:
        return "ok";
    case CTL_PERSIST_EIO:
        return "I/O error";
    case CTL_PERSIST_ENOENT:
        return "no such file";
    case CTL_PERSIST_EMAGIC:
        return "not a slate-controller file (bad magic)";
    case CTL_PERSIST_EVERSION:
        return "unsupported file format version";
    case CTL_PERSIST_EKIND:
        return "file holds a different kind of payload";
    case CTL_PERSIST_ESIZE:
        return "recorded length disagrees with the file";
    case CTL_PERSIST_ECHECKSUM:
        return "checksum mismatch (file damaged)";
    }
    return "unknown error";
}

static int write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

ctl_persist_err ctl_persist_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return CTL_PERSIST_EIO;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return CTL_PERSIST_EIO;
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return CTL_PERSIST_EIO;
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return CTL_PERSIST_EIO;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return CTL_PERSIST_EIO;
    }
    /* The rename is durable only once the directory entry is. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return CTL_PERSIST_EIO;
    int rc = fsync(dfd);
    int e = errno;
    close(dfd);
    errno = e;
    return rc == 0 ? CTL_PERSIST_OK : CTL_PERSIST_EIO;
}

void ctl_persist_frame(uint8_t *out, uint32_t kind, const void *payload, size_t len)
{
    memcpy(out, k_magic, 8);
    slate_wire_put_le32(out + 8, CTL_PERSIST_VERSION);
    slate_wire_put_le32(out + 12, kind);
    slate_wire_put_le64(out + 16, (uint64_t)len);
    slate_wire_put_le64(out + 24, XXH64(payload, len, 0));
    if (len)
        memcpy(out + CTL_PERSIST_HEADER, payload, len);
}

ctl_persist_err ctl_persist_save(const char *path, uint32_t kind, const void *payload, size_t len)
{
    uint8_t *buf = malloc(CTL_PERSIST_HEADER + len);
    if (!buf) {
        errno = ENOMEM;
        return CTL_PERSIST_EIO;
    }
    ctl_persist_frame(buf, kind, payload, len);
    ctl_persist_err e = ctl_persist_write_atomic(path, buf, CTL_PERSIST_HEADER + len);
    free(buf);
    return e;
}

ctl_persist_err ctl_persist_unframe(const uint8_t *buf, size_t buf_len, uint32_t kind,
                                    const uint8_t **payload, size_t *len)
{
    if (buf_len < CTL_PERSIST_HEADER)
        return buf_len >= 8 && memcmp(buf, k_magic, 8) != 0 ? CTL_PERSIST_EMAGIC
                                                            : CTL_PERSIST_ESIZE;
    if (memcmp(buf, k_magic, 8) != 0)
        return CTL_PERSIST_EMAGIC;
    if (slate_wire_get_le32(buf + 8) != CTL_PERSIST_VERSION)
        return CTL_PERSIST_EVERSION;
    if (slate_wire_get_le32(buf + 12) != kind)
        return CTL_PERSIST_EKIND;
    uint64_t n = slate_wire_get_le64(buf + 16);
    if (n != buf_len - CTL_PERSIST_HEADER)
        return CTL_PERSIST_ESIZE;
    if (XXH64(buf + CTL_PERSIST_HEADER, (size_t)n, 0) != slate_wire_get_le64(buf + 24))
        return CTL_PERSIST_ECHECKSUM;
    *payload = buf + CTL_PERSIST_HEADER;
    *len = (size_t)n;
    return CTL_PERSIST_OK;
}

ctl_persist_err ctl_persist_load(const char *path, uint32_t kind, size_t max_len, void **payload,
                                 size_t *len)
{
    *payload = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CTL_PERSIST_ENOENT : CTL_PERSIST_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return CTL_PERSIST_EIO;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > (uint64_t)max_len + CTL_PERSIST_HEADER) {
        close(fd);
        return CTL_PERSIST_ESIZE;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return CTL_PERSIST_EIO;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    const uint8_t *p;
    size_t n;
    ctl_persist_err e = ctl_persist_unframe(buf, got, kind, &p, &n);
    if (e != CTL_PERSIST_OK) {
        free(buf);
        return e;
    }
    memmove(buf, p, n);
    *payload = buf;
    *len = n;
    return CTL_PERSIST_OK;
}

int ctl_persist_check_dir(const char *dir, char *err, size_t errcap)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(err, errcap, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s: not a directory", dir);
        return -1;
    }
    char probe[PATH_MAX];
    int n = snprintf(probe, sizeof(probe), "%s/.slate-probe.%ld", dir, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(probe)) {
        snprintf(err, errcap, "%s: path too long", dir);
        return -1;
    }
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errcap, "%s: not writable: %s", dir, strerror(errno));
        return -1;
    }
    int bad = write(fd, "ok", 2) != 2 || fsync(fd) != 0;
    int saved = errno;
    close(fd);
    unlink(probe);
    if (bad) {
        snprintf(err, errcap, "%s: a test write failed: %s", dir, strerror(saved));
        return -1;
    }
    return 0;
}

unsigned ctl_persist_clean_tmp(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t bl = strlen(base);
    unsigned removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strncmp(name, base, bl) != 0 || strncmp(name + bl, ".tmp.", 5) != 0)
            continue;
        const char *pid = name + bl + 5;
        size_t k = 0;
        while (pid[k] >= '0' && pid[k] <= '9')
            k++;
        if (k == 0 || pid[k] != '\0')
            continue;
        char path[PATH_MAX];
        int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (n > 0 && (size_t)n < sizeof(path) && unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}
