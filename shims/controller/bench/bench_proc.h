/*
 * The controller benchmarks' view of a process they started: its peak or
 * current memory (a /proc/<pid>/status field, kB) and the CPU seconds it used,
 * and a TCP connection to it on loopback.
 * Shared by bench_intake.c and bench_scale.c.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_BENCH_PROC_H
#define CTL_BENCH_PROC_H

#include <math.h>
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

#endif
