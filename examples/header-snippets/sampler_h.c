/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/*
 * The @code example of include/slate/sampler.h, compiled and run. Between the
 * markers are the header's lines, in the header's order (check_sync.sh checks
 * this); lines ending in "scaffolding" are not in the header.
 */
#include <slate/slate.h>

#include <stdint.h>
#include <stdio.h>

int main(void)
{
    uint64_t worker_seed = 42;
    uint16_t drawn = SLATE_REGION_NONE;
    // clang-format off
    // @code sampler.h 1
    unsigned char mem[SLATE_SAMPLER_SIZE(4)];
    slate_sampler_init(mem, sizeof mem, 4);
    const uint16_t regions[] = {0, 1};           // "us-west-1", "us-east-1"
    const double weights[] = {0.6, 0.4};
    if (slate_sampler_compile(mem, sizeof mem, regions, weights, 2) == SLATE_OK) {
        slate_rng_t rng;
        slate_rng_seed(&rng, worker_seed);
        uint16_t region = slate_sampler_draw(mem, slate_rng_next(&rng));
        drawn = region; // scaffolding
    }
    // @endcode
    // clang-format on
    int ok = (drawn == 0 || drawn == 1) && slate_sampler_probability(mem, 0) > 0.599999 &&
             slate_sampler_probability(mem, 0) < 0.600001;
    printf("sampler.h example: drew region %u, P(0) = %.6f: %s\n", drawn,
           slate_sampler_probability(mem, 0), ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
