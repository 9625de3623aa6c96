#include <stdio.h>
#include <string.h>

#include "text.h"
#include "xl/err.h"

#define S_WIDTH 78

/* Text from the data (column names, values) with control bytes replaced, so
 * a value cannot move the cursor or recolour the terminal. */
static void
s_put(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++)
        fputc(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s, f);
}

/* text wrapped at S_WIDTH, each line after indent spaces, the first after lead. */
static void
s_wrap(FILE *f, const char *lead, int indent, const char *text)
{
    int col = fprintf(f, "%s", lead);

    while (*text != '\0') {
        size_t w = strcspn(text, " ");

        if (col > indent && col + 1 + (int)w > S_WIDTH)
            col = fprintf(f, "\n%*s", indent, "") - 1;
        else if (col > indent)
            col += fprintf(f, " ");
        fwrite(text, 1, w, f);
        col += (int)w;
        text += w;
        text += strspn(text, " ");
    }
    fputc('\n', f);
}

static void
s_rule_line(void *arg, const char *text)
{
    s_wrap(arg, "  - ", 4, text);
}

static void
s_table(FILE *f, const struct analyst_summary *s, const struct analyst_table *t)
{
    char buf[256];
    int w = 0;

    fputs("\n== ", f);
    s_put(f, t->title);
    fputc('\n', f);
    s_wrap(f, "   ", 3, t->note);
    if (t->chart == ANALYST_CHART_MATRIX) {
        for (size_t i = 0; i < t->nrows; i++) {
            for (size_t j = i; j < t->ncols; j++) {
                fputs("  ", f);
                s_put(f, t->rows[i]);
                if (j != i) {
                    fputs(" and ", f);
                    s_put(f, t->cols[j]);
                }
                fprintf(f, ": %s\n",
                        analyst_entry_text(s, &t->e[i * t->ncols + j], buf, sizeof buf));
            }
        }
        return;
    }
    for (size_t j = 0; j < t->ncols; j++)
        if ((int)strlen(t->cols[j]) > w)
            w = (int)strlen(t->cols[j]);
    for (size_t i = 0; i < t->nrows; i++) {
        fputs("  ", f);
        s_put(f, t->rows[i]);
        fputc('\n', f);
        for (size_t j = 0; j < t->ncols; j++) {
            fputs("    ", f);
            s_put(f, t->cols[j]);
            fprintf(f, "%*s  %s\n", w - (int)strlen(t->cols[j]), "",
                    analyst_entry_text(s, &t->e[i * t->ncols + j], buf, sizeof buf));
        }
    }
}

int
analyst_text_write(const struct analyst_summary *s, FILE *out, char *err, size_t errlen)
{
    fputs("Outcome summary of project ", out);
    s_put(out, s->project);
    fprintf(out, ", link run %lld", s->run);
    if (s->created != NULL) {
        fputs(", extract of ", out);
        s_put(out, s->created);
    }
    fputc('\n', out);
    if (s->purpose != NULL) {
        fputs("Purpose: ", out);
        s_put(out, s->purpose);
        fputc('\n', out);
    }
    if (s->legal_basis != NULL) {
        fputs("Legal basis: ", out);
        s_put(out, s->legal_basis);
        fputc('\n', out);
    }
    fputs("Cohort: ", out);
    if (s->cohort != NULL) {
        s_put(out, s->cohort);
        fputs(" (comparison group: the other children of the extract)", out);
    } else {
        fputs("none (all children as one group)", out);
    }
    fputc('\n', out);
    if (s->index_date != NULL) {
        fputs("Index date: ", out);
        s_put(out, s->index_date);
        fputc('\n', out);
    }
    fputs("Datasets:", out);
    for (size_t k = 0; k < s->ndatasets; k++) {
        fputs(k ? ", " : " ", out);
        s_put(out, s->datasets[k]);
    }
    fputc('\n', out);
    for (size_t i = 0; i < s->ntables; i++)
        s_table(out, s, &s->tables[i]);
    fputs("\nNotes: disclosure control\n", out);
    analyst_sdc_words(s, s_rule_line, out);
    if (fflush(out) != 0 || ferror(out))
        return xl_err_set(err, errlen, XL_ERR_IO, "cannot write the summary");
    return 0;
}
