/*
 * slate-controller: a small blocking HTTP/1.1 client.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_httpc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADER 16384

int ctl_url_parse(const char *url, ctl_url_t *out)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *p = url + 7;
    const char *host_end;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end)
            return -1;
        p++;
    } else {
        host_end = p + strcspn(p, ":/");
    }
    size_t hl = (size_t)(host_end - p);
    if (hl == 0 || hl >= sizeof(out->host))
        return -1;
    memcpy(out->host, p, hl);
    p = host_end + (*host_end == ']' ? 1 : 0);
    if (*p == ':') {
        p++;
        size_t pl = strspn(p, "0123456789");
        if (pl == 0 || pl >= sizeof(out->port))
            return -1;
        memcpy(out->port, p, pl);
        p += pl;
    } else {
        snprintf(out->port, sizeof(out->port), "80");
    }
    if (*p != '\0' && *p != '/')
        return -1;
    if (strlen(p) >= sizeof(out->path))
        return -1;
    snprintf(out->path, sizeof(out->path), "%s", *p ? p : "/");
    return 0;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= deadline)
            return -1;
        struct pollfd pfd = {fd, events, 0};
        int r = poll(&pfd, 1, (int)(deadline - now));
        if (r > 0)
            return 0;
        if (r == 0)
            return -1;
        if (errno != EINTR)
            return -1;
    }
}

static int fail(char *err, size_t cap, const char *what)
{
    snprintf(err, cap, "%s%s%s", what, errno ? ": " : "", errno ? strerror(errno) : "");
    return -1;
}

static int connect_to(const ctl_url_t *u, uint64_t deadline, char *err, size_t errcap)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(u->host, u->port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errcap, "resolve %s: %s", u->host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0) {
            int soerr = 0;
            socklen_t sl = sizeof(soerr);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            if (soerr == 0)
                break;
            errno = soerr;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        fail(err, errcap, "connect");
    return fd;
}

static int send_all(int fd, const void *p, size_t n, uint64_t deadline)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w > 0) {
            c += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
            wait_fd(fd, POLLOUT, deadline) == 0)
            continue;
        return -1;
    }
    return 0;
}

/* Reads more bytes into b; 0 on data, 1 on EOF, -1 on error or timeout. */
static int recv_some(int fd, ctl_buf_t *b, uint64_t deadline)
{
    char tmp[16384];
    for (;;) {
        ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
        if (r > 0) {
            ctl_buf_append(b, tmp, (size_t)r);
            return b->failed ? -1 : 0;
        }
        if (r == 0)
            return 1;
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLIN, deadline) == 0)
            continue;
        return -1;
    }
}

static const char *find_header(const char *hdrs, size_t hlen, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = hdrs, *end = hdrs + hlen;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

/* Decodes a chunked body in place; 0 done, 1 need more, -1 malformed. */
static int dechunk(const char *in, size_t n, ctl_buf_t *out)
{
    size_t pos = 0;
    ctl_buf_reset(out);
    for (;;) {
        const char *eol = memchr(in + pos, '\n', n - pos);
        if (!eol)
            return 1;
        char *end;
        unsigned long long sz = strtoull(in + pos, &end, 16);
        if (end == in + pos)
            return -1;
        pos = (size_t)(eol - in) + 1;
        if (sz == 0)
            return 0; /* trailers ignored */
        if (sz > n - pos || n - pos - sz < 2)
            return 1;
        ctl_buf_append(out, in + pos, (size_t)sz);
        if (out->failed)
            return -1;
        pos += (size_t)sz + 2;
    }
}

int ctl_httpc_request(const ctl_url_t *url, const char *method, const char *path,
                      const char *content_type, const void *body, size_t len, uint64_t timeout_ms,
                      size_t max_body, ctl_httpc_resp_t *resp, char *err, size_t errcap)
{
    memset(resp, 0, sizeof(*resp));
    ctl_buf_init(&resp->body, max_body);
    uint64_t deadline = mono_ms() + timeout_ms;
    errno = 0;
    int fd = connect_to(url, deadline, err, errcap);
    if (fd < 0)
        return -1;
    char head[1400];
    int hn = snprintf(head, sizeof(head),
                      "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
                      "User-Agent: slate-controller\r\nContent-Type: %s\r\n"
                      "%s%s%s"
                      "Content-Length: %zu\r\n\r\n",
                      method, path, url->host, url->port,
                      content_type ? content_type : "application/octet-stream",
                      url->bearer[0] ? "Authorization: Bearer " : "", url->bearer,
                      url->bearer[0] ? "\r\n" : "", len);
    if (hn < 0 || (size_t)hn >= sizeof(head) || send_all(fd, head, (size_t)hn, deadline) != 0 ||
        (len && send_all(fd, body, len, deadline) != 0)) {
        close(fd);
        return fail(err, errcap, "send");
    }
    ctl_buf_t raw;
    ctl_buf_init(&raw, max_body + MAX_HEADER);
    size_t hend = 0;
    int rc = -1;
    for (;;) {
        int r = recv_some(fd, &raw, deadline);
        const char *hdr_end = NULL;
        if (raw.len >= 4)
            for (size_t i = 0; i + 3 < raw.len && !hdr_end; i++)
                if (memcmp(raw.data + i, "\r\n\r\n", 4) == 0)
                    hdr_end = raw.data + i;
        if (hdr_end) {
            hend = (size_t)(hdr_end - raw.data) + 4;
            break;
        }
        if (r != 0 || raw.len > MAX_HEADER) {
            snprintf(err, errcap, "%s",
                     r == 1 ? "connection closed before the response headers"
                            : "no complete response headers in time");
            goto out;
        }
    }
    if (raw.len < 12 || strncmp(raw.data, "HTTP/1.", 7) != 0) {
        snprintf(err, errcap, "not an HTTP/1.x response");
        goto out;
    }
    resp->status = atoi(raw.data + 9);
    size_t vl = 0;
    const char *v = find_header(raw.data, hend, "Content-Type", &vl);
    if (v)
        snprintf(resp->content_type, sizeof(resp->content_type), "%.*s", (int)vl, v);
    const char *te = find_header(raw.data, hend, "Transfer-Encoding", &vl);
    bool chunked = te && vl >= 7 && strncasecmp(te, "chunked", 7) == 0;
    const char *cl = find_header(raw.data, hend, "Content-Length", &vl);
    long long want = cl && !chunked ? atoll(cl) : -1;
    if (want > (long long)max_body) {
        snprintf(err, errcap, "response body of %lld bytes is over %zu", want, max_body);
        goto out;
    }
    for (;;) {
        size_t have = raw.len - hend;
        if (chunked) {
            int d = dechunk(raw.data + hend, have, &resp->body);
            if (d == 0) {
                rc = 0;
                break;
            }
            if (d < 0) {
                snprintf(err, errcap, "malformed chunked body");
                break;
            }
        } else if (want >= 0 && have >= (size_t)want) {
            ctl_buf_append(&resp->body, raw.data + hend, (size_t)want);
            rc = resp->body.failed ? -1 : 0;
            break;
        }
        int r = recv_some(fd, &raw, deadline);
        if (r == 1 && !chunked && want < 0) {
            ctl_buf_append(&resp->body, raw.data + hend, raw.len - hend);
            rc = resp->body.failed ? -1 : 0;
            break;
        }
        if (r != 0) {
            snprintf(err, errcap, "%s",
                     r == 1 ? "connection closed inside the body"
                            : "response body incomplete in time or too large");
            break;
        }
    }
out:
    ctl_buf_free(&raw);
    close(fd);
    if (rc != 0)
        ctl_buf_free(&resp->body);
    return rc;
}
