#include <string.h>

#include "xl/html.h"

void
xl_html_esc(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (c >= 0x20 && c != 0x7f)
                fputc(c, f);
        }
    }
}

void
xl_html_esc_short(FILE *f, const char *s, size_t n)
{
    char buf[128];

    if (s == NULL || strlen(s) <= n || n + 4 > sizeof buf) {
        xl_html_esc(f, s);
        return;
    }
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    memcpy(buf, s, n);
    buf[n] = '\0';
    xl_html_esc(f, buf);
    fputs("\xe2\x80\xa6", f);
}
