#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "xl/err.h"
#include "xl/html.h"

/* Chart geometry, in SVG user units (1 unit = 1 CSS pixel at full size; the
 * viewBox scales to the page, so 720 fits A4 between 15 mm margins). */
#define S_W     720
#define S_LABEL 250 /* left column: row labels */
#define S_BAR   300 /* bar area */
#define S_BARH  14
#define S_GAP   10
#define S_FONT  12

static const char *const s_colours[] = {"#1b5e9a", "#c0620b", "#4d4d4d"};

static const char s_style[] =
    "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;color:#111;background:#fff;"
    "max-width:60em;margin:1.5em auto;padding:0 1em;line-height:1.45}\n"
    "h1{font-size:1.6em;margin-bottom:.3em}h2{font-size:1.25em;margin-top:1.8em;"
    "border-bottom:1px solid #bbb}\n"
    "dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}"
    "dl.meta dt{font-weight:bold}dl.meta dd{margin:0}\n"
    "table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}\n"
    "caption{text-align:left;font-weight:bold;padding:.3em 0;caption-side:top}\n"
    "th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}\n"
    "th{background:#eef2f6}td.supp{color:#555;font-style:italic}\n"
    "figure{margin:.6em 0}figure svg{width:100%;max-width:720px;height:auto;display:block}\n"
    "figcaption{font-size:.9em;color:#333}\n"
    ".rules{background:#f6f6f0;border:1px solid #ccc;padding:.5em 1em;margin-top:1.5em}"
    ".rules h2{margin-top:.3em}\n"
    "footer{margin-top:2em;font-size:.9em;border-top:1px solid #bbb}\n"
    "@page{size:A4;margin:15mm}\n"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}"
    "figure,table,.rules{break-inside:avoid}h2{break-after:avoid}"
    "figure svg{max-width:100%}th{background:#eee}}\n";

static void
s_meta(FILE *f, const char *name, const char *value)
{
    if (value == NULL)
        return;
    fputs("<dt>", f);
    xl_html_esc(f, name);
    fputs("</dt><dd>", f);
    xl_html_esc(f, value);
    fputs("</dd>\n", f);
}

static void
s_rule_item(void *arg, const char *text)
{
    fputs("<li>", arg);
    xl_html_esc(arg, text);
    fputs("</li>\n", arg);
}

static const struct analyst_entry *
s_entry(const struct analyst_table *t, size_t i, size_t j)
{
    return &t->e[i * t->ncols + j];
}

static void
s_svg_open(FILE *f, size_t id, int height, const struct analyst_table *t, const char *desc)
{
    fprintf(f,
            "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
            "width=\"%d\" height=\"%d\" role=\"img\" aria-labelledby=\"c%zu-t c%zu-d\" "
            "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" font-size=\"%d\">\n"
            "<title id=\"c%zu-t\">",
            S_W, height, S_W, height, id, id, S_FONT, id);
    xl_html_esc(f, t->title);
    fprintf(f, "</title>\n<desc id=\"c%zu-d\">", id);
    xl_html_esc(f, desc);
    fputs(" The table below gives the same numbers.</desc>\n", f);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", S_W, height);
}

static void
s_legend(FILE *f, const struct analyst_table *t, int y)
{
    int x = S_LABEL;

    for (size_t j = 0; j < t->ncols && j < 3; j++) {
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>", x, y - 10,
                s_colours[j]);
        fprintf(f, "<text x=\"%d\" y=\"%d\">", x + 16, y);
        xl_html_esc(f, t->cols[j]);
        fputs("</text>\n", f);
        x += 30 + 8 * (int)strlen(t->cols[j]);
    }
}

static void
s_row_label(FILE *f, const char *label, int y)
{
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", S_LABEL - 8, y);
    xl_html_esc_short(f, label, 36);
    fputs("</text>\n", f);
}

/* Horizontal bars of the shown counts, one per column in each row. */
static void
s_chart_bars(FILE *f, const struct analyst_summary *s, const struct analyst_table *t, size_t id)
{
    size_t nc = t->ncols < 3 ? t->ncols : 3;
    int rowh = (int)nc * (S_BARH + 2) + S_GAP, height = 30 + (int)t->nrows * rowh + 10;
    long max = 1, v;
    char buf[128];

    for (size_t i = 0; i < t->nrows; i++)
        for (size_t j = 0; j < nc; j++)
            if (analyst_sdc_shown(s->sdc, s_entry(t, i, j)->count, &v) && v > max)
                max = v;
    s_svg_open(f, id, height, t,
               "Horizontal bars: the number of children in each row, rounded; suppressed numbers "
               "have no bar and say why.");
    s_legend(f, t, 16);
    for (size_t i = 0; i < t->nrows; i++) {
        int y0 = 30 + (int)i * rowh;

        s_row_label(f, t->rows[i], y0 + rowh / 2);
        for (size_t j = 0; j < nc; j++) {
            const struct analyst_entry *e = s_entry(t, i, j);
            int y = y0 + (int)j * (S_BARH + 2);

            if (analyst_sdc_shown(s->sdc, e->count, &v)) {
                int w = (int)((double)v / (double)max * S_BAR);

                fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>",
                        S_LABEL, y, w, S_BARH, s_colours[j]);
                fprintf(f, "<text x=\"%d\" y=\"%d\">%ld</text>\n", S_LABEL + w + 4, y + 11, v);
            } else {
                fprintf(f,
                        "<text x=\"%d\" y=\"%d\" fill=\"#555\" font-style=\"italic\">%s</text>\n",
                        S_LABEL, y + 11,
                        analyst_sdc_reason(s->sdc, analyst_sdc_state(s->sdc, e->count), buf,
                                           sizeof buf));
            }
        }
    }
    fprintf(f, "<line x1=\"%d\" y1=\"24\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", S_LABEL,
            S_LABEL, height - 8);
    fputs("</svg></figure>\n", f);
}

/* Rates as bars from 0 to 100% with the 95% interval drawn across each. */
static void
s_chart_rates(FILE *f, const struct analyst_summary *s, const struct analyst_table *t, size_t id)
{
    size_t nc = t->ncols < 3 ? t->ncols : 3;
    int rowh = (int)nc * (S_BARH + 4) + S_GAP, height = 44 + (int)t->nrows * rowh + 10;
    char buf[128];

    s_svg_open(f, id, height, t,
               "Horizontal bars: the percentage of children with each outcome, with a line "
               "across each bar for the 95% interval and the rounded counts beside it; withheld "
               "rates have no bar and say why.");
    s_legend(f, t, 16);
    for (int k = 0; k <= 4; k++) {
        int x = S_LABEL + k * S_BAR / 4;

        fprintf(f,
                "<line x1=\"%d\" y1=\"34\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                "<text x=\"%d\" y=\"30\" text-anchor=\"middle\" font-size=\"10\">%d%%</text>\n",
                x, x, height - 8, x, k * 25);
    }
    for (size_t i = 0; i < t->nrows; i++) {
        int y0 = 44 + (int)i * rowh;

        s_row_label(f, t->rows[i], y0 + rowh / 2);
        for (size_t j = 0; j < nc; j++) {
            const struct analyst_entry *e = s_entry(t, i, j);
            struct analyst_rate r;
            int y = y0 + (int)j * (S_BARH + 4);
            long n, d;

            analyst_sdc_rate(s->sdc, e->count, e->den, &r);
            if (r.shown && analyst_sdc_shown(s->sdc, e->count, &n) &&
                analyst_sdc_shown(s->sdc, e->den, &d)) {
                int w = (int)(r.p * S_BAR), lo = S_LABEL + (int)(r.lo * S_BAR),
                    hi = S_LABEL + (int)(r.hi * S_BAR), my = y + S_BARH / 2;

                fprintf(f,
                        "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                        "fill-opacity=\"0.75\"/>",
                        S_LABEL, y, w, S_BARH, s_colours[j]);
                fprintf(f,
                        "<path d=\"M%d %dH%dM%d %dV%dM%d %dV%d\" stroke=\"#000\" "
                        "stroke-width=\"1.5\" fill=\"none\"/>",
                        lo, my, hi, lo, y + 2, y + S_BARH - 2, hi, y + 2, y + S_BARH - 2);
                fprintf(f, "<text x=\"%d\" y=\"%d\">%.0f%% (%ld of %ld)</text>\n",
                        S_LABEL + S_BAR + 6, y + 11, r.p * 100, n, d);
            } else {
                enum analyst_sdc_state st = analyst_sdc_state(s->sdc, e->count);

                if (st == ANALYST_SDC_SHOWN)
                    snprintf(buf, sizeof buf, "rate withheld: the denominator is suppressed");
                else
                    analyst_sdc_reason(s->sdc, st, buf, sizeof buf);
                fprintf(f,
                        "<text x=\"%d\" y=\"%d\" fill=\"#555\" font-style=\"italic\">%s</text>\n",
                        S_LABEL + 4, y + 11, buf);
            }
        }
    }
    fprintf(f, "<line x1=\"%d\" y1=\"34\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", S_LABEL,
            S_LABEL, height - 8);
    fputs("</svg></figure>\n", f);
}

/* The datasets against each other: a shaded square per pair (upper triangle),
 * darker for more children, the count written in it. */
static void
s_chart_matrix(FILE *f, const struct analyst_summary *s, const struct analyst_table *t, size_t id)
{
    size_t n = t->nrows;
    int cell = n <= 6 ? 64 : (int)(384 / n), height = 40 + (int)n * cell + 10;
    long max = 1, v;

    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++)
            if (analyst_sdc_shown(s->sdc, s_entry(t, i, j)->count, &v) && v > max)
                max = v;
    s_svg_open(f, id, height, t,
               "A grid of the datasets against each other, numbered as in the row labels: each "
               "square holds the rounded number of children in both datasets (the diagonal: in "
               "the dataset), darker for more; S marks a suppressed number, 0 none by design.");
    for (size_t j = 0; j < n; j++)
        fprintf(f, "<text x=\"%d\" y=\"30\" text-anchor=\"middle\">%zu</text>\n",
                S_LABEL + (int)j * cell + cell / 2, j + 1);
    for (size_t i = 0; i < n; i++) {
        int y = 40 + (int)i * cell;

        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%zu. ", S_LABEL - 8,
                y + cell / 2 + 4, i + 1);
        xl_html_esc_short(f, t->rows[i], 30);
        fputs("</text>\n", f);
        for (size_t j = i; j < n; j++) {
            int x = S_LABEL + (int)j * cell;

            if (analyst_sdc_shown(s->sdc, s_entry(t, i, j)->count, &v)) {
                double a = 0.1 + 0.8 * (double)v / (double)max;

                fprintf(f,
                        "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                        "fill-opacity=\"%.2f\" stroke=\"#fff\"/>"
                        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">%ld</text>\n",
                        x, y, cell, cell, s_colours[0], a, x + cell / 2, y + cell / 2 + 4,
                        a > 0.5 ? "#fff" : "#000", v);
            } else {
                /* a zero by design is a number, not a suppression: "0", never "S" */
                int zero =
                    analyst_sdc_state(s->sdc, s_entry(t, i, j)->count) == ANALYST_SDC_STRUCTURAL;

                fprintf(f,
                        "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f0f0f0\" "
                        "stroke=\"#fff\"/><text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                        "fill=\"#555\">%s</text>\n",
                        x, y, cell, cell, x + cell / 2, y + cell / 2 + 4, zero ? "0" : "S");
            }
        }
    }
    fputs("</svg></figure>\n", f);
}

static void
s_table(FILE *f, const struct analyst_summary *s, const struct analyst_table *t, size_t id)
{
    char buf[256];

    fprintf(f, "<section id=\"t%zu\">\n<h2>", id);
    xl_html_esc(f, t->title);
    fputs("</h2>\n<p>", f);
    xl_html_esc(f, t->note);
    fputs("</p>\n", f);
    if (t->nrows > 0 && t->ncols > 0) {
        if (t->chart == ANALYST_CHART_BARS)
            s_chart_bars(f, s, t, id);
        else if (t->chart == ANALYST_CHART_RATES)
            s_chart_rates(f, s, t, id);
        else if (t->chart == ANALYST_CHART_MATRIX)
            s_chart_matrix(f, s, t, id);
    }
    fputs("<table>\n<caption>", f);
    xl_html_esc(f, t->title);
    if (t->chart != ANALYST_CHART_NONE)
        fputs(" (the numbers in the chart)", f);
    fputs("</caption>\n<thead><tr><th scope=\"col\"></th>", f);
    for (size_t j = 0; j < t->ncols; j++) {
        fputs("<th scope=\"col\">", f);
        if (t->chart == ANALYST_CHART_MATRIX)
            fprintf(f, "%zu. ", j + 1);
        xl_html_esc(f, t->cols[j]);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < t->nrows; i++) {
        fputs("<tr><th scope=\"row\">", f);
        if (t->chart == ANALYST_CHART_MATRIX)
            fprintf(f, "%zu. ", i + 1);
        xl_html_esc(f, t->rows[i]);
        fputs("</th>", f);
        for (size_t j = 0; j < t->ncols; j++) {
            const struct analyst_entry *e = s_entry(t, i, j);
            enum analyst_sdc_state st = analyst_sdc_state(s->sdc, e->count);
            int supp = e->count >= 0 && st != ANALYST_SDC_SHOWN && st != ANALYST_SDC_STRUCTURAL;

            if (t->chart == ANALYST_CHART_MATRIX && j < i) {
                fputs("<td></td>", f);
                continue;
            }
            fputs(supp ? "<td class=\"supp\">" : "<td>", f);
            xl_html_esc(f, analyst_entry_text(s, e, buf, sizeof buf));
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n</section>\n", f);
}

/* The note under the tables: what each mark means, in one paragraph. */
static void
s_footnote(FILE *f, const struct analyst_summary *s)
{
    const struct analyst_sdc_rules *r = analyst_sdc_rules(s->sdc);

    if (r->round_to > 1)
        fprintf(f, "Counts are rounded to the nearest %ld. ", r->round_to);
    if (r->min_count > 0)
        fprintf(f,
                "&ldquo;suppressed: fewer than %ld&rdquo; marks a count below %ld, zero "
                "included. ",
                r->min_count, r->min_count);
    if (r->min_count > 0 && s->cohort != NULL)
        fputs("&ldquo;0 (none by design)&rdquo; marks a zero the extract's design fixes (the "
              "comparison group has no child in the cohort dataset): not suppressed, since "
              "every reader knows it. ",
              f);
    fputs("&ldquo;suppressed: would reveal a suppressed cell&rdquo; marks a count withheld "
          "because, with the totals shown, it would give a suppressed count back. A rate is "
          "withheld when its count or its denominator is suppressed. The rules in full are "
          "under <a href=\"#sdc\">Disclosure control</a>.",
          f);
}

static void
s_write(FILE *f, const struct analyst_summary *s)
{
    char run[32];

    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
          "Outcome summary: ",
          f);
    xl_html_esc(f, s->project);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>Outcome summary: ",
            s_style);
    xl_html_esc(f, s->project);
    fputs("</h1>\n<dl class=\"meta\">\n", f);
    snprintf(run, sizeof run, "%lld", s->run);
    s_meta(f, "Project", s->project);
    s_meta(f, "Purpose", s->purpose);
    s_meta(f, "Legal basis", s->legal_basis);
    s_meta(f, "Link run", run);
    s_meta(f, "Extract created", s->created);
    s_meta(f, "Cohort", s->cohort != NULL ? s->cohort : "none: all children form one group");
    if (s->cohort != NULL)
        s_meta(f, "Comparison group", "the other children of the extract");
    s_meta(f, "Index date", s->index_date);
    fputs("<dt>Datasets</dt><dd>", f);
    for (size_t k = 0; k < s->ndatasets; k++) {
        if (k)
            fputs(", ", f);
        xl_html_esc(f, s->datasets[k]);
    }
    fputs("</dd>\n</dl>\n</header>\n<main>\n<section id=\"sdc\" class=\"rules\">\n"
          "<h2>Disclosure control</h2>\n<p>Every number in this report has passed these "
          "rules, so it can be published:</p>\n<ul>\n",
          f);
    analyst_sdc_words(s, s_rule_item, f);
    fputs("</ul>\n</section>\n", f);
    for (size_t i = 0; i < s->ntables; i++)
        s_table(f, s, &s->tables[i], i + 1);
    fputs("</main>\n<footer>\n<p>", f);
    s_footnote(f, s);
    fputs("</p>\n</footer>\n</body>\n</html>\n", f);
}

int
analyst_report_html(const struct analyst_summary *s, const char *path, char *err, size_t errlen)
{
    char *tmp = NULL;
    FILE *f;
    int r = 0;

    if (asprintf(&tmp, "%s.tmp", path) < 0)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    f = fopen(tmp, "w");
    if (f == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return r;
    }
    s_write(f, s);
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        fclose(f);
        (void)unlink(tmp);
    } else if (fclose(f) != 0 || rename(tmp, path) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        (void)unlink(tmp);
    }
    free(tmp);
    return r;
}
