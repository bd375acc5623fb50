/*
 * The data plane's plugin-configuration parser (shims/wasm/config.c, the
 * same file the wasm modules compile) on arbitrary bytes. Invariants: it
 * never reads outside the input, every result is either a configuration
 * that satisfies every documented range or an error that names a reason
 * (and a NUL-terminated key) at an offset inside the input, a failure leaves
 * the defaults, and parsing is deterministic.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../shims/wasm/config.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static int terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_config_t a, b, def;
    sw_config_error_t ea, eb;
    int role = size && (data[0] & 1) ? SW_ROLE_REPORTER : SW_ROLE_FILTER;
    sw_config_err r = sw_config_parse(&a, (const char *)data, size, role, &ea);
    sw_config_err r2 = sw_config_parse(&b, (const char *)data, size, role, &eb);
    check(r == r2 && ea.code == eb.code && ea.offset == eb.offset);
    check(memcmp(&a, &b, sizeof a) == 0);
    check(ea.reason != NULL && terminated(ea.key, sizeof ea.key));
    if (r != SW_CFG_OK) {
        check(ea.code == r && ea.offset <= size);
        sw_config_defaults(&def);
        check(memcmp(&a, &def, sizeof a) == 0);
        return 0;
    }
    /* service and region may be empty: the proxy then takes them from its
     * node's metadata and locality (zero configuration) */
    check(terminated(a.service, sizeof a.service));
    check(terminated(a.region, sizeof a.region));
    check(terminated(a.pod, sizeof a.pod) && terminated(a.vm_id, sizeof a.vm_id));
    check(terminated(a.routing_header, sizeof a.routing_header) && a.routing_header[0]);
    check(terminated(a.controller_path, sizeof a.controller_path) && a.controller_path[0] == '/');
    check(terminated(a.controller_cluster, sizeof a.controller_cluster));
    check(terminated(a.controller_authority, sizeof a.controller_authority));
    check(a.role <= SW_ROLE_REPORTER && a.direction <= SW_DIR_OUTBOUND &&
          a.protocol <= SW_PROTO_LEGACY && a.route_local_when_no_rules <= 1);
    check(a.role != SW_ROLE_REPORTER || (a.controller_cluster[0] && a.http_timeout_ms < a.tick_ms));
    check(a.tick_ms >= 10 && a.tick_ms <= 3600000);
    check(a.http_timeout_ms >= 1 && a.http_timeout_ms <= 600000);
    check(a.rules_ttl_ms >= 1 && a.rules_ttl_ms <= 86400000);
    check(a.trace_sampling_rate >= 0.0 && a.trace_sampling_rate <= 1.0);
    check(a.max_endpoints >= 1 && a.max_endpoints <= 4096);
    check(a.max_outbound >= 1 && a.max_outbound <= 4096);
    check(a.max_spans_per_tick <= 65536);
    check(a.max_rules >= 1 && a.max_rules <= 4096);
    check(a.max_regions >= 1 && a.max_regions <= 256);
    check(a.max_response_bytes >= 64 && a.max_response_bytes <= 67108864);
    check(a.max_batch_bytes >= 16384 && a.max_batch_bytes <= 16777216);
    check(a.max_workers >= 1 && a.max_workers <= 1024);
    return 0;
}
