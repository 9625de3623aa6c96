#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl/err.h"
#include "xl/log.h"

static int s_level = -1;
static const char *s_ident = "crosslink";

int
xl_log_parse_level(const char *s, enum xl_log_level *out)
{
    static const char *names[] = {"error", "warn", "info", "debug"};

    for (int i = 0; i < 4; i++) {
        if (s != NULL && strcmp(s, names[i]) == 0) {
            *out = (enum xl_log_level)i;
            return 0;
        }
    }
    return XL_ERR_INVALID;
}

enum xl_log_level
xl_log_get_level(void)
{
    if (s_level < 0) {
        enum xl_log_level l = XL_LOG_INFO;
        (void)xl_log_parse_level(getenv("XL_LOG"), &l);
        s_level = (int)l;
    }
    return (enum xl_log_level)s_level;
}

void
xl_log_set_level(enum xl_log_level level)
{
    s_level = (int)level;
}

void
xl_log_set_ident(const char *ident)
{
    s_ident = ident;
}

void
xl_log(enum xl_log_level level, const char *fmt, ...)
{
    /* Prefixes in the sd-daemon style so the journal records the priority. */
    static const char *prefix[] = {"<3>", "<4>", "<6>", "<7>"};
    static const char *label[] = {"error: ", "warning: ", "", "debug: "};
    char msg[1024], line[1200];
    va_list ap;
    int n;

    if ((int)level > (int)xl_log_get_level())
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    n = snprintf(line, sizeof line, "%s%s: %s%s\n",
                 getenv("JOURNAL_STREAM") != NULL ? prefix[level] : "", s_ident, label[level], msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    /* One write per line so concurrent processes do not interleave within a line. */
    (void)!write(STDERR_FILENO, line, (size_t)n);
}
