/*
 * Writes the seed corpus of fuzz_path from real paths: the url column of
 * SLATE's trace records (the CSV files of shared/data/slate), each also with
 * an id, a UUID, a token and a query appended, plus the shapes the unit tests
 * cover (ids, escapes, long paths).
 *
 *   gen_path_seeds <data dir (…/shared/data)> <fuzz/corpus dir>
 *
 * Built by fuzz/path_seeds.cmake; run by hand and the output committed.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

static const char *g_out;
static int g_n;

static int seed(const char *p, size_t n)
{
    char file[1024];
    snprintf(file, sizeof file, "%s/fuzz_path/seed-%03d", g_out, g_n++);
    FILE *f = fopen(file, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", file);
        return 1;
    }
    fwrite(p, 1, n, f);
    fclose(f);
    return 0;
}

/* Distinct url fields (the 4th column) of one trace file. */
static int from_trace(const char *dir, const char *name, char seen[][128], int *n_seen)
{
    char file[1024], line[4096];
    snprintf(file, sizeof file, "%s/slate/%s", dir, name);
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", file);
        return 1;
    }
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        char *c = line;
        for (int k = 0; k < 3 && c; k++)
            c = strchr(c + 1, ',');
        char *e = c ? strchr(c + 1, ',') : NULL;
        if (!e || c[1] != '/' || (size_t)(e - c) >= 128 - 40)
            continue;
        *e = '\0';
        const char *p = c + 1;
        int dup = 0;
        for (int i = 0; i < *n_seen; i++)
            dup |= strcmp(seen[i], p) == 0;
        if (dup || *n_seen >= 64)
            continue;
        strcpy(seen[(*n_seen)++], p);
        char buf[256];
        rc |= seed(p, strlen(p));
        int n = snprintf(buf, sizeof buf, "%s/%d?user=%d#top", p, 1000 + *n_seen, *n_seen);
        rc |= seed(buf, (size_t)n);
        n = snprintf(buf, sizeof buf, "%s/123e4567-e89b-12d3-a456-4266141740%02d/items", p,
                     *n_seen);
        rc |= seed(buf, (size_t)n);
        n = snprintf(buf, sizeof buf, "%s/01ARZ3NDEKTSV4RRFFQ69G5F%02d", p, *n_seen);
        rc |= seed(buf, (size_t)n);
    }
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s <data dir> <corpus dir>\n", argv[0]);
        return 2;
    }
    g_out = argv[2];
    static char seen[64][128];
    int n_seen = 0, rc = 0;
    rc |= from_trace(argv[1], "onlineboutique-trace.csv", seen, &n_seen);
    rc |= from_trace(argv[1], "onlineboutique-trace-wcse.csv", seen, &n_seen);
    static const char *shapes[] = {
        "",
        "/",
        "cart",
        "/cart?user=1&x=2",
        "/orders/12345/items/7",
        "/u/123E4567-E89B-12D3-A456-426614174000",
        "/trace/5d0f416cca2d80da",
        "/obj/507f1f77bcf86cd799439011",
        "/api/v2/deadbeefcafe",
        "/a//b/",
        "/a b,c",
        "/q\"\\",
        "/a%2Fb",
        "/caf\xc3\xa9",
        "/a\x7f\t",
        "/a#b?c",
        "/x/{id}/{trunc}",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        rc |= seed(shapes[i], strlen(shapes[i]));
    rc |= seed("/a\0/b", 5);
    /* long: many segments, one long segment, escapes near the bound */
    char big[700];
    size_t o = 0;
    for (int i = 0; i < 100; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "/s%d", i);
    rc |= seed(big, o);
    memset(big, 'z', 300);
    memcpy(big, "/keep/", 6);
    rc |= seed(big, 300);
    memset(big, ' ', 260);
    big[0] = '/';
    rc |= seed(big, 260);
    return rc;
}
