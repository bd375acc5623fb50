/*
 * The routing LP: built once in column-major form, solved by COIN-OR CLP
 * through its C interface.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <coin/Clp_C_Interface.h>

#include "opt_internal.h"

void opt_lp_free(opt_lp_t *lp)
{
    if (!lp)
        return;
    free(lp->start);
    free(lp->index);
    free(lp->value);
    free(lp->collb);
    free(lp->colub);
    free(lp->obj);
    free(lp->rowlb);
    free(lp->rowub);
    free(lp->kind);
    free(lp->ca);
    free(lp->cb);
    free(lp->cc);
    free(lp->rkind);
    free(lp->ra);
    free(lp->rb);
    memset(lp, 0, sizeof *lp);
}

static int deployed(const slate_opt_problem_t *p, unsigned ep, unsigned r)
{
    return p->deployed[(size_t)p->ep_svc[ep] * p->R + r];
}

slate_status opt_lp_build(const slate_opt_problem_t *p, const opt_prep_t *pp, opt_lp_t *lp)
{
    memset(lp, 0, sizeof *lp);
    size_t R = p->R, E = p->n_ep, S = p->n_svc, M = p->n_edge;
    int *row_cons = NULL, *row_load = NULL, *row_cap = NULL;
    slate_status st = SLATE_ENOSPC;

    row_cons = malloc((M ? M : 1) * R * sizeof *row_cons);
    row_load = malloc((E ? E : 1) * R * sizeof *row_load);
    row_cap = malloc((S ? S : 1) * R * sizeof *row_cap);
    if (!row_cons || !row_load || !row_cap)
        goto fail;

    /* Count rows and columns first, so every array is allocated once. */
    size_t nrow = 0, ncol = 0, nnz = 0;
    for (size_t e = 0; e < M; e++) {
        const opt_edge_t *x = &p->edges[e];
        size_t ndst = 0;
        for (unsigned d = 0; d < R; d++)
            ndst += deployed(p, x->child, d);
        unsigned cn = pp->edge_cnode[e];
        size_t per = 2 + (pp->out_start[cn + 1] - pp->out_start[cn]);
        for (unsigned s = 0; s < R; s++) {
            if (deployed(p, x->parent, s)) {
                row_cons[e * R + s] = (int)nrow++;
                ncol += ndst;
                nnz += ndst * per;
            } else {
                row_cons[e * R + s] = -1;
            }
        }
    }
    for (size_t ep = 0; ep < E; ep++)
        for (unsigned r = 0; r < R; r++) {
            if (pp->ep_live[ep] && deployed(p, (unsigned)ep, r)) {
                row_load[ep * R + r] = (int)nrow++;
                ncol += p->cfg.segments;
                nnz += 2 * (size_t)p->cfg.segments;
            } else {
                row_load[ep * R + r] = -1;
            }
        }
    for (size_t i = 0; i < S * R; i++)
        row_cap[i] = -1;
    for (size_t ep = 0; ep < E; ep++) {
        if (!pp->ep_live[ep])
            continue;
        size_t svc = p->ep_svc[ep];
        for (unsigned r = 0; r < R; r++)
            if (p->deployed[svc * R + r] && isfinite(p->capacity[svc * R + r]) &&
                row_cap[svc * R + r] < 0)
                row_cap[svc * R + r] = (int)nrow++;
    }
    if (ncol > SLATE_OPT_MAX_COLUMNS || nnz >= (size_t)INT_MAX || nrow >= (size_t)INT_MAX) {
        st = SLATE_ETOOMANY;
        goto fail;
    }

    lp->start = malloc((ncol + 1) * sizeof *lp->start);
    lp->index = malloc((nnz ? nnz : 1) * sizeof *lp->index);
    lp->value = malloc((nnz ? nnz : 1) * sizeof *lp->value);
    lp->collb = malloc((ncol ? ncol : 1) * sizeof *lp->collb);
    lp->colub = malloc((ncol ? ncol : 1) * sizeof *lp->colub);
    lp->obj = malloc((ncol ? ncol : 1) * sizeof *lp->obj);
    lp->kind = malloc(ncol ? ncol : 1);
    lp->ca = malloc((ncol ? ncol : 1) * sizeof *lp->ca);
    lp->cb = malloc((ncol ? ncol : 1) * sizeof *lp->cb);
    lp->cc = malloc((ncol ? ncol : 1) * sizeof *lp->cc);
    lp->rowlb = malloc((nrow ? nrow : 1) * sizeof *lp->rowlb);
    lp->rowub = malloc((nrow ? nrow : 1) * sizeof *lp->rowub);
    lp->rkind = malloc(nrow ? nrow : 1);
    lp->ra = malloc((nrow ? nrow : 1) * sizeof *lp->ra);
    lp->rb = malloc((nrow ? nrow : 1) * sizeof *lp->rb);
    if (!lp->start || !lp->index || !lp->value || !lp->collb || !lp->colub || !lp->obj ||
        !lp->kind || !lp->ca || !lp->cb || !lp->cc || !lp->rowlb || !lp->rowub || !lp->rkind ||
        !lp->ra || !lp->rb)
        goto fail;

    /* Rows. */
    for (size_t e = 0; e < M; e++)
        for (unsigned s = 0; s < R; s++) {
            int i = row_cons[e * R + s];
            if (i < 0)
                continue;
            double rhs = p->edges[e].ratio * pp->node_ingress[(size_t)pp->edge_pnode[e] * R + s];
            lp->rowlb[i] = lp->rowub[i] = rhs;
            lp->rkind[i] = 0;
            lp->ra[i] = (unsigned)e;
            lp->rb[i] = s;
        }
    for (size_t ep = 0; ep < E; ep++)
        for (unsigned r = 0; r < R; r++) {
            int i = row_load[ep * R + r];
            if (i < 0)
                continue;
            lp->rowlb[i] = lp->rowub[i] = pp->ep_const[ep * R + r];
            lp->rkind[i] = 1;
            lp->ra[i] = (unsigned)ep;
            lp->rb[i] = r;
        }
    for (size_t svc = 0; svc < S; svc++)
        for (unsigned r = 0; r < R; r++) {
            int i = row_cap[svc * R + r];
            if (i < 0)
                continue;
            lp->rowlb[i] = -DBL_MAX;
            lp->rowub[i] = p->capacity[svc * R + r];
            lp->rkind[i] = 2;
            lp->ra[i] = (unsigned)svc;
            lp->rb[i] = r;
        }

    /* Columns: flows, then segments. */
    size_t c = 0, z = 0;
    for (size_t e = 0; e < M; e++) {
        const opt_edge_t *x = &p->edges[e];
        unsigned cn = pp->edge_cnode[e];
        for (unsigned s = 0; s < R; s++) {
            int ri = row_cons[e * R + s];
            if (ri < 0)
                continue;
            for (unsigned d = 0; d < R; d++) {
                if (!deployed(p, x->child, d))
                    continue;
                lp->start[c] = z;
                lp->index[z] = ri;
                lp->value[z++] = 1.0;
                for (unsigned k = pp->out_start[cn]; k < pp->out_start[cn + 1]; k++) {
                    unsigned e2 = pp->out_list[k];
                    lp->index[z] = row_cons[(size_t)e2 * R + d];
                    lp->value[z++] = -p->edges[e2].ratio;
                }
                lp->index[z] = row_load[(size_t)x->child * R + d];
                lp->value[z++] = -1.0;
                lp->collb[c] = 0.0;
                lp->colub[c] = DBL_MAX;
                lp->obj[c] =
                    p->rtt[s * R + d] + p->cfg.egress_weight * x->bytes * p->price[s * R + d];
                lp->kind[c] = 0;
                lp->ca[c] = (unsigned)e;
                lp->cb[c] = s;
                lp->cc[c] = d;
                c++;
            }
        }
    }
    double slopes[SLATE_OPT_MAX_SEGMENTS];
    for (size_t ep = 0; ep < E; ep++)
        for (unsigned r = 0; r < R; r++) {
            int ri = row_load[ep * R + r];
            if (ri < 0)
                continue;
            int rc = row_cap[(size_t)p->ep_svc[ep] * R + r];
            double width;
            unsigned k = opt_pwl(p, pp, (unsigned)ep, r, &width, slopes);
            for (unsigned j = 0; j < p->cfg.segments; j++) {
                lp->start[c] = z;
                lp->index[z] = ri;
                lp->value[z++] = 1.0;
                if (rc >= 0) {
                    lp->index[z] = rc;
                    lp->value[z++] = 1.0;
                }
                lp->collb[c] = 0.0;
                /* Unused segments (k < segments) are fixed at zero. */
                lp->colub[c] = j + 1 < k ? width : (j + 1 == k ? DBL_MAX : 0.0);
                lp->obj[c] = j < k ? slopes[j] : 0.0;
                lp->kind[c] = 1;
                lp->ca[c] = (unsigned)ep;
                lp->cb[c] = r;
                lp->cc[c] = j;
                c++;
            }
        }
    lp->start[c] = z;
    /* In-range inputs can still compound (call ratios down a deep tree). */
    for (size_t j = 0; j < c; j++)
        if (!(fabs(lp->obj[j]) <= 1e15) || !(lp->colub[j] <= 1e15 || lp->colub[j] == DBL_MAX)) {
            st = SLATE_ERANGE;
            goto fail;
        }
    for (size_t k = 0; k < z; k++)
        if (!(fabs(lp->value[k]) <= 1e15)) {
            st = SLATE_ERANGE;
            goto fail;
        }
    for (size_t i = 0; i < nrow; i++)
        if (!(fabs(lp->rowub[i]) <= 1e15)) {
            st = SLATE_ERANGE;
            goto fail;
        }
    lp->ncol = (unsigned)c;
    lp->nrow = (unsigned)nrow;
    lp->nnz = z;
    free(row_cons);
    free(row_load);
    free(row_cap);
    return SLATE_OK;
fail:
    free(row_cons);
    free(row_load);
    free(row_cap);
    opt_lp_free(lp);
    return st;
}

/* FNV-1a over what each column and row stands for. */
static uint64_t lp_shape(const opt_lp_t *lp)
{
    uint64_t h = 0xcbf29ce484222325ull;
#define MIX(v)                                                                                     \
    do {                                                                                           \
        h ^= (uint64_t)(v);                                                                        \
        h *= 0x100000001b3ull;                                                                     \
    } while (0)
    MIX(lp->ncol);
    MIX(lp->nrow);
    for (size_t j = 0; j < lp->ncol; j++) {
        MIX(lp->kind[j]);
        MIX(lp->ca[j]);
        MIX(lp->cb[j]);
        MIX(lp->cc[j]);
    }
    for (size_t i = 0; i < lp->nrow; i++) {
        MIX(lp->rkind[i]);
        MIX(lp->ra[i]);
        MIX(lp->rb[i]);
    }
#undef MIX
    return h;
}

slate_status slate_opt_solve(const slate_opt_problem_t *p, slate_opt_result_t **out)
{
    return slate_opt_solve_warm(p, NULL, out);
}

slate_status slate_opt_solve_warm(const slate_opt_problem_t *p, const slate_opt_result_t *prev,
                                  slate_opt_result_t **out)
{
    if (!p || !out)
        return SLATE_EINVAL;
    *out = NULL;
    slate_status st = slate_opt_validate(p);
    if (st != SLATE_OK)
        return st;
    double t0 = opt_now_ms();
    opt_prep_t pp;
    st = opt_prepare(p, &pp);
    if (st != SLATE_OK)
        return st;
    opt_lp_t lp;
    st = opt_lp_build(p, &pp, &lp);
    if (st != SLATE_OK) {
        opt_prep_free(&pp);
        return st;
    }
    CoinBigIndex *start = malloc(((size_t)lp.ncol + 1) * sizeof *start);
    slate_opt_result_t *r = opt_result_new(p);
    Clp_Simplex *model = Clp_newModel();
    if (!start || !r || !model) {
        st = SLATE_ENOSPC;
        goto out;
    }
    for (size_t i = 0; i <= lp.ncol; i++)
        start[i] = (CoinBigIndex)lp.start[i];
    Clp_setLogLevel(model, 0);
    Clp_loadProblem(model, (int)lp.ncol, (int)lp.nrow, start, lp.index, lp.value, lp.collb,
                    lp.colub, lp.obj, lp.rowlb, lp.rowub);
    Clp_setObjSense(model, 1.0);
    if (p->cfg.time_limit_s > 0.0)
        Clp_setMaximumSeconds(model, p->cfg.time_limit_s);
    uint64_t shape = lp_shape(&lp);
    int warm = prev && prev->basis && prev->basis_cols == lp.ncol && prev->basis_rows == lp.nrow &&
               prev->basis_shape == shape;
    if (warm)
        Clp_copyinStatus(model, prev->basis);
    double t1 = opt_now_ms();
    if (warm) {
        Clp_dual(model, 0);
    } else {
        /* CLP's crash sets up a better starting point than the all-slack
         * basis (on SLATE's largest shape: a third of the iterations) and
         * says which simplex suits it. */
        int crash = Clp_crash(model, 1000.0, 2);
        if (crash == 1 || crash == 2)
            Clp_primal(model, 0);
        else
            Clp_dual(model, 0);
    }
    double t2 = opt_now_ms();
    int status = Clp_status(model);
    if (status == 1 || Clp_isProvenPrimalInfeasible(model)) {
        st = SLATE_EINFEASIBLE;
        goto out;
    }
    if (status != 0 || !Clp_isProvenOptimal(model)) {
        st = SLATE_ESOLVER;
        goto out;
    }
    const double *x = Clp_getColSolution(model);
    size_t R = p->R;
    for (size_t j = 0; j < lp.ncol; j++) {
        if (lp.kind[j] != 0)
            continue;
        double v = x[j] > 0.0 ? x[j] : 0.0;
        r->flow[((size_t)lp.ca[j] * R + lp.cb[j]) * R + lp.cc[j]] = v;
    }
    opt_result_finish(p, &pp, r);
    r->st.method = SLATE_OPT_METHOD_LP;
    r->st.columns = lp.ncol;
    r->st.rows = lp.nrow;
    r->st.nonzeros = (unsigned)lp.nnz;
    r->st.iterations = (unsigned)Clp_numberIterations(model);
    r->st.build_ms = t1 - t0;
    r->st.solve_ms = t2 - t1;
    r->st.lp_objective = Clp_objectiveValue(model);
    r->st.warm_start = warm;
    const unsigned char *basis = Clp_statusArray(model);
    if (basis) {
        size_t nb = (size_t)lp.ncol + lp.nrow;
        r->basis = malloc(nb ? nb : 1);
        if (r->basis) {
            memcpy(r->basis, basis, nb);
            r->basis_cols = lp.ncol;
            r->basis_rows = lp.nrow;
            r->basis_shape = shape;
        }
    }
    *out = r;
    r = NULL;
    st = SLATE_OK;
out:
    if (model)
        Clp_deleteModel(model);
    free(start);
    slate_opt_result_free(r);
    opt_lp_free(&lp);
    opt_prep_free(&pp);
    return st;
}
