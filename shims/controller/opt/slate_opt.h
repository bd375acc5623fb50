/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file slate_opt.h
 * @brief The controller's brain: latency-versus-load models, the routing
 *        optimiser (a linear program solved by COIN-OR CLP), the local-only and
 *        waterfall baselines, an LP writer for cross-checks, and the pure
 *        stability rules (bounded steps, gain threshold, rollback).
 *
 * This is controller (heap) code, not the allocation-free core: the problem and
 * its results live on the heap, and every count is bounded by the limits below,
 * so nothing grows without bound. Functions return a ::slate_status; on error
 * the objects passed in are left as they were.
 *
 * ## Units
 * Load is requests per second (rps), latency milliseconds (ms), sizes bytes.
 * The objective is in "ms x rps" (milliseconds of latency accrued per second):
 *
 *     sum over (endpoint e, region r) of  PWL_{e,r}(X_{e,r})      (compute)
 *   + sum over call flows f of            f * rtt[src][dst]          (network)
 *   + egress_weight * sum over flows f of f * bytes * price[src][dst] (egress)
 *
 * where X_{e,r} is the total load of endpoint e in region r and PWL_{e,r} is a
 * piecewise-linear interpolation (::slate_opt_config_t::segments equal-width
 * segments over [0, upper]) of the convex curve X * latency_{e,r}(X).
 *
 * ## Model of the application
 * - *Regions* are numbered 0..n_regions-1 and carry an RTT matrix (ms, added
 *   once per call from src to dst) and an egress price matrix (per byte).
 * - *Services* are deployed in some regions with a capacity (rps, summed over
 *   the service's endpoints); a region where a service is not deployed never
 *   receives its traffic.
 * - *Endpoints* belong to one service and have a latency model per region.
 * - A *traffic class* (request type) has a root endpoint, where its requests
 *   enter (the ingress gateway or frontend): its ingress load per region is
 *   given and served in that region. Its *calls* (parent endpoint -> child
 *   endpoint, with calls per parent request and bytes per call) form a DAG.
 *   The endpoint graph over all classes must be acyclic.
 *
 * ## Variables and constraints of the LP
 * One column per (call edge, source region where the parent is deployed,
 * destination region where the child is deployed): the rps of that class over
 * that edge. Per (edge, source region): the calls made equal calls-per-request
 * times the parent's load there (conservation down the tree). Per (endpoint,
 * region) where deployed: `segments` columns with increasing slopes and one
 * row tying their sum to the endpoint's load. Per (service, region) with a
 * finite capacity: one capacity row.
 *
 * ## Threads
 * Objects are not locked; use one object from one thread at a time. Distinct
 * objects are independent.
 */
#ifndef SLATE_OPT_H
#define SLATE_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/** @name Limits (explicit; past them calls fail with SLATE_ETOOMANY)
 * @{ */
#define SLATE_OPT_MAX_REGIONS   32u      /**< regions (clusters) */
#define SLATE_OPT_MAX_SERVICES  1024u    /**< services */
#define SLATE_OPT_MAX_ENDPOINTS 4096u    /**< endpoints over all services */
#define SLATE_OPT_MAX_CLASSES   256u     /**< traffic classes (request types) */
#define SLATE_OPT_MAX_EDGES     16384u   /**< call edges over all classes */
#define SLATE_OPT_MAX_SEGMENTS  64u      /**< PWL segments per (endpoint, region) */
#define SLATE_OPT_MAX_COLUMNS   4000000u /**< LP columns; a larger LP is refused */
/** @} */

/** @name Value ranges
 * Every function taking one of these values returns SLATE_ERANGE, changing
 * nothing, for a value above its range (besides NaN, infinite or negative
 * values, which are always refused; INFINITY is allowed only as "no capacity
 * limit"). In-range values can still combine into LP coefficients that no
 * solver handles well (a steep curve over a huge range, call ratios
 * compounding down a deep tree, the largest egress weight times the largest
 * price): the solver refuses an LP with a coefficient, bound or right-hand
 * side above 1e15 with SLATE_ERANGE.
 * @{ */
#define SLATE_OPT_MAX_RATE   1e9  /**< rps: load samples, ingress, finite capacities */
#define SLATE_OPT_MAX_MS     1e9  /**< ms: latency samples, RTT, fallback, fit intercept */
#define SLATE_OPT_MAX_COEF   1e9  /**< fit slope (ms per rps) and curvature (ms per rps^2) */
#define SLATE_OPT_MAX_RATIO  1e4  /**< calls per parent request */
#define SLATE_OPT_MAX_BYTES  1e12 /**< bytes per call */
#define SLATE_OPT_MAX_PRICE  1e6  /**< egress price per byte */
#define SLATE_OPT_MAX_WEIGHT 1e12 /**< a sample's weight; the egress weight */
/** @} */

/* ------------------------------------------------------------------------- */
/** @name Latency-versus-load model
 *
 * latency(x) = a + b x + c x^2 (ms, x in rps), fitted by least squares from
 * weighted samples with a >= 0, b >= 0, c >= 0 (c = 0 for degree 1), which
 * makes the curve non-negative, non-decreasing and convex for every x >= 0 and
 * so x * latency(x) convex. The fit is exact for that constrained problem: it
 * enumerates the active sets of the three bounds and keeps the best feasible
 * solution. Fitting is online: the model keeps weighted sums of x^k and x^k y,
 * each sample costs O(1), and an optional forgetting factor multiplies the old
 * weight on every sample (exponential forgetting).
 *
 * Untrusted fallback: until the effective sample weight reaches `min_weight`,
 * the fit is flagged untrusted and its curve is a constant: the weighted mean
 * latency when there are samples, `fallback_ms` when there are none.
 * @{ */

/** Parameters of a model. Fill with ::slate_opt_model_params_default. */
typedef struct slate_opt_model_params {
    unsigned degree;    /**< 1 (linear) or 2 (quadratic); default 2 */
    double forget;      /**< weight kept per new sample, in (0, 1]; 1 = no forgetting (default) */
    double min_weight;  /**< effective samples before the fit is trusted; default 20 */
    double fallback_ms; /**< latency assumed with no samples at all; default 1 */
} slate_opt_model_params_t;

/**
 * Sufficient statistics of one (endpoint, region) model. Small and
 * transparent so it can live in arrays or on the stack; treat the fields as
 * private and use the functions.
 */
typedef struct slate_opt_model {
    slate_opt_model_params_t params;
    double s[5];    /**< sum of w x^k, k = 0..4 */
    double t[3];    /**< sum of w x^k y, k = 0..2 */
    double syy;     /**< sum of w y^2 */
    double x_max;   /**< largest load seen (not forgotten) */
    uint64_t count; /**< samples added (not forgotten) */
} slate_opt_model_t;

/** A fitted curve and its quality. */
typedef struct slate_opt_fit {
    double a;         /**< intercept, ms (>= 0) */
    double b;         /**< slope, ms per rps (>= 0) */
    double c;         /**< curvature, ms per rps^2 (>= 0; 0 for degree 1) */
    double r2;        /**< coefficient of determination 1 - SSE/SST, in [0, 1]; 0 when SST is 0 */
    double rmse;      /**< weighted root mean squared residual, ms */
    double x_max;     /**< top of the observed operating range, rps */
    double weight;    /**< effective sample weight */
    uint64_t samples; /**< samples added */
    unsigned degree;  /**< the model's degree */
    int trusted;      /**< 1 when weight >= min_weight and the fit used the data */
} slate_opt_fit_t;

/** @brief Fill @p p with the defaults above. Cost: O(1). */
void slate_opt_model_params_default(slate_opt_model_params_t *p);

/**
 * @brief Start an empty model.
 * @param params NULL for the defaults.
 * @return SLATE_EINVAL if @p m is NULL; SLATE_ERANGE if degree is not 1 or 2,
 *         forget is not in (0, 1], min_weight < 0 or fallback_ms is negative
 *         or not finite. Cost: O(1).
 */
slate_status slate_opt_model_init(slate_opt_model_t *m, const slate_opt_model_params_t *params);

/**
 * @brief Add one sample (load at arrival, latency) with weight 1.
 * @return SLATE_EINVAL if @p m is NULL; SLATE_ERANGE if a value is NaN,
 *         negative, or above SLATE_OPT_MAX_RATE / SLATE_OPT_MAX_MS (the model
 *         is unchanged). Cost: O(1).
 */
slate_status slate_opt_model_add(slate_opt_model_t *m, double load_rps, double latency_ms);

/**
 * @brief Add a sample standing for @p weight observations (for example one
 *        report interval: its rate, its mean latency and its request count).
 *        A weight of 0 only applies forgetting.
 * @return as ::slate_opt_model_add; SLATE_ERANGE also for a negative or
 *         non-finite weight or one above SLATE_OPT_MAX_WEIGHT. Cost: O(1).
 */
slate_status slate_opt_model_add_weighted(slate_opt_model_t *m, double load_rps, double latency_ms,
                                          double weight);

/**
 * @brief Add @p src's statistics into @p dst (for example several pods).
 * @return SLATE_EINVAL on NULL; SLATE_EMISMATCH if the degrees differ. Cost: O(1).
 */
slate_status slate_opt_model_merge(slate_opt_model_t *dst, const slate_opt_model_t *src);

/**
 * @brief Fit the constrained least-squares curve (see the group comment).
 * @return SLATE_EINVAL on NULL. Never fails otherwise: degenerate data (one
 *         distinct load, no samples) yields a flat or fallback curve.
 *         Cost: O(1) (at most 8 solves of 3x3 systems).
 */
slate_status slate_opt_model_fit(const slate_opt_model_t *m, slate_opt_fit_t *out);

/** @brief latency(x) of a fit, ms; x below 0 is taken as 0. Cost: O(1). */
double slate_opt_fit_eval(const slate_opt_fit_t *fit, double load_rps);

/**
 * @brief A fit with fixed coefficients (for tests, config files, benchmarks).
 * @return SLATE_EINVAL on NULL; SLATE_ERANGE if a coefficient is negative or
 *         not finite. Cost: O(1).
 */
slate_status slate_opt_fit_fixed(slate_opt_fit_t *out, double a, double b, double c);
/** @} */

/* ------------------------------------------------------------------------- */
/** @name Routing problem
 * @{ */

/** The routing problem (opaque, heap). */
typedef struct slate_opt_problem slate_opt_problem_t;
/** A routing (optimised, baseline or evaluated) and its statistics (opaque, heap). */
typedef struct slate_opt_result slate_opt_result_t;

/** Knobs of the formulation. Fill with ::slate_opt_config_default. */
typedef struct slate_opt_config {
    unsigned segments;    /**< PWL segments per (endpoint, region), 1..64; default 8 */
    double egress_weight; /**< weight of the egress cost term, >= 0; default 0 */
    double time_limit_s;  /**< CLP time limit in seconds, 0 = none (default) */
    /** PWL range top when a service has no finite capacity: this factor times
     *  the most load that could reach the endpoint; default 1 (>= 1). */
    double range_factor;
    /** 0 (default): the reduced solve. The optimum is the full LP's, but
     *  (1) the PWL segments of one (endpoint, region) whose slopes are equal
     *  (to 1e-12 relative) are one column, and unused segments get none,
     *  which leaves every PWL function as it was; a load whose cost is then
     *  linear (a constant latency) is substituted out: no load row and no
     *  column, each flow into it pays the slope and counts toward the
     *  capacity row, and the ingress part is an objective constant; so is
     *  a load no call reaches (its ingress only: a constant cost); (2) CLP
     *  starts from a restricted LP holding, per (call edge, source region),
     *  only the flow columns to the few cheapest destinations: cold, the
     *  one with the least cost to go at a greedy routing (each flow placed
     *  whole, down the call graph, where RTT, egress, the rise of the
     *  child's PWL curve and the child's own calls from there cost least,
     *  capacity allowing) and the greedy's own, from that routing's basis
     *  by the primal simplex; warm, the 4 cheapest by RTT plus egress plus
     *  a substituted slope besides the previous optimum's (see
     *  ::slate_opt_solve_warm);
     *  (3) every left-out flow column is then priced with the row duals,
     *  those with a negative reduced cost join, and the primal simplex
     *  continues (column generation), until none prices out: then every
     *  column of the full LP has a non-negative reduced cost and the
     *  restricted optimum is the full LP's optimum. A restricted LP that
     *  the capacities make infeasible gets twice as many destinations per
     *  group until it is feasible or holds every column. 1: the full LP
     *  solved as before the reduction (all
     *  `segments` columns per (endpoint, region), all flow columns, CLP's
     *  crash, no presolve), kept as the reference the reduced solve is
     *  checked against, and for benchmarks. */
    unsigned full_lp;
    /** 0 (default): the reduced solve as above. 1: the reduced solve as it
     *  was before its greedy start, for benchmarks: cold from local-only
     *  routing's basis with the 4 cheapest destinations by RTT plus egress
     *  (plus a substituted slope), and a load no call reaches kept in the
     *  LP. Same optimum; ignored with full_lp. */
    unsigned local_start;
    /** Reduced solve: the most dual simplex iterations a warm start may
     *  take before it gives up and the solve starts cold from the greedy
     *  routing (a window that moved far can cost a warm start more than a
     *  cold one); the next 3 solves warm from that result start cold, then
     *  warm is tried again. 0 (default): rows / 10 + 100. Same optimum. */
    unsigned warm_max_iterations;
} slate_opt_config_t;

/** @brief Fill @p c with the defaults above. Cost: O(1). */
void slate_opt_config_default(slate_opt_config_t *c);

/**
 * @brief Create an empty problem over @p n_regions regions: RTT 0, price 0,
 *        nothing deployed, default config.
 * @return SLATE_EINVAL if @p out is NULL; SLATE_ERANGE if n_regions is 0 or
 *         above SLATE_OPT_MAX_REGIONS; SLATE_ENOSPC if memory runs out.
 *         Cost: O(n_regions^2).
 */
slate_status slate_opt_problem_create(slate_opt_problem_t **out, unsigned n_regions);

/** @brief Free a problem (NULL is ignored). Cost: O(size). */
void slate_opt_problem_free(slate_opt_problem_t *p);

/** @brief Number of regions, services, endpoints, classes and edges. Cost: O(1). */
unsigned slate_opt_n_regions(const slate_opt_problem_t *p);
unsigned slate_opt_n_services(const slate_opt_problem_t *p);
unsigned slate_opt_n_endpoints(const slate_opt_problem_t *p);
unsigned slate_opt_n_classes(const slate_opt_problem_t *p);
unsigned slate_opt_n_edges(const slate_opt_problem_t *p);

/**
 * @brief Replace the formulation knobs.
 * @return SLATE_EINVAL on NULL; SLATE_ERANGE if a knob is outside its range.
 *         Cost: O(1).
 */
slate_status slate_opt_configure(slate_opt_problem_t *p, const slate_opt_config_t *c);

/**
 * @brief Set the network between two regions (directional).
 * @param rtt_ms latency added to each call from @p src to @p dst (>= 0)
 * @param price_per_byte egress price of a byte sent from @p src to @p dst (>= 0)
 * @return SLATE_EINVAL on NULL; SLATE_ERANGE for a bad index or a negative or
 *         non-finite value. Cost: O(1).
 */
slate_status slate_opt_set_network(slate_opt_problem_t *p, unsigned src, unsigned dst,
                                   double rtt_ms, double price_per_byte);

/**
 * @brief Add a service (deployed nowhere until ::slate_opt_set_placement).
 * @param id_out receives its index (0, 1, ...), may be NULL.
 * @return SLATE_EINVAL on NULL @p p; SLATE_ETOOMANY past SLATE_OPT_MAX_SERVICES;
 *         SLATE_ENOSPC if memory runs out. Cost: O(n_regions) amortised.
 */
slate_status slate_opt_add_service(slate_opt_problem_t *p, unsigned *id_out);

/**
 * @brief Deploy (or undeploy) a service in a region.
 * @param capacity_rps most load the service takes there, summed over its
 *        endpoints; INFINITY for no limit; ignored when @p deployed is 0.
 * @return SLATE_EINVAL on NULL; SLATE_ERANGE for a bad index or a NaN or
 *         negative capacity. Cost: O(1).
 */
slate_status slate_opt_set_placement(slate_opt_problem_t *p, unsigned svc, unsigned region,
                                     int deployed, double capacity_rps);

/**
 * @brief Add an endpoint of service @p svc. Its latency model in every region
 *        starts as the constant fallback of ::slate_opt_model_params_default.
 * @return SLATE_EINVAL on NULL @p p; SLATE_ERANGE for a bad service;
 *         SLATE_ETOOMANY past SLATE_OPT_MAX_ENDPOINTS; SLATE_ENOSPC if memory
 *         runs out. Cost: O(n_regions) amortised.
 */
slate_status slate_opt_add_endpoint(slate_opt_problem_t *p, unsigned svc, unsigned *id_out);

/** @brief The service an endpoint belongs to, or UINT32_MAX for a bad index. Cost: O(1). */
unsigned slate_opt_endpoint_service(const slate_opt_problem_t *p, unsigned ep);

/**
 * @brief Set the latency model of an endpoint in a region (copied).
 * @return SLATE_EINVAL on NULL; SLATE_ERANGE for a bad index or a coefficient
 *         that is negative or not finite. Cost: O(1).
 */
slate_status slate_opt_set_model(slate_opt_problem_t *p, unsigned ep, unsigned region,
                                 const slate_opt_fit_t *fit);

/**
 * @brief Add a traffic class whose requests enter at endpoint @p root_ep.
 * @return SLATE_EINVAL on NULL @p p; SLATE_ERANGE for a bad endpoint;
 *         SLATE_ETOOMANY past SLATE_OPT_MAX_CLASSES; SLATE_ENOSPC if memory
 *         runs out. Cost: O(n_regions) amortised.
 */
slate_status slate_opt_add_class(slate_opt_problem_t *p, unsigned root_ep, unsigned *id_out);

/**
 * @brief Set the ingress load of a class in a region (served there by the root).
 * @return SLATE_EINVAL on NULL; SLATE_ERANGE for a bad index or a negative or
 *         non-finite rate. Cost: O(1).
 */
slate_status slate_opt_set_ingress(slate_opt_problem_t *p, unsigned cls, unsigned region,
                                   double rps);

/**
 * @brief Add a call edge of class @p cls: each request of @p parent_ep makes
 *        @p calls_per_request calls to @p child_ep of @p bytes_per_call bytes.
 * @return SLATE_EINVAL on NULL @p p; SLATE_ERANGE for a bad index, a negative
 *         or non-finite ratio or size, or parent == child; SLATE_EDUPLICATE if
 *         the class already has this (parent, child) edge; SLATE_ETOOMANY past
 *         SLATE_OPT_MAX_EDGES; SLATE_ENOSPC if memory runs out.
 *         Cost: O(edges of the class) for the duplicate check.
 */
slate_status slate_opt_add_call(slate_opt_problem_t *p, unsigned cls, unsigned parent_ep,
                                unsigned child_ep, double calls_per_request, double bytes_per_call,
                                unsigned *id_out);

/**
 * @name Read-back of what was set (for state exports and tests).
 * Each returns SLATE_EINVAL on a NULL problem or output and SLATE_ERANGE for a
 * bad index; outputs may be NULL when not wanted (the config and model outputs
 * may not). Cost: O(1).
 * @{ */
slate_status slate_opt_get_config(const slate_opt_problem_t *p, slate_opt_config_t *out);
slate_status slate_opt_get_network(const slate_opt_problem_t *p, unsigned src, unsigned dst,
                                   double *rtt_ms, double *price_per_byte);
slate_status slate_opt_get_placement(const slate_opt_problem_t *p, unsigned svc, unsigned region,
                                     int *deployed, double *capacity_rps);
slate_status slate_opt_get_model(const slate_opt_problem_t *p, unsigned ep, unsigned region,
                                 slate_opt_fit_t *out);
slate_status slate_opt_get_class(const slate_opt_problem_t *p, unsigned cls, unsigned *root_ep);
slate_status slate_opt_get_ingress(const slate_opt_problem_t *p, unsigned cls, unsigned region,
                                   double *rps);
slate_status slate_opt_get_call(const slate_opt_problem_t *p, unsigned edge, unsigned *cls,
                                unsigned *parent_ep, unsigned *child_ep, double *calls_per_request,
                                double *bytes_per_call);
/** @} */

/**
 * @brief Check the problem is well formed and feasible on its face.
 * @return SLATE_OK; SLATE_ECYCLE if the endpoint call graph has a cycle;
 *         SLATE_EINFEASIBLE if a class has ingress in a region where its root
 *         service is not deployed, or if an endpoint receives calls but its
 *         service is deployed nowhere. (Capacity shortfalls are found by the
 *         solver and reported by ::slate_opt_solve as SLATE_EINFEASIBLE.)
 *         Cost: O(endpoints + edges).
 */
slate_status slate_opt_validate(const slate_opt_problem_t *p);

/**
 * @brief Build the LP, solve it with CLP and return the routing. By default
 *        the solve is reduced (equal-slope segments merged, column generation
 *        over the destinations, see ::slate_opt_config_t.full_lp); with
 *        full_lp CLP solves the whole LP from its crash start.
 * @param out receives a new result (free with ::slate_opt_result_free); on
 *        error *out is NULL.
 * @return SLATE_OK; the errors of ::slate_opt_validate; SLATE_EINFEASIBLE if
 *         no routing meets the capacities; SLATE_ETOOMANY if the LP would
 *         exceed SLATE_OPT_MAX_COLUMNS; SLATE_ERANGE if an LP coefficient or
 *         bound would exceed 1e15; SLATE_ESOLVER if CLP stops without an
 *         optimum (time limit, numerical trouble); SLATE_ENOSPC if memory runs
 *         out. Cost: building is O(edges x regions^2 + endpoints x regions x
 *         segments); the simplex is typically near-linear in that size.
 */
slate_status slate_opt_solve(const slate_opt_problem_t *p, slate_opt_result_t **out);

/**
 * @brief As ::slate_opt_solve, but when @p previous (may be NULL) is an LP
 *        result whose LP had exactly the same columns and rows (the same
 *        services, endpoints, placement, finite capacities, classes, edges
 *        and segment count; loads, models, RTTs, prices and capacity values
 *        may differ), the simplex starts from its optimal basis. A controller
 *        re-solving every tick pays a fraction of a cold solve. Otherwise it
 *        is a cold solve. The result is the same optimum either way (to the
 *        solver's tolerance); stats.warm_start says which ran. For the
 *        reduced solve the previous result's restricted column set is the
 *        start too (then pricing adds what the new data needs); a basis of
 *        the other mode (full_lp changed) is not used.
 * @return as ::slate_opt_solve.
 */
slate_status slate_opt_solve_warm(const slate_opt_problem_t *p, const slate_opt_result_t *previous,
                                  slate_opt_result_t **out);

/**
 * @brief Local-only baseline: each call stays in its source region when the
 *        child's service is deployed there, otherwise it fails over to the
 *        deployed region with the lowest RTT (ties: lower index). Capacity is
 *        ignored (the result's stats say whether it was exceeded).
 * @return SLATE_OK; the errors of ::slate_opt_validate; SLATE_ENOSPC.
 *         Cost: O(edges x regions^2 + endpoints x regions x segments).
 */
slate_status slate_opt_local_only(const slate_opt_problem_t *p, slate_opt_result_t **out);

/**
 * @brief Waterfall baseline (Meta's Service Router, Google's Traffic Director):
 *        endpoints are handled in topological order of the call graph; each
 *        region's demand for an endpoint is served locally up to the
 *        service's remaining capacity there; then, source regions in index
 *        order, the excess spills to the other deployed regions in increasing
 *        RTT from the source (ties: lower index) while they have capacity
 *        left; what still remains stays local (or, if not deployed locally,
 *        goes to the nearest deployed region) and overloads it. A class's
 *        ingress is served by its root where it arrives and takes that
 *        service's capacity first.
 * @return as ::slate_opt_local_only.
 */
slate_status slate_opt_waterfall(const slate_opt_problem_t *p, slate_opt_result_t **out);

/**
 * @brief Evaluate given routing weights with the same objective the LP uses.
 * @param weights fractions indexed [src * E * R + child_ep * R + dst] with E =
 *        endpoints and R = regions (see ::slate_opt_weights_len): for a call
 *        from region src to endpoint child_ep, the share sent to dst. A row
 *        (src, child_ep) whose sum is 0 is treated as local-only's choice;
 *        otherwise it is normalised. Weights to regions where the child is not
 *        deployed must be 0.
 * @return SLATE_OK; the errors of ::slate_opt_validate; SLATE_EINVAL on NULL;
 *         SLATE_ERANGE for a negative or non-finite weight or a weight on an
 *         undeployed region; SLATE_ENOSPC. Cost: as ::slate_opt_local_only.
 */
slate_status slate_opt_evaluate(const slate_opt_problem_t *p, const double *weights,
                                slate_opt_result_t **out);

/** @brief Length of a weights table: regions x endpoints x regions. Cost: O(1). */
size_t slate_opt_weights_len(const slate_opt_problem_t *p);

/**
 * @brief Write the LP that ::slate_opt_solve would solve, in CPLEX LP format
 *        (the tests read it with glpsol --lp). Column names encode
 *        the indices: f_<edge>_<src>_<dst> (call flow) and z_<ep>_<region>_<seg>
 *        (PWL segment); the reduced LP's objective constant (substituted
 *        linear loads, see ::slate_opt_config_t.full_lp) is a column k_const
 *        fixed at 1. Its optimum is ::slate_opt_solve's.
 * @return SLATE_OK; the errors of ::slate_opt_validate; SLATE_EINVAL on NULL;
 *         SLATE_ETOOMANY and SLATE_ERANGE as ::slate_opt_solve; SLATE_ENOSPC
 *         if memory runs out or the stream reports a write error. Cost: O(LP size).
 */
slate_status slate_opt_write_lp(const slate_opt_problem_t *p, FILE *f);
/** @} */

/* ------------------------------------------------------------------------- */
/** @name Results
 * A result is a self-contained copy: it stays valid after its problem is
 * changed or freed. It holds (edges + endpoints) x regions^2 doubles (about
 * 170 MB at the limits; 0.2 MB for SLATE's largest benchmark shape), plus the
 * LP's basis for warm starts.
 * @{ */

/** How a result was produced. */
typedef enum slate_opt_method {
    SLATE_OPT_METHOD_LP = 1,        /**< ::slate_opt_solve */
    SLATE_OPT_METHOD_LOCAL = 2,     /**< ::slate_opt_local_only */
    SLATE_OPT_METHOD_WATERFALL = 3, /**< ::slate_opt_waterfall */
    SLATE_OPT_METHOD_EVALUATED = 4  /**< ::slate_opt_evaluate */
} slate_opt_method;

/** Objective terms and solve statistics of a result. */
typedef struct slate_opt_stats {
    slate_opt_method method;
    double objective;     /**< compute_pwl + network + egress_weight * egress */
    double lp_objective;  /**< CLP's own objective value (LP only; equals objective to
                               solver tolerance), else equal to objective */
    double compute_pwl;   /**< sum of PWL_{e,r}(X_{e,r}), ms x rps */
    double compute_exact; /**< sum of X * latency(X) with the exact curves, ms x rps */
    double network;       /**< sum of flow x RTT, ms x rps */
    double egress;        /**< sum of flow x bytes x price, price units per second */
    double ingress_rps;   /**< total ingress over classes and regions */
    /** (compute_exact + network) / ingress_rps: the modelled latency summed over
     *  every span of one request's call tree, ms (0 without ingress); equal to
     *  the end-to-end latency for sequential calls, an upper bound when calls
     *  run in parallel */
    double mean_latency_ms;
    /** largest (load - capacity) over (service, region) with a finite
     *  capacity; 0 when every capacity is respected */
    double max_overload;
    unsigned columns;        /**< LP columns CLP held at the end (0 for baselines) */
    unsigned rows;           /**< LP rows (0 for baselines) */
    unsigned nonzeros;       /**< nonzeros of those columns (0 for baselines) */
    unsigned iterations;     /**< simplex iterations, over every CLP call (0 for baselines) */
    unsigned full_columns;   /**< the full LP's columns; `columns` is what CLP held at the end
                                  (fewer for the reduced LP, see ::slate_opt_config_t.full_lp) */
    unsigned pricing_rounds; /**< reduced LP: rounds that added priced-out columns */
    double build_ms;         /**< wall time building the LP (0 for baselines) */
    double solve_ms;         /**< wall time inside CLP (0 for baselines) */
    int warm_start;          /**< 1 when the simplex started from a previous basis */
} slate_opt_stats_t;

/** @brief Free a result (NULL is ignored). Cost: O(size). */
void slate_opt_result_free(slate_opt_result_t *r);

/** @brief The statistics of a result; never NULL for a valid result. Cost: O(1). */
const slate_opt_stats_t *slate_opt_result_stats(const slate_opt_result_t *r);

/**
 * @brief Rate of class calls over @p edge from region @p src to region @p dst,
 *        rps; 0 for bad indices. Cost: O(1).
 */
double slate_opt_result_flow(const slate_opt_result_t *r, unsigned edge, unsigned src,
                             unsigned dst);

/** @brief Total load of endpoint @p ep in @p region, rps; 0 for bad indices. Cost: O(1). */
double slate_opt_result_load(const slate_opt_result_t *r, unsigned ep, unsigned region);

/**
 * @brief The routing weights a proxy in @p src applies to calls to @p child_ep:
 *        fractions per destination region (summing to 1), aggregated over
 *        every class and parent endpoint that calls @p child_ep from @p src.
 *        When no traffic flows there, local-only's choice (weight 1).
 * @param weights_out n_regions doubles.
 * @param rps_out total rate of those calls (may be NULL).
 * @return SLATE_EINVAL on NULL; SLATE_ERANGE for a bad index; SLATE_EINFEASIBLE
 *         if the child's service is deployed nowhere (weights all 0).
 *         Cost: O(n_regions).
 */
slate_status slate_opt_result_weights(const slate_opt_result_t *r, unsigned src, unsigned child_ep,
                                      double *weights_out, double *rps_out);

/**
 * @brief The whole weights table (layout of ::slate_opt_evaluate), read-only,
 *        valid as long as the result. Cost: O(1).
 */
const double *slate_opt_result_weight_table(const slate_opt_result_t *r, size_t *len_out);
/** @} */

/* ------------------------------------------------------------------------- */
/** @name Stability rules (pure; the daemon applies them)
 * @{ */

/**
 * @brief Move one routing row (fractions over @p n regions) from @p current
 *        toward @p target by at most @p max_shift of traffic: if the total
 *        variation (half the L1 distance) exceeds @p max_shift the step is
 *        scaled down to exactly @p max_shift, so every single fraction also
 *        moves by at most @p max_shift and the row still sums to 1.
 * @param out may alias @p current.
 * @param shift_out the traffic actually moved (may be NULL).
 * @return SLATE_EINVAL on NULL or n == 0; SLATE_ERANGE if max_shift is not in
 *         [0, 1] or a fraction is negative or not finite. Cost: O(n).
 */
slate_status slate_opt_step(const double *current, const double *target, size_t n, double max_shift,
                            double *out, double *shift_out);

/**
 * @brief Whether a new routing is worth applying: its predicted objective must
 *        be strictly lower than the current one, by at least @p min_abs AND by
 *        at least @p min_rel times |current|. NaN inputs give 0. Cost: O(1).
 * @return 1 to apply, 0 to skip.
 */
int slate_opt_worth_applying(double current_objective, double new_objective, double min_abs,
                             double min_rel);

/**
 * @brief Whether a new routing repairs a capacity violation: the routing in
 *        force overloads some (service, region) by more than @p slack rps
 *        (::slate_opt_stats_t.max_overload) and the new one overloads less.
 *        Such a move wins whatever the objectives say: a routing that breaks
 *        a capacity is infeasible, so its (modelled) objective is no
 *        yardstick. NaN inputs give 0. Cost: O(1).
 * @return 1 when the new routing is the repair, 0 otherwise.
 */
int slate_opt_repairs_capacity(double current_overload, double new_overload, double slack);

/** Verdicts of the rollback guard. */
typedef enum slate_opt_verdict {
    SLATE_OPT_IDLE = 0,    /**< no change is being watched */
    SLATE_OPT_WAIT = 1,    /**< watching, not settled yet */
    SLATE_OPT_KEEP = 2,    /**< settled and not worse: keep the change */
    SLATE_OPT_ROLLBACK = 3 /**< settled and worse: restore the previous rules */
} slate_opt_verdict;

/** Rollback guard state (transparent, small; use the functions). */
typedef struct slate_opt_guard {
    double tolerance;    /**< worse means measured > before x (1 + tolerance) */
    uint64_t settle_ns;  /**< time after a change before measurements count */
    double before_ms;    /**< measured latency before the change */
    uint64_t applied_ns; /**< when the change was applied */
    double sum_ms;       /**< sum of settled measurements */
    uint32_t n;          /**< settled measurements so far */
    uint32_t needed;     /**< settled measurements before a verdict */
    int active;          /**< a change is being watched */
} slate_opt_guard_t;

/**
 * @brief Set up a guard.
 * @return SLATE_EINVAL on NULL; SLATE_ERANGE if tolerance is negative or not
 *         finite or needed is 0. Cost: O(1).
 */
slate_status slate_opt_guard_init(slate_opt_guard_t *g, double tolerance, uint64_t settle_ns,
                                  uint32_t needed);

/**
 * @brief Record that a change was applied at @p now_ns, the measured latency
 *        just before it being @p before_ms. Replaces any change being watched.
 * @return SLATE_EINVAL on NULL; SLATE_ERANGE for a negative or non-finite
 *         latency. Cost: O(1).
 */
slate_status slate_opt_guard_applied(slate_opt_guard_t *g, double before_ms, uint64_t now_ns);

/**
 * @brief Feed one latency measurement taken at @p now_ns. Measurements before
 *        applied + settle are ignored; after @p needed settled ones the guard
 *        compares their mean with the latency before and returns KEEP or
 *        ROLLBACK once (then it is idle again). Bad measurements (NaN,
 *        negative) are ignored. Cost: O(1).
 */
slate_opt_verdict slate_opt_guard_observe(slate_opt_guard_t *g, double measured_ms,
                                          uint64_t now_ns);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* SLATE_OPT_H */
