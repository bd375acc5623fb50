/*
 * Solve time of the routing LP against topology size.
 * SPDX-License-Identifier: Apache-2.0
 *
 * For every row of SLATE's optimizer-scalability-gurobi.csv (their Gurobi
 * run: clusters 2-10, request types 1-8, call-tree depth 2-6, fanout 3) this
 * generates the same topology shape (opt_testgen.c follows SLATE's
 * generator), solves it with our CLP formulation and prints, side by side:
 *   - SLATE's Gurobi time from the CSV (their machine, their run),
 *   - GLPK's glpsol on our LP, measured here in the same run (wall time of
 *     the process, including reading the LP file),
 *   - ours: median wall time of slate_opt_solve (building + CLP), and its
 *     CPU time (the machine may be shared; CPU time is steadier),
 * and the ratios. It never asserts a time.
 *
 * usage: bench_opt [csv-path] [repeats] [--no-glpk]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "opt_testgen.h"
#include "slate_opt.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Wall time of glpsol on the problem's LP, ms; its objective in *obj. */
static double glpsol_ms(const slate_opt_problem_t *p, double *obj)
{
    char lp[] = "/tmp/slate_bench_opt_XXXXXX";
    int fd = mkstemp(lp);
    if (fd < 0)
        return NAN;
    FILE *f = fdopen(fd, "w");
    if (!f || slate_opt_write_lp(p, f) != SLATE_OK) {
        if (f)
            fclose(f);
        remove(lp);
        return NAN;
    }
    fclose(f);
    char sol[64], cmd[256];
    snprintf(sol, sizeof sol, "%s.sol", lp);
    snprintf(cmd, sizeof cmd, "glpsol --lp %s -w %s >/dev/null 2>&1", lp, sol);
    double t0 = now_ms();
    int rc = system(cmd);
    double t = now_ms() - t0;
    *obj = NAN;
    FILE *s = fopen(sol, "r");
    if (s) {
        char line[256];
        while (fgets(line, sizeof line, s)) {
            unsigned m, n;
            char a, b;
            if (sscanf(line, "s bas %u %u %c %c %lf", &m, &n, &a, &b, obj) == 5)
                break;
        }
        fclose(s);
    }
    remove(lp);
    remove(sol);
    return rc == 0 ? t : NAN;
}

int main(int argc, char **argv)
{
    const char *csv = SLATE_DATA_DIR "/slate/optimizer-scalability-gurobi.csv";
    int reps = 5, use_glpk = 1;
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-glpk") == 0)
            use_glpk = 0;
        else if (pos++ == 0)
            csv = argv[i];
        else
            reps = atoi(argv[i]);
    }
    if (reps < 1 || reps > 100)
        reps = 5;
    FILE *f = fopen(csv, "r");
    if (!f) {
        fprintf(stderr, "bench_opt: cannot open %s\n", csv);
        return 1;
    }
    printf("Routing LP solve time vs topology (SLATE scalability shapes, fanout 3)\n");
    printf("gurobi = SLATE's recorded Gurobi time (their CSV); glpk = glpsol on our LP, this run;\n"
           "ours = median of %d slate_opt_solve calls (build + CLP), this run.\n",
           reps);
    printf("%2s %2s %2s %3s %4s | %6s %5s %9s | %6s %5s %6s %9s %9s %8s | %8s %8s | %6s %6s\n", "C",
           "T", "D", "svc", "ep", "g.vars", "g.con", "gurobi.ms", "cols", "rows", "iters",
           "glpk.ms", "ours.ms", "ours.cpu", "gur/ours", "glpk/our", "loc/LP", "wf/LP");
    char line[512];
    if (!fgets(line, sizeof line, f)) { /* header */
        fclose(f);
        return 1;
    }
    double log_sum_g = 0, log_sum_k = 0;
    int rows = 0, rows_k = 0, mismatches = 0;
    double big_vars = -1, big_ours = 0, big_cpu = 0, big_gur = 0, big_glpk = NAN;
    unsigned big_c = 0, big_t = 0, big_d = 0;
    double worst_ours = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned c, t, d, fo, svc, ep, deg;
        double vars, cons, secs;
        if (sscanf(line, "solver_time,%u,%u,%u,%u,%u,%u,%u,%lf,%lf,%lf", &c, &t, &d, &fo, &svc, &ep,
                   &deg, &vars, &cons, &secs) != 10)
            continue;
        testgen_slate_shape_t sh = {c, t, d, fo, deg};
        slate_opt_problem_t *p = testgen_slate(&sh, 1000u * c + 100u * t + d);
        if (!p) {
            fprintf(stderr, "bench_opt: cannot build %u/%u/%u\n", c, t, d);
            fclose(f);
            return 1;
        }
        if (slate_opt_n_services(p) != svc || slate_opt_n_endpoints(p) != ep)
            mismatches++;
        double times[100], cpus[100];
        slate_opt_result_t *r = NULL;
        for (int k = 0; k < reps; k++) {
            slate_opt_result_free(r);
            r = NULL;
            double t0 = now_ms(), c0 = cpu_ms();
            slate_status st = slate_opt_solve(p, &r);
            times[k] = now_ms() - t0;
            cpus[k] = cpu_ms() - c0;
            if (st != SLATE_OK) {
                fprintf(stderr, "bench_opt: solve %u/%u/%u: %s\n", c, t, d, slate_strerror(st));
                fclose(f);
                return 1;
            }
        }
        qsort(times, (size_t)reps, sizeof times[0], cmp_d);
        qsort(cpus, (size_t)reps, sizeof cpus[0], cmp_d);
        double ours = times[reps / 2], ours_cpu = cpus[reps / 2];
        const slate_opt_stats_t *s = slate_opt_result_stats(r);
        slate_opt_result_t *loc = NULL, *wf = NULL;
        double loc_ratio = NAN, wf_ratio = NAN;
        if (slate_opt_local_only(p, &loc) == SLATE_OK)
            loc_ratio = slate_opt_result_stats(loc)->objective / s->objective;
        if (slate_opt_waterfall(p, &wf) == SLATE_OK)
            wf_ratio = slate_opt_result_stats(wf)->objective / s->objective;
        double gobj = NAN, gms = use_glpk ? glpsol_ms(p, &gobj) : NAN;
        if (use_glpk && !(fabs(gobj - s->lp_objective) <= 1e-6 * fabs(s->lp_objective)))
            fprintf(stderr, "bench_opt: glpsol objective %.10g differs from ours %.10g\n", gobj,
                    s->lp_objective);
        double gur = secs * 1e3;
        printf("%2u %2u %2u %3u %4u | %6.0f %5.0f %9.1f | %6u %5u %6u %9.1f %9.2f %8.2f | %8.1f "
               "%8.1f | %6.3f %6.3f\n",
               c, t, d, svc, ep, vars, cons, gur, s->columns, s->rows, s->iterations, gms, ours,
               ours_cpu, gur / ours, gms / ours, loc_ratio, wf_ratio);
        log_sum_g += log(gur / ours);
        rows++;
        if (!isnan(gms)) {
            log_sum_k += log(gms / ours);
            rows_k++;
        }
        if (vars > big_vars) {
            big_vars = vars;
            big_ours = ours;
            big_cpu = ours_cpu;
            big_gur = gur;
            big_glpk = gms;
            big_c = c;
            big_t = t;
            big_d = d;
        }
        if (ours > worst_ours)
            worst_ours = ours;
        slate_opt_result_free(loc);
        slate_opt_result_free(wf);
        slate_opt_result_free(r);
        slate_opt_problem_free(p);
    }
    fclose(f);
    if (rows == 0) {
        fprintf(stderr, "bench_opt: no rows in %s\n", csv);
        return 1;
    }
    printf("\n%d topologies; shapes differing from the CSV's service/endpoint counts: %d\n", rows,
           mismatches);
    printf("largest (C=%u T=%u D=%u, %.0f Gurobi variables): gurobi %.1f ms, glpk %.1f ms, "
           "ours %.2f ms wall, %.2f ms CPU (target < 100 ms)\n",
           big_c, big_t, big_d, big_vars, big_gur, big_glpk, big_ours, big_cpu);
    printf("slowest of ours: %.2f ms; geometric-mean speed-up: %.1fx vs Gurobi (recorded), "
           "%.1fx vs glpsol (this run)\n",
           worst_ours, exp(log_sum_g / rows), rows_k ? exp(log_sum_k / rows_k) : NAN);

    /* A controller re-solves every tick with moved loads: the largest shape,
     * ingress changed by up to +-10% per round, cold against warm start. */
    testgen_slate_shape_t sh = {big_c, big_t, big_d, 3, 1};
    slate_opt_problem_t *p = testgen_slate(&sh, 1000u * big_c + 100u * big_t + big_d);
    slate_opt_result_t *prev = NULL;
    if (!p || slate_opt_solve(p, &prev) != SLATE_OK) {
        fprintf(stderr, "bench_opt: cannot solve the largest shape\n");
        return 1;
    }
    testgen_rng_t rng = {99};
    enum { ROUNDS = 9 };
    double cold[ROUNDS], warm[ROUNDS];
    unsigned it_cold = 0, it_warm = 0;
    for (int k = 0; k < ROUNDS; k++) {
        for (unsigned c = 0; c < slate_opt_n_classes(p); c++)
            for (unsigned r = 0; r < slate_opt_n_regions(p); r++) {
                double v;
                if (slate_opt_get_ingress(p, c, r, &v) == SLATE_OK)
                    (void)slate_opt_set_ingress(p, c, r, v * testgen_uniform(&rng, 0.9, 1.1));
            }
        slate_opt_result_t *rc = NULL, *rw = NULL;
        double t0 = now_ms();
        slate_status s1 = slate_opt_solve(p, &rc);
        double t1 = now_ms();
        slate_status s2 = slate_opt_solve_warm(p, prev, &rw);
        double t2 = now_ms();
        if (s1 != SLATE_OK || s2 != SLATE_OK) {
            fprintf(stderr, "bench_opt: re-solve failed\n");
            return 1;
        }
        cold[k] = t1 - t0;
        warm[k] = t2 - t1;
        it_cold += slate_opt_result_stats(rc)->iterations;
        it_warm += slate_opt_result_stats(rw)->iterations;
        slate_opt_result_free(rc);
        slate_opt_result_free(prev);
        prev = rw;
    }
    qsort(cold, ROUNDS, sizeof cold[0], cmp_d);
    qsort(warm, ROUNDS, sizeof warm[0], cmp_d);
    printf("re-solve of the largest shape after +-10%% ingress moves (median of %d): cold %.2f ms "
           "(%u iterations), warm start %.2f ms (%u iterations), ratio %.1fx\n",
           ROUNDS, cold[ROUNDS / 2], it_cold / ROUNDS, warm[ROUNDS / 2], it_warm / ROUNDS,
           cold[ROUNDS / 2] / warm[ROUNDS / 2]);
    slate_opt_result_free(prev);
    slate_opt_problem_free(p);
    return 0;
}
