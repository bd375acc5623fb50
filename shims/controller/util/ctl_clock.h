/*
 * slate-controller: the two clocks the daemon reads.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_CLOCK_H
#define CTL_CLOCK_H

#include <stdint.h>

/* Wall clock, unix nanoseconds (report and rule times). */
uint64_t ctl_now_ns(void);
/* Monotonic clock, nanoseconds (periods, deadlines, ages). */
uint64_t ctl_mono_ns(void);

#endif
