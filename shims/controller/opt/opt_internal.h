/*
 * Internal structures of slate_opt, shared by its sources (not installed).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_OPT_INTERNAL_H
#define SLATE_OPT_INTERNAL_H

#include "slate_opt.h"

#define OPT_NONE 0xffffffffu

typedef struct opt_edge {
    unsigned cls, parent, child; /* class, endpoints */
    double ratio, bytes;
} opt_edge_t;

struct slate_opt_problem {
    unsigned R;
    slate_opt_config_t cfg;
    double *rtt;   /* R * R */
    double *price; /* R * R */

    unsigned n_svc, cap_svc;
    unsigned char *deployed; /* n_svc * R */
    double *capacity;        /* n_svc * R */

    unsigned n_ep, cap_ep;
    unsigned *ep_svc;       /* n_ep */
    slate_opt_fit_t *model; /* n_ep * R */

    unsigned n_cls, cap_cls;
    unsigned *cls_root; /* n_cls */
    double *ingress;    /* n_cls * R */

    unsigned n_edge, cap_edge;
    opt_edge_t *edges;
};

/*
 * Derived structure shared by the LP and the evaluators. A node is a
 * (class, endpoint) pair that occurs in the class (its root, or a parent or
 * child of one of its edges).
 */
typedef struct opt_prep {
    unsigned n_node;
    unsigned *node_cls, *node_ep;      /* n_node */
    unsigned *edge_pnode, *edge_cnode; /* n_edge: parent and child node */
    unsigned *in_start, *in_list;      /* CSR: incoming edges per node */
    unsigned *out_start, *out_list;    /* CSR: outgoing edges per node */
    unsigned *ep_order;                /* endpoints in topological order */
    unsigned *edge_order;              /* edges sorted by topological rank of the parent */
    double *node_ingress;              /* n_node * R: ingress of a root node, else 0 */
    double *ep_const;                  /* n_ep * R: ingress arriving at the endpoint as a root */
    double *ep_upper;                  /* n_ep: most load that can reach the endpoint overall */
    unsigned char *ep_live;            /* n_ep: is a root or a child of some edge */
} opt_prep_t;

slate_status opt_prepare(const slate_opt_problem_t *p, opt_prep_t *pp);
void opt_prep_free(opt_prep_t *pp);

/* The PWL segments of (ep, region): the top of the range and the slopes. */
unsigned opt_pwl(const slate_opt_problem_t *p, const opt_prep_t *pp, unsigned ep, unsigned r,
                 double *width, double *slopes);
/* PWL_{ep,r}(x): the cheapest filling of the segments, as the LP does. */
double opt_pwl_value(unsigned k, double width, const double *slopes, double x);

/* The LP in column-major form, shared by the CLP solve and the LP writer. */
typedef struct opt_lp {
    unsigned ncol, nrow;
    size_t nnz;
    size_t *start; /* ncol + 1 */
    int *index;
    double *value;
    double *collb, *colub, *obj;
    double *rowlb, *rowub;
    /* objective constant: the substituted linear loads' ingress times their slope */
    double obj_const;
    /* column meaning: kind 0 = flow (a = edge, b = src, c = dst), 1 = segment (a = ep,
     * b = region, c = segment) */
    unsigned char *kind;
    unsigned *ca, *cb, *cc;
    /* row meaning: kind 0 = conservation (edge, src), 1 = load (ep, region),
     * 2 = capacity (svc, region) */
    unsigned char *rkind;
    unsigned *ra, *rb;
} opt_lp_t;

slate_status opt_lp_build(const slate_opt_problem_t *p, const opt_prep_t *pp, opt_lp_t *lp);
void opt_lp_free(opt_lp_t *lp);

struct slate_opt_result {
    slate_opt_stats_t st;
    unsigned R, n_ep, n_edge;
    double *flow; /* n_edge * R * R */
    double *load; /* n_ep * R */
    double *w;    /* R * n_ep * R */
    double *rate; /* R * n_ep: calls from a region into an endpoint, rps */
    /* LP results only: the optimal basis and the shape it belongs to. */
    unsigned char *basis; /* ncol + nrow CLP status bytes, or NULL */
    unsigned basis_cols, basis_rows;
    uint64_t basis_shape;
    /* reduced solve: what each of the basis's columns, then rows, stands
     * for (col_key, row_key in solve.c), ascending; NULL for the full LP */
    uint64_t *keys;
    /* reduced solve: rounds still to start cold after a warm start gave up */
    unsigned cold_rounds;
};

/* A result with zeroed arrays sized for p. */
slate_opt_result_t *opt_result_new(const slate_opt_problem_t *p);
/* From the flows in r: loads, weights (local-only choice where no flow) and
 * every objective term of the stats. */
void opt_result_finish(const slate_opt_problem_t *p, const opt_prep_t *pp, slate_opt_result_t *r);
/* Local-only's destination for calls from src to endpoint ep, or OPT_NONE. */
unsigned opt_local_choice(const slate_opt_problem_t *p, unsigned src, unsigned ep);
/* Propagate class-independent weights (R x n_ep x R, rows normalised) into flows. */
slate_status opt_propagate(const slate_opt_problem_t *p, const opt_prep_t *pp, const double *w,
                           slate_opt_result_t *r);

double opt_now_ms(void);

#endif /* SLATE_OPT_INTERNAL_H */
