/*
 * slate-controller: one timestamped line per significant event, on stderr.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_LOG_H
#define CTL_LOG_H

typedef enum ctl_log_level {
    CTL_LOG_DEBUG = 0,
    CTL_LOG_INFO = 1,
    CTL_LOG_WARN = 2,
    CTL_LOG_ERROR = 3,
} ctl_log_level;

/* Lines below `level` are dropped. Default: CTL_LOG_INFO. */
void ctl_log_set_level(ctl_log_level level);
/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int ctl_log_parse_level(const char *s);
/*
 * Writes "2025-01-02T03:04:05.678Z LEVEL message\n" with one write(2), so
 * lines from different threads never interleave. Newlines inside the message
 * are replaced by spaces: one event, one line.
 */
void ctl_log(ctl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
