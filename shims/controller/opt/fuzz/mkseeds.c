/*
 * Writes the seed corpus of fuzz_opt: a few well-formed model and problem
 * inputs in the byte format of fuzz_input.h, plus some malformed ones.
 * usage: opt_mkseeds <corpus-dir>
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct out {
    uint8_t b[4096];
    size_t n;
} out_t;

static void u8(out_t *o, unsigned v)
{
    if (o->n < sizeof o->b)
        o->b[o->n++] = (uint8_t)v;
}

/* A value as tag + u16 (u * scale, the finest scale that holds it exactly),
 * else as a raw double. */
static void val(out_t *o, double v)
{
    static const double scale[8] = {1e-3, 1e-2, 0.1, 1, 10, 100, 1e3, 1e6};
    for (unsigned t = 0; t < 8; t++) {
        double u = v / scale[t];
        double r = (double)(long)(u + 0.5);
        if (u >= 0 && u <= 65535.0 && fabs(u - r) < 1e-9 * (1 + u)) {
            unsigned x = (unsigned)r;
            u8(o, t);
            u8(o, x & 0xff);
            u8(o, x >> 8);
            return;
        }
    }
    u8(o, 0xF0);
    uint8_t b[8];
    memcpy(b, &v, 8);
    for (int i = 0; i < 8; i++)
        u8(o, b[i]);
}

static void inf(out_t *o)
{
    u8(o, 0xEF);
    u8(o, 0);
    u8(o, 0);
}

static void raw(out_t *o, double v)
{
    u8(o, 0xF0);
    uint8_t b[8];
    memcpy(b, &v, 8);
    for (int i = 0; i < 8; i++)
        u8(o, b[i]);
}

static int save(const char *dir, const char *name, const out_t *o)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(o->b, 1, o->n, f) != o->n) {
        fprintf(stderr, "mkseeds: cannot write %s\n", path);
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

/* Models: quadratic samples, fits, a merge; then decreasing samples. */
static void models(out_t *o, unsigned degree, double forget, int decreasing)
{
    u8(o, 0); /* mode: models */
    u8(o, degree - 1);
    val(o, forget);
    val(o, 5); /* min weight */
    for (unsigned i = 0; i < 30; i++) {
        double x = 10.0 * i;
        double y = decreasing ? 100 - x / 10 : 2 + 0.01 * x + 1e-4 * x * x;
        u8(o, (i % 2) ? 0x80 : 0x00); /* add to model 0 or 1 */
        val(o, x);
        val(o, y);
        if (i % 10 == 9)
            u8(o, 2); /* fit */
    }
    u8(o, 1); /* weighted add */
    val(o, 50);
    val(o, 3);
    val(o, 20);
    u8(o, 3); /* merge */
    u8(o, 2);
}

/* A problem: R regions, a root service everywhere and a child service. */
static void problem(out_t *o, unsigned R, int capped, int cycle)
{
    u8(o, 1); /* mode: problem */
    u8(o, R - 1);
    u8(o, 6);   /* segments */
    val(o, 10); /* egress weight */
    for (unsigned s = 0; s < R; s++)
        for (unsigned d = 0; d < R; d++) {
            val(o, s == d ? 0.5 : 5.0 * (1 + s + d));
            val(o, s == d ? 0 : 0.001);
        }
    u8(o, 1); /* two services */
    for (unsigned svc = 0; svc < 2; svc++) {
        u8(o, svc); /* endpoints: 1 then 2 */
        u8(o, svc == 0 ? 0xff : 0x06);
        for (unsigned r = 0; r < R; r++) {
            if (capped && svc == 1 && r == 1)
                val(o, 150);
            else
                inf(o);
        }
        for (unsigned k = 0; k <= svc; k++)
            for (unsigned r = 0; r < R; r++) {
                val(o, 1 + r);
                val(o, 0.01);
                val(o, svc ? 0.0001 : 0);
            }
    }
    u8(o, 0); /* one class */
    u8(o, 0); /* rooted at endpoint 0 */
    for (unsigned r = 0; r < R; r++)
        val(o, 100 * (r + 1));
    u8(o, cycle ? 3 : 2); /* edges */
    u8(o, 0), u8(o, 0), u8(o, 1), val(o, 1), val(o, 1000);
    u8(o, 0), u8(o, 1), u8(o, 2), val(o, 2), val(o, 500);
    if (cycle)
        u8(o, 0), u8(o, 2), u8(o, 0), val(o, 1), val(o, 10);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int rc = 0;
    out_t o;
    memset(&o, 0, sizeof o), models(&o, 2, 1, 0), rc |= save(dir, "model_quadratic", &o);
    memset(&o, 0, sizeof o), models(&o, 1, 0.9, 0), rc |= save(dir, "model_linear_forget", &o);
    memset(&o, 0, sizeof o), models(&o, 2, 1, 1), rc |= save(dir, "model_decreasing", &o);
    memset(&o, 0, sizeof o), models(&o, 2, 1, 0);
    u8(&o, 0), raw(&o, 1e300), raw(&o, 1); /* refused */
    u8(&o, 0), raw(&o, -0.0), raw(&o, 5e-324);
    rc |= save(dir, "model_extremes", &o);
    memset(&o, 0, sizeof o), problem(&o, 2, 0, 0), rc |= save(dir, "problem_two_regions", &o);
    memset(&o, 0, sizeof o), problem(&o, 3, 1, 0), rc |= save(dir, "problem_capacity", &o);
    memset(&o, 0, sizeof o), problem(&o, 4, 1, 0), rc |= save(dir, "problem_four_regions", &o);
    memset(&o, 0, sizeof o), problem(&o, 3, 0, 1), rc |= save(dir, "problem_cycle", &o);
    memset(&o, 0, sizeof o), problem(&o, 2, 0, 0), o.n /= 2;
    rc |= save(dir, "problem_truncated", &o);
    return rc;
}
