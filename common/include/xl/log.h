/* Logging to stderr (the journal, under systemd) with levels.
 *
 * Never pass identifiers, tokens, payloads or key material: log counts, key
 * ids, peer ids, file names and row numbers only. */
#ifndef XL_LOG_H
#define XL_LOG_H

enum xl_log_level { XL_LOG_ERROR = 0, XL_LOG_WARN = 1, XL_LOG_INFO = 2, XL_LOG_DEBUG = 3 };

/* Messages above this level are dropped. Default XL_LOG_INFO; the environment
 * variable XL_LOG (error|warn|info|debug) sets it at the first call. */
void xl_log_set_level(enum xl_log_level level);
enum xl_log_level xl_log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns 0 or XL_ERR_INVALID. */
int xl_log_parse_level(const char *s, enum xl_log_level *out);
/* The program name printed before each line (default "crosslink"). */
void xl_log_set_ident(const char *ident);

void xl_log(enum xl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define xl_error(...) xl_log(XL_LOG_ERROR, __VA_ARGS__)
#define xl_warn(...)  xl_log(XL_LOG_WARN, __VA_ARGS__)
#define xl_info(...)  xl_log(XL_LOG_INFO, __VA_ARGS__)
#define xl_debug(...) xl_log(XL_LOG_DEBUG, __VA_ARGS__)

#endif
