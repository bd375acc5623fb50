/*
 * slate-controller: the regions file (regions, RTT and egress price
 * matrices, capacities).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_regions.h"
#include "slate/name.h"

static int region_index_of(ctl_regions_file_t *f, const char *name, char *err, size_t errcap,
                           const char *path, unsigned line)
{
    for (uint32_t i = 0; i < f->n; i++)
        if (strcmp(f->names[i], name) == 0)
            return (int)i;
    if (f->n >= CTL_MAX_REGION_SLOTS - 1) {
        snprintf(err, errcap, "%s:%u: more than %d regions", path, line, CTL_MAX_REGION_SLOTS - 1);
        return -1;
    }
    const char *why = NULL;
    if (slate_name_check(SLATE_NAME_REGION, name, strlen(name), &why) != SLATE_OK) {
        snprintf(err, errcap, "%s:%u: region '%.80s' %s", path, line, name, why);
        return -1;
    }
    if (strlen(name) >= sizeof(f->names[0])) {
        snprintf(err, errcap, "%s:%u: region name too long", path, line);
        return -1;
    }
    snprintf(f->names[f->n], sizeof(f->names[0]), "%s", name);
    return (int)f->n++;
}

static bool parse_nonneg(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || s[0] == '\0' || !isfinite(v) || v < 0)
        return false;
    *out = v;
    return true;
}

int ctl_regions_load(const char *path, ctl_regions_file_t *f, char *err, size_t errcap)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        memset(f, 0, sizeof(*f));
        snprintf(err, errcap, "regions file %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = CTL_REGIONS_FILE_MAX, len = 0;
    char *text = malloc(cap);
    if (!text) {
        fclose(fp);
        snprintf(err, errcap, "regions file %s: out of memory", path);
        return -1;
    }
    len = fread(text, 1, cap, fp);
    bool more = fgetc(fp) != EOF;
    fclose(fp);
    int rc;
    if (more) {
        memset(f, 0, sizeof(*f));
        snprintf(err, errcap, "regions file %s: larger than %u MiB", path,
                 CTL_REGIONS_FILE_MAX >> 20);
        rc = -1;
    } else {
        rc = ctl_regions_parse(text, len, path, f, err, errcap);
    }
    free(text);
    return rc;
}

void ctl_regions_free(ctl_regions_file_t *f)
{
    if (!f)
        return;
    free(f->caps);
    f->caps = NULL;
    f->n_caps = f->caps_cap = 0;
}

/* Room for one more capacity line: the array doubles from 64. */
static bool caps_room(ctl_regions_file_t *f)
{
    if (f->n_caps < f->caps_cap)
        return true;
    if (f->caps_cap >= CTL_MAX_CAPACITY_LINES)
        return false;
    uint32_t cap = f->caps_cap ? f->caps_cap * 2 : 64;
    if (cap > CTL_MAX_CAPACITY_LINES)
        cap = CTL_MAX_CAPACITY_LINES;
    ctl_capacity_t *c = realloc(f->caps, cap * sizeof *c);
    if (!c)
        return false;
    f->caps = c;
    f->caps_cap = cap;
    return true;
}

static int parse_lines(const char *text, size_t len, const char *path, ctl_regions_file_t *f,
                       char *err, size_t errcap);

int ctl_regions_parse(const char *text, size_t len, const char *path, ctl_regions_file_t *f,
                      char *err, size_t errcap)
{
    memset(f, 0, sizeof(*f));
    int rc = parse_lines(text, len, path, f, err, errcap);
    if (rc != 0) {
        ctl_regions_free(f);
        memset(f, 0, sizeof(*f));
    }
    return rc;
}

static int parse_lines(const char *text, size_t len, const char *path, ctl_regions_file_t *f,
                       char *err, size_t errcap)
{
    char line[1024];
    unsigned ln = 0;
    int rc = 0;
    size_t pos = 0;
    while (rc == 0 && pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        ln++;
        if (end - pos >= sizeof(line)) {
            snprintf(err, errcap, "%s:%u: line longer than %zu bytes", path, ln, sizeof(line) - 1);
            return -1;
        }
        memcpy(line, text + pos, end - pos);
        line[end - pos] = '\0';
        pos = end + 1;

        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *tok[6];
        const char *why = NULL;
        int nt = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t\r\n", &save); t && nt < 6;
             t = strtok_r(NULL, " \t\r\n", &save))
            tok[nt++] = t;
        if (nt == 0)
            continue;
        int a, b;
        double v1, v2;
        if (strcmp(tok[0], "region") == 0 && nt == 2) {
            if (region_index_of(f, tok[1], err, errcap, path, ln) < 0)
                rc = -1;
        } else if ((strcmp(tok[0], "rtt") == 0 || strcmp(tok[0], "price") == 0) && nt == 4) {
            if ((a = region_index_of(f, tok[1], err, errcap, path, ln)) < 0 ||
                (b = region_index_of(f, tok[2], err, errcap, path, ln)) < 0) {
                rc = -1;
            } else if (!parse_nonneg(tok[3], &v1)) {
                snprintf(err, errcap, "%s:%u: '%s' is not a non-negative number", path, ln, tok[3]);
                rc = -1;
            } else if (tok[0][0] == 'r') {
                f->rtt_ms[a][b] = v1;
            } else {
                f->price[a][b] = v1;
            }
        } else if (strcmp(tok[0], "link") == 0 && nt == 5) {
            if ((a = region_index_of(f, tok[1], err, errcap, path, ln)) < 0 ||
                (b = region_index_of(f, tok[2], err, errcap, path, ln)) < 0) {
                rc = -1;
            } else if (!parse_nonneg(tok[3], &v1) || !parse_nonneg(tok[4], &v2)) {
                snprintf(err, errcap, "%s:%u: link needs two non-negative numbers", path, ln);
                rc = -1;
            } else {
                f->rtt_ms[a][b] = f->rtt_ms[b][a] = v1;
                f->price[a][b] = f->price[b][a] = v2;
            }
        } else if (strcmp(tok[0], "capacity") == 0 && nt == 4) {
            if (region_index_of(f, tok[2], err, errcap, path, ln) < 0) {
                rc = -1;
            } else if (!parse_nonneg(tok[3], &v1)) {
                snprintf(err, errcap, "%s:%u: '%s' is not a non-negative number", path, ln, tok[3]);
                rc = -1;
            } else if (slate_name_check(SLATE_NAME_SERVICE, tok[1], strlen(tok[1]), &why) !=
                       SLATE_OK) {
                snprintf(err, errcap, "%s:%u: service '%.80s' %s", path, ln, tok[1], why);
                rc = -1;
            } else if (strlen(tok[1]) >= sizeof(f->caps[0].service)) {
                snprintf(err, errcap, "%s:%u: service name too long", path, ln);
                rc = -1;
            } else if (!caps_room(f)) {
                snprintf(err, errcap,
                         f->n_caps >= CTL_MAX_CAPACITY_LINES
                             ? "%s:%u: more than %u capacity lines"
                             : "%s:%u: out of memory after %u capacity lines",
                         path, ln, f->n_caps);
                rc = -1;
            } else {
                snprintf(f->caps[f->n_caps].service, sizeof(f->caps[0].service), "%s", tok[1]);
                snprintf(f->caps[f->n_caps].region, sizeof(f->caps[0].region), "%s", tok[2]);
                f->caps[f->n_caps].rps = v1;
                f->n_caps++;
            }
        } else {
            snprintf(err, errcap,
                     "%s:%u: expected 'region', 'rtt', 'price', 'link' or 'capacity' "
                     "with its arguments",
                     path, ln);
            rc = -1;
        }
    }
    return rc;
}
