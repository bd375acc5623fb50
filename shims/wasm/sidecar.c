/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The sidecar module: both roles in every worker VM, so a pair of
 * WasmPlugins is all a mesh installs (no bootstrap extension, which Istio
 * 1.21 and later no longer apply).
 *
 * Every root context is a filter (filter.c). One that names a controller
 * (`controller_cluster`) is also a reporter candidate (reporter.c): each
 * tick the filter half flushes its batch into the proxy's queue, then the
 * reporter half competes for the proxy's reporter lease by compare-and-swap
 * in shared data (the core's slate_lease_claim()). The holder drains every
 * worker's batches, posts the report and publishes the compiled rules in
 * shared data, where every worker's filter half reads them; the others do
 * nothing more that tick. A holder whose VM is gone stops renewing, and
 * another worker takes the lease over after three ticks.
 *
 * Per request nothing changes: the filter half's code path is the filter
 * module's. The reporter half costs the non-holders one shared-data read
 * per tick and, while they never held the lease, no measurement memory (the
 * reporter's table is made when a worker first holds the lease).
 */
#include "module.h"

int sw_role_configure(sw_root_t *r)
{
    if (!sw_filter_configure(r))
        return 0;
    return r->cfg.controller_cluster[0] == '\0' || sw_reporter_configure(r);
}

void sw_role_tick(sw_root_t *r)
{
    sw_filter_tick(r); /* first: this tick's batch is in the queue for the holder */
    if (r->reporter)
        sw_reporter_tick(r);
}

void sw_role_queue_ready(sw_root_t *r, uint32_t queue_id)
{
    if (r->reporter)
        sw_reporter_queue_ready(r, queue_id);
}

void sw_role_http_response(sw_root_t *r, uint32_t call_id, size_t num_headers, size_t body_size)
{
    if (r->reporter)
        sw_reporter_http_response(r, call_id, num_headers, body_size);
}

void sw_role_stream_create(uint32_t id, sw_root_t *root)
{
    sw_filter_stream_create(id, root);
}
