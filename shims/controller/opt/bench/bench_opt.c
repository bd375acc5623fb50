/*
 * placeholder
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>

#include "opt_testgen.h"

int main(void)
{
    testgen_slate_shape_t sh = {10, 8, 6, 3, 1};
    slate_opt_problem_t *p = testgen_slate(&sh, 1);
    slate_opt_result_t *r = NULL;
    slate_status st = slate_opt_solve(p, &r);
    printf("%s\n", slate_strerror(st));
    if (r) {
        const slate_opt_stats_t *s = slate_opt_result_stats(r);
        printf("cols %u rows %u nnz %u it %u build %.2f solve %.2f obj %.6g lp %.6g\n", s->columns,
               s->rows, s->nonzeros, s->iterations, s->build_ms, s->solve_ms, s->objective,
               s->lp_objective);
    }
    slate_opt_result_free(r);
    slate_opt_problem_free(p);
    return 0;
}
