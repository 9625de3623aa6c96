#include <stdio.h>
#include <stdlib.h>
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

/* A line of text from the data (purpose, legal basis), wrapped like the notes
 * and with control bytes replaced as s_put does. */
static void
s_wrap_data(FILE *f, const char *lead, int indent, const char *text)
{
    char *copy = strdup(text);

    if (copy == NULL) { /* unwrapped is still readable */
        fputs(lead, f);
        s_put(f, text);
        fputc('\n', f);
        return;
    }
    for (char *p = copy; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    s_wrap(f, lead, indent, copy);
    free(copy);
}

/* "Datasets: a/b, c/d, ...", wrapped. */
static void
s_datasets(FILE *f, const struct analyst_summary *s)
{
    size_t len = 1;
    char *all;

    for (size_t k = 0; k < s->ndatasets; k++)
        len += strlen(s->datasets[k]) + 2;
    all = malloc(len);
    if (all == NULL) { /* unwrapped is still readable */
        fputs("Datasets:", f);
        for (size_t k = 0; k < s->ndatasets; k++) {
            fputs(k ? ", " : " ", f);
            s_put(f, s->datasets[k]);
        }
        fputc('\n', f);
        return;
    }
    all[0] = '\0';
    for (size_t k = 0; k < s->ndatasets; k++) {
        if (k)
            strcat(all, ", ");
        strcat(all, s->datasets[k]);
    }
    s_wrap_data(f, "Datasets:", 2, all);
    free(all);
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
        /* The diagonal is the children known to the dataset, said so: under a
         * heading of pairs a dataset's name alone reads as a pair's. */
        for (size_t i = 0; i < t->nrows; i++) {
            for (size_t j = i; j < t->ncols; j++) {
                fputs("  ", f);
                s_put(f, t->rows[i]);
                if (j != i) {
                    fputs(" and ", f);
                    s_put(f, t->cols[j]);
                } else {
                    fputs(" (all known to it)", f);
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
    if (s->purpose != NULL)
        s_wrap_data(out, "Purpose:", 2, s->purpose);
    if (s->legal_basis != NULL)
        s_wrap_data(out, "Legal basis:", 2, s->legal_basis);
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
    s_datasets(out, s);
    for (size_t i = 0; i < s->ntables; i++)
        s_table(out, s, &s->tables[i]);
    fputs("\nNotes: disclosure control\n", out);
    analyst_sdc_words(s, s_rule_line, out);
    if (fflush(out) != 0 || ferror(out))
        return xl_err_set(err, errlen, XL_ERR_IO, "cannot write the summary");
    return 0;
}
