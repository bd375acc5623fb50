/*
 * The routing LP in CPLEX LP format, for cross-checks with other solvers.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "opt_internal.h"

static void col_name(const opt_lp_t *lp, size_t j, char *buf, size_t len)
{
    snprintf(buf, len, "%s_%u_%u_%u", lp->kind[j] == 0 ? "f" : "z", lp->ca[j], lp->cb[j],
             lp->cc[j]);
}

static void row_name(const opt_lp_t *lp, size_t i, char *buf, size_t len)
{
    static const char *const names[] = {"cons", "load", "cap"};
    snprintf(buf, len, "%s_%u_%u", names[lp->rkind[i]], lp->ra[i], lp->rb[i]);
}

/* One "+ 1.5 x" term; breaks the line every few terms. */
static void term(FILE *f, double v, const char *name, unsigned *n)
{
    if (*n > 0 && *n % 6 == 0)
        fputs("\n   ", f);
    fprintf(f, " %c %.17g %s", v < 0.0 ? '-' : '+', v < 0.0 ? -v : v, name);
    (*n)++;
}

slate_status slate_opt_write_lp(const slate_opt_problem_t *p, FILE *f)
{
    if (!p || !f)
        return SLATE_EINVAL;
    slate_status st = slate_opt_validate(p);
    if (st != SLATE_OK)
        return st;
    opt_prep_t pp;
    st = opt_prepare(p, &pp);
    if (st != SLATE_OK)
        return st;
    opt_lp_t lp;
    st = opt_lp_build(p, &pp, &lp);
    opt_prep_free(&pp);
    if (st != SLATE_OK)
        return st;

    /* Row-wise copy of the matrix. */
    size_t *rs = calloc((size_t)lp.nrow + 1, sizeof *rs);
    size_t *cur = malloc(((size_t)lp.nrow + 1) * sizeof *cur);
    unsigned *rc = malloc((lp.nnz ? lp.nnz : 1) * sizeof *rc);
    double *rv = malloc((lp.nnz ? lp.nnz : 1) * sizeof *rv);
    if (!rs || !cur || !rc || !rv) {
        st = SLATE_ENOSPC;
        goto out;
    }
    for (size_t k = 0; k < lp.nnz; k++)
        rs[lp.index[k] + 1]++;
    for (size_t i = 0; i < lp.nrow; i++)
        rs[i + 1] += rs[i];
    memcpy(cur, rs, ((size_t)lp.nrow + 1) * sizeof *cur);
    for (size_t j = 0; j < lp.ncol; j++)
        for (size_t k = lp.start[j]; k < lp.start[j + 1]; k++) {
            size_t at = cur[lp.index[k]]++;
            rc[at] = (unsigned)j;
            rv[at] = lp.value[k];
        }

    char name[64];
    unsigned n = 0;
    fprintf(f, "\\ slate routing LP: %u columns, %u rows\nMinimize\n obj:", lp.ncol, lp.nrow);
    for (size_t j = 0; j < lp.ncol; j++) {
        if (lp.obj[j] == 0.0)
            continue;
        col_name(&lp, j, name, sizeof name);
        term(f, lp.obj[j], name, &n);
    }
    /* the substituted linear loads' constant, as a column fixed at 1 */
    int k_used = lp.obj_const != 0.0;
    if (k_used)
        term(f, lp.obj_const, "k_const", &n);
    if (n == 0 && lp.ncol > 0) {
        col_name(&lp, 0, name, sizeof name);
        fprintf(f, " 0 %s", name);
    }
    fputs("\nSubject To\n", f);
    for (size_t i = 0; i < lp.nrow; i++) {
        row_name(&lp, i, name, sizeof name);
        fprintf(f, " %s:", name);
        n = 0;
        for (size_t k = rs[i]; k < rs[i + 1]; k++) {
            char cn[64];
            col_name(&lp, rc[k], cn, sizeof cn);
            term(f, rv[k], cn, &n);
        }
        if (n == 0) { /* a capacity row left empty by the substitution */
            fprintf(f, " 0 k_const");
            k_used = 1;
        }
        if (lp.rowlb[i] == lp.rowub[i])
            fprintf(f, " = %.17g\n", lp.rowlb[i]);
        else
            fprintf(f, " <= %.17g\n", lp.rowub[i]);
    }
    fputs("Bounds\n", f);
    if (k_used)
        fputs(" k_const = 1\n", f);
    for (size_t j = 0; j < lp.ncol; j++) {
        if (lp.colub[j] >= DBL_MAX)
            continue;
        col_name(&lp, j, name, sizeof name);
        fprintf(f, " 0 <= %s <= %.17g\n", name, lp.colub[j]);
    }
    fputs("End\n", f);
    if (ferror(f))
        st = SLATE_ENOSPC;
out:
    free(rs);
    free(cur);
    free(rc);
    free(rv);
    opt_lp_free(&lp);
    return st;
}
