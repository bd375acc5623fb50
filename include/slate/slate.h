/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file slate.h
 * @brief The whole public API of libslate: include this one header.
 *
 * The core allocates nothing, performs no I/O, reads no clock and keeps no
 * global state: callers pass memory and time (nanoseconds).
 */
#ifndef SLATE_SLATE_H
#define SLATE_SLATE_H

#include "slate/export.h"
#include "slate/version.h"
#include "slate/status.h"
#include "slate/rate.h"
#include "slate/stats.h"
#include "slate/sampler.h"
#include "slate/ruleset.h"
#include "slate/meter.h"
#include "slate/failover.h"
#include "slate/lease.h"
#include "slate/key.h"
#include "slate/name.h"
#include "slate/identity.h"
#include "slate/codec.h"
#include "slate/legacy.h"

#endif /* SLATE_SLATE_H */
