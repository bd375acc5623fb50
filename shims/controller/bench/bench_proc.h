/*
 * The controller benchmarks' view of a process they started: its peak or
 * current memory (a /proc/<pid>/status field, kB) and the CPU seconds it used,
 * and a TCP connection to it on loopback, with plain HTTP/1.1 requests over it.
 * Shared by bench_intake.c and bench_scale.c.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_BENCH_PROC_H
#define CTL_BENCH_PROC_H

#include <math.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* A kB field of /proc/<pid>/status ("VmHWM:", "VmRSS:"), or -1. */
static long proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, strlen(field)) == 0)
            v = strtol(line + strlen(field) + 1, NULL, 10);
    fclose(f);
    return v;
}

/* User and system CPU seconds of pid (/proc/<pid>/stat); false (both NaN) when unreadable. */
static int proc_cpu_split(pid_t pid, double *user_s, double *sys_s)
{
    char path[64], b[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    *user_s = *sys_s = NAN;
    if (!f)
        return 0;
    size_t n = fread(b, 1, sizeof(b) - 1, f);
    fclose(f);
    b[n] = '\0';
    char *p = strrchr(b, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    *user_s = (double)ut / (double)sysconf(_SC_CLK_TCK);
    *sys_s = (double)st / (double)sysconf(_SC_CLK_TCK);
    return 1;
}

/* User + system CPU seconds of pid, or NaN. */
static double proc_cpu_s(pid_t pid)
{
    double u, s;
    proc_cpu_split(pid, &u, &s);
    return u + s;
}

/* A TCP connection to 127.0.0.1:port with Nagle off, or -1. */
static int dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

typedef struct buf {
    char *p;
    size_t len, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t n)
{
    if (n <= b->cap)
        return;
    size_t c = b->cap ? b->cap : 4096;
    while (c < n)
        c *= 2;
    char *p = realloc(b->p, c);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    b->p = p;
    b->cap = c;
}

static bool bench_send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* One request on *fd (dialled when < 0; closed on error); the body of the
 * answer in out (NUL-terminated). Returns the status or -1. */
static int http_do(int *fd, uint16_t port, const char *method, const char *path, const void *body,
                   size_t len, buf_t *out)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (*fd < 0)
            *fd = dial(port);
        if (*fd < 0)
            return -1;
        char head[256];
        int hn = snprintf(head, sizeof(head),
                          "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                          method, path, len);
        if (!bench_send_all(*fd, head, (size_t)hn) || (len && !bench_send_all(*fd, body, len))) {
            close(*fd);
            *fd = -1;
            continue;
        }
        out->len = 0;
        char *hend = NULL;
        bool ok = true;
        while (!hend) {
            buf_reserve(out, out->len + 65536);
            ssize_t r = read(*fd, out->p + out->len, out->cap - out->len - 1);
            if (r <= 0) {
                ok = false;
                break;
            }
            out->len += (size_t)r;
            out->p[out->len] = '\0';
            hend = strstr(out->p, "\r\n\r\n");
        }
        if (!ok) {
            close(*fd);
            *fd = -1;
            if (attempt == 0)
                continue;
            return -1;
        }
        int status = atoi(out->p + 9);
        char *cl = strcasestr(out->p, "content-length:");
        size_t blen = cl && cl < hend ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
        size_t hl = (size_t)(hend + 4 - out->p);
        buf_reserve(out, hl + blen + 1);
        while (out->len < hl + blen) {
            ssize_t r = read(*fd, out->p + out->len, hl + blen - out->len);
            if (r <= 0) {
                close(*fd);
                *fd = -1;
                return -1;
            }
            out->len += (size_t)r;
        }
        memmove(out->p, out->p + hl, blen);
        out->len = blen;
        out->p[blen] = '\0';
        return status;
    }
    return -1;
}

static int http_get(uint16_t port, const char *path, buf_t *out)
{
    int fd = -1;
    int st = http_do(&fd, port, "GET", path, NULL, 0, out);
    if (fd >= 0)
        close(fd);
    return st;
}

/* The value of a sample line "name value" in a /metrics text (NAN when absent). */
static double metric_value(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *at = text; (at = strstr(at, name)) != NULL; at += n)
        if ((at == text || at[-1] == '\n') && at[n] == ' ')
            return strtod(at + n + 1, NULL);
    return NAN;
}

#endif
