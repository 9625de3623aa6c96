#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl/err.h"
#include "xl/ini.h"
#include "xl/spec.h"

static const char *s_fields[XL_F_COUNT] = {
    [XL_F_NHS_NUMBER] = "nhs_number",
    [XL_F_UPN] = "upn",
    [XL_F_FIRST_NAME] = "first_name",
    [XL_F_FIRST_INITIAL] = "first_initial",
    [XL_F_MIDDLE_NAME] = "middle_name",
    [XL_F_SURNAME] = "surname",
    [XL_F_SURNAME_PHONETIC] = "surname_phonetic",
    [XL_F_FIRST_PHONETIC] = "first_phonetic",
    [XL_F_DOB] = "dob",
    [XL_F_YOB] = "yob",
    [XL_F_SEX] = "sex",
    [XL_F_POSTCODE] = "postcode",
    [XL_F_DISTRICT] = "district",
    [XL_F_SECTOR] = "sector",
    [XL_F_ADDRESS] = "address",
    [XL_F_LOCALITY] = "locality",
    [XL_F_OTHER_ID] = "other_id",
};

static const char *s_variants[] = {"none", "names_swapped", "dob_transposed"};

const char *
xl_field_name(enum xl_field f)
{
    return (unsigned)f < XL_F_COUNT ? s_fields[f] : NULL;
}

int
xl_field_parse(const char *s, enum xl_field *out)
{
    for (int i = 0; i < XL_F_COUNT; i++) {
        if (strcmp(s, s_fields[i]) == 0) {
            *out = (enum xl_field)i;
            return 0;
        }
    }
    return XL_ERR_INVALID;
}

/* Parser state: inih calls s_handler once per key; the first error is kept. */
struct s_parse {
    struct xl_ini ini; /* first: the shared INI state (xl/ini.h) */
    struct xl_spec *spec;
    struct xl_spec_level *level; /* current [level N] section, or NULL */
    char section[64];
    int seen_accept;
};

static int
s_bool(const char *v, int *out)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = 0;
    else
        return XL_ERR_INVALID;
    return 0;
}

static int
s_uint(const char *v, unsigned long max, unsigned long *out)
{
    char *end;

    errno = 0;
    if (v[0] < '0' || v[0] > '9')
        return XL_ERR_INVALID;
    *out = strtoul(v, &end, 10);
    return errno != 0 || *end != '\0' || *out > max ? XL_ERR_INVALID : 0;
}

/* Parses a space-separated list of field names into parts. */
static int
s_parts(struct s_parse *p, const char *key, const char *v, enum xl_field *parts, size_t *n)
{
    char buf[256], *save = NULL;

    *n = 0;
    if (strlen(v) >= sizeof buf)
        return xl_ini_fail(&p->ini, "%s: list too long", key);
    strcpy(buf, v);
    for (char *t = strtok_r(buf, " \t,", &save); t != NULL; t = strtok_r(NULL, " \t,", &save)) {
        if (*n == XL_SPEC_MAX_PARTS)
            return xl_ini_fail(&p->ini, "%s: more than %d fields", key, XL_SPEC_MAX_PARTS);
        if (xl_field_parse(t, &parts[*n]) != 0)
            return xl_ini_fail(&p->ini, "%s: unknown field '%.40s'", key, t);
        for (size_t i = 0; i < *n; i++) {
            if (parts[i] == parts[*n])
                return xl_ini_fail(&p->ini, "%s: field '%s' listed twice", key, t);
        }
        (*n)++;
    }
    if (*n == 0)
        return xl_ini_fail(&p->ini, "%s: no fields given", key);
    return 1;
}

static int
s_level_key(struct s_parse *p, const char *name, const char *v)
{
    struct xl_spec_level *l = p->level;
    unsigned long n;

    if (strcmp(name, "name") == 0) {
        if (strlen(v) >= sizeof l->name || strchr(v, ' ') != NULL)
            return xl_ini_fail(&p->ini, "level name must be one word under %d characters",
                               XL_SPEC_NAME_MAX);
        strcpy(l->name, v);
    } else if (strcmp(name, "fields") == 0) {
        if (l->nparts > 0)
            return xl_ini_fail(&p->ini, "fields given twice in [%s] (is the section repeated?)",
                               p->section);
        return s_parts(p, "fields", v, l->parts, &l->nparts);
    } else if (strcmp(name, "variant") == 0) {
        size_t i;
        for (i = 0; i < sizeof s_variants / sizeof s_variants[0]; i++) {
            if (strcmp(v, s_variants[i]) == 0)
                break;
        }
        if (i == sizeof s_variants / sizeof s_variants[0])
            return xl_ini_fail(&p->ini, "variant must be none, names_swapped or dob_transposed");
        l->variant = (enum xl_variant)i;
    } else if (strcmp(name, "compare") == 0) {
        if (s_uint(v, 255, &n) != 0 || n == 0)
            return xl_ini_fail(&p->ini, "compare must be a level number 1-255");
        l->compare = (uint8_t)n;
    } else if (strcmp(name, "strong") == 0) {
        if (s_bool(v, &l->strong) != 0)
            return xl_ini_fail(&p->ini, "strong must be yes or no");
    } else {
        return xl_ini_fail(&p->ini, "unknown key '%.40s' in [%s]", name, p->section);
    }
    return 1;
}

static int
s_clk_key(struct s_parse *p, const char *name, const char *v)
{
    struct xl_spec *s = p->spec;
    unsigned long n;

    if (strcmp(name, "bits") == 0) {
        return xl_ini_fail(&p->ini, "bits is no longer set for the whole CLK: each field has a "
                                    "segment of its own, 'field = NAME K BITS'");
    } else if (strcmp(name, "q") == 0) {
        if (s_uint(v, 4, &n) != 0 || n == 0)
            return xl_ini_fail(&p->ini, "q must be 1 to 4");
        s->clk_q = (unsigned)n;
    } else if (strcmp(name, "field") == 0) {
        char fname[64], bitstext[16], saltname[64], rest[2];
        unsigned k, bits = 0;
        int shared, ntok, salt = -1;
        enum xl_field f, sf;
        /* sscanf's %u takes "-64" as 2^32 - 64: no sign is let through. */
        ntok = sscanf(v, "%63s %u %15s %63s %1s", fname, &k, bitstext, saltname, rest);
        if ((ntok != 3 && ntok != 4) || strchr(v, '-') != NULL || k == 0 || k > 64)
            return xl_ini_fail(&p->ini, "field takes a field name, k (1-64), the bits of its "
                                        "segment (a multiple of 64) or + to share the segment "
                                        "of the line before, and optionally a field to salt "
                                        "with, e.g. 'field = surname 10 256 dob'");
        if (ntok == 4) {
            if (xl_field_parse(saltname, &sf) != 0)
                return xl_ini_fail(&p->ini, "unknown salt field '%.40s'", saltname);
            salt = (int)sf;
        }
        shared = strcmp(bitstext, "+") == 0;
        if (!shared && (sscanf(bitstext, "%u%1s", &bits, rest) != 1 || bits < 64 || bits % 64 != 0))
            return xl_ini_fail(&p->ini, "the bits of a segment must be a multiple of 64, or + to "
                                        "share the segment of the line before");
        if (shared && s->nclk_fields == 0)
            return xl_ini_fail(&p->ini, "the first field line cannot share a segment (+)");
        if (s->nclk_fields == XL_SPEC_MAX_CLK)
            return xl_ini_fail(&p->ini, "more than %d field lines", XL_SPEC_MAX_CLK);
        /* Not clk_bits + bits, which a length near 2^32 wraps round to a small sum. */
        if (bits > XL_CLK_MAX_BITS - s->clk_bits)
            return xl_ini_fail(&p->ini, "the CLK's segments add up to more than %d bits",
                               XL_CLK_MAX_BITS);
        if (xl_field_parse(fname, &f) != 0)
            return xl_ini_fail(&p->ini, "unknown field '%.40s'", fname);
        {
            /* Within one segment a field is listed once. */
            size_t first = s->nclk_fields;
            while (shared && first > 0 && s->clk_fields[first - 1].shared)
                first--;
            if (shared)
                first--;
            for (size_t i = first; i < s->nclk_fields; i++) {
                if (s->clk_fields[i].field == f)
                    return xl_ini_fail(&p->ini, "field '%s' listed twice in one segment", fname);
            }
        }
        {
            struct xl_spec_clk_field *cf = &s->clk_fields[s->nclk_fields];
            cf->field = f;
            cf->k = k;
            cf->shared = shared;
            cf->salt = salt;
            if (shared) {
                cf->bits = cf[-1].bits;
                cf->offset = cf[-1].offset;
                cf->segment = cf[-1].segment;
            } else {
                cf->bits = bits;
                cf->offset = s->clk_bits;
                cf->segment = (unsigned)s->nsegments++;
                s->clk_bits += bits;
            }
            s->nclk_fields++;
        }
    } else if (strcmp(name, "flip") == 0) {
        char *end;
        errno = 0;
        s->clk_flip = strtod(v, &end);
        if (errno != 0 || *end != '\0' || end == v || !(s->clk_flip >= 0.0 && s->clk_flip <= 0.25))
            return xl_ini_fail(&p->ini, "flip must be a probability from 0 to 0.25");
        /* Canonical to 1/10000, so the fingerprint does not depend on how it is written. */
        s->clk_flip = (double)(long)(s->clk_flip * 10000.0 + 0.5) / 10000.0;
    } else if (strcmp(name, "salt") == 0) {
        enum xl_field f;
        if (strcmp(v, "none") == 0) {
            s->clk_salt = -1;
        } else if (xl_field_parse(v, &f) == 0) {
            s->clk_salt = (int)f;
        } else {
            return xl_ini_fail(&p->ini, "salt must be none or a field name");
        }
    } else if (strcmp(name, "xor_fold") == 0) {
        if (s_bool(v, &s->clk_xor_fold) != 0)
            return xl_ini_fail(&p->ini, "xor_fold must be yes or no");
    } else {
        return xl_ini_fail(&p->ini, "unknown key '%.40s' in [clk]", name);
    }
    return 1;
}

static int
s_threshold(struct s_parse *p, const char *v, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(v, &end);
    if (errno != 0 || *end != '\0' || end == v || !(*out > 0.0 && *out <= 1.0))
        return xl_ini_fail(&p->ini, "threshold must be a number in (0, 1]");
    return 1;
}

static int
s_handler(void *user, const char *section, const char *name, const char *value)
{
    struct s_parse *p = user;
    struct xl_spec *s = p->spec;
    unsigned long n;

    if (p->ini.failed)
        return 1;
    if (strcmp(section, p->section) != 0) {
        /* A new section begins with this key. */
        snprintf(p->section, sizeof p->section, "%s", section);
        p->level = NULL;
        if (strncmp(section, "level ", 6) == 0) {
            if (s_uint(section + 6, 255, &n) != 0 || n == 0)
                return xl_ini_fail(&p->ini, "[%s]: level number must be 1-255", section);
            for (size_t i = 0; i < s->nlevels; i++) {
                if (s->levels[i].number == n)
                    return xl_ini_fail(&p->ini, "[%s] appears twice", section);
            }
            if (s->nlevels == XL_SPEC_MAX_LEVELS)
                return xl_ini_fail(&p->ini, "more than %d levels", XL_SPEC_MAX_LEVELS);
            p->level = &s->levels[s->nlevels++];
            p->level->number = (uint8_t)n;
        }
    }
    if (p->level != NULL)
        return s_level_key(p, name, value);
    if (strcmp(section, "spec") == 0) {
        if (strcmp(name, "name") == 0) {
            if (strlen(value) >= sizeof s->name || strchr(value, ' ') != NULL || !value[0])
                return xl_ini_fail(&p->ini, "spec name must be one word under %d characters",
                                   XL_SPEC_NAME_MAX);
            strcpy(s->name, value);
            return 1;
        }
        if (strcmp(name, "nicknames") == 0) {
            if (s_bool(value, &s->nicknames) != 0)
                return xl_ini_fail(&p->ini, "nicknames must be yes or no");
            return 1;
        }
    } else if (strcmp(section, "clk") == 0) {
        return s_clk_key(p, name, value);
    } else if (strcmp(section, "blocking") == 0 && strcmp(name, "key") == 0) {
        if (s->nblocks == XL_SPEC_MAX_BLOCKS)
            return xl_ini_fail(&p->ini, "more than %d blocking keys", XL_SPEC_MAX_BLOCKS);
        struct xl_spec_block *b = &s->blocks[s->nblocks++];
        return s_parts(p, "key", value, b->parts, &b->nparts);
    } else if (strcmp(section, "thresholds") == 0) {
        if (strcmp(name, "accept") == 0) {
            p->seen_accept = 1;
            return s_threshold(p, value, &s->accept);
        }
        if (strcmp(name, "possible") == 0)
            return s_threshold(p, value, &s->possible);
    } else {
        return xl_ini_fail(&p->ini, "unknown section [%s]", section);
    }
    return xl_ini_fail(&p->ini, "unknown key '%.40s' in [%s]", name, section);
}

static int
s_has(const enum xl_field *parts, size_t n, enum xl_field f)
{
    for (size_t i = 0; i < n; i++) {
        if (parts[i] == f)
            return 1;
    }
    return 0;
}

static int
s_level_cmp(const void *a, const void *b)
{
    const struct xl_spec_level *x = a, *y = b;
    return (int)x->number - (int)y->number;
}

/* Checks that hold across sections; message without a line number. */
static int
s_validate(struct xl_spec *s, char *msg, size_t len)
{
    if (s->name[0] == '\0')
        return xl_err_set(msg, len, XL_ERR_FORMAT, "[spec] name is required");
    if (s->nlevels == 0)
        return xl_err_set(msg, len, XL_ERR_FORMAT, "no [level N] sections");
    qsort(s->levels, s->nlevels, sizeof s->levels[0], s_level_cmp);
    for (size_t i = 0; i < s->nlevels; i++) {
        struct xl_spec_level *l = &s->levels[i];
        const struct xl_spec_level *c;
        if (l->nparts == 0)
            return xl_err_set(msg, len, XL_ERR_FORMAT, "[level %u] has no fields", l->number);
        if (l->name[0] == '\0')
            snprintf(l->name, sizeof l->name, "level%u", l->number);
        if (l->compare == 0)
            l->compare = l->number;
        c = xl_spec_level(s, l->compare);
        if (c == NULL)
            return xl_err_set(msg, len, XL_ERR_FORMAT,
                              "[level %u] compares with level %u, which "
                              "does not exist",
                              l->number, l->compare);
        if (l->compare != l->number && c->compare != c->number && c->compare != 0)
            return xl_err_set(msg, len, XL_ERR_FORMAT,
                              "[level %u] compares with level %u, which is itself a variant",
                              l->number, l->compare);
        if (l->compare != l->number &&
            (c->nparts != l->nparts || memcmp(c->parts, l->parts, l->nparts * sizeof l->parts[0])))
            return xl_err_set(msg, len, XL_ERR_FORMAT,
                              "[level %u] compares with level %u but lists different fields",
                              l->number, l->compare);
        if (l->variant == XL_VARIANT_NAMES_SWAPPED &&
            !(s_has(l->parts, l->nparts, XL_F_SURNAME) &&
              (s_has(l->parts, l->nparts, XL_F_FIRST_NAME) ||
               s_has(l->parts, l->nparts, XL_F_FIRST_INITIAL))))
            return xl_err_set(msg, len, XL_ERR_FORMAT,
                              "[level %u] names_swapped needs surname and first_name", l->number);
        if (l->variant == XL_VARIANT_DOB_TRANSPOSED && !s_has(l->parts, l->nparts, XL_F_DOB))
            return xl_err_set(msg, len, XL_ERR_FORMAT, "[level %u] dob_transposed needs dob",
                              l->number);
        if (l->strong &&
            (l->nparts != 1 || (l->parts[0] != XL_F_NHS_NUMBER && l->parts[0] != XL_F_UPN)))
            return xl_err_set(msg, len, XL_ERR_FORMAT,
                              "[level %u] strong applies to a single nhs_number or upn field",
                              l->number);
        for (size_t j = 0; j < i && l->strong; j++) {
            if (s->levels[j].strong && s->levels[j].parts[0] == l->parts[0])
                return xl_err_set(msg, len, XL_ERR_FORMAT,
                                  "[level %u] %s is already a strong level ([level %u])", l->number,
                                  s_fields[l->parts[0]], s->levels[j].number);
        }
    }
    if (s->nclk_fields == 0)
        return xl_err_set(msg, len, XL_ERR_FORMAT,
                          "[clk] needs at least one 'field = NAME K BITS'");
    for (size_t i = 0; i < s->nclk_fields && s->clk_xor_fold; i++) {
        if (s->clk_fields[i].bits % 128 != 0)
            return xl_err_set(msg, len, XL_ERR_FORMAT,
                              "[clk] xor_fold needs every segment to be a multiple of 128 bits");
    }
    if (s->nblocks == 0)
        return xl_err_set(msg, len, XL_ERR_FORMAT, "[blocking] needs at least one 'key = ...'");
    if (s->possible > s->accept)
        return xl_err_set(msg, len, XL_ERR_FORMAT, "[thresholds] possible is above accept");
    return 0;
}

int
xl_spec_canonical(const struct xl_spec *s, char *buf, size_t len)
{
    size_t n = 0;

#define S_PUT(...)                                                                                 \
    do {                                                                                           \
        int w_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__);                            \
        if (w_ < 0)                                                                                \
            return XL_ERR_INTERNAL;                                                                \
        n += (size_t)w_;                                                                           \
    } while (0)

    /* Thresholds are left out: they change how the linker decides, not the bytes
     * an agent produces, so tuning them does not invalidate submissions. */
    S_PUT("crosslink-spec 2\nname=%s\nnicknames=%d\n", s->name, s->nicknames);
    for (size_t i = 0; i < s->nlevels; i++) {
        const struct xl_spec_level *l = &s->levels[i];
        S_PUT("level=%u name=%s variant=%s compare=%u strong=%d fields=", l->number, l->name,
              s_variants[l->variant], l->compare, l->strong);
        for (size_t j = 0; j < l->nparts; j++)
            S_PUT("%s%s", j ? "," : "", s_fields[l->parts[j]]);
        S_PUT("\n");
    }
    S_PUT("clk bits=%u q=%u salt=%s xor_fold=%d flip=%.4f\n", s->clk_bits, s->clk_q,
          s->clk_salt < 0 ? "none" : s_fields[s->clk_salt], s->clk_xor_fold, s->clk_flip);
    for (size_t i = 0; i < s->nclk_fields; i++) {
        const struct xl_spec_clk_field *cf = &s->clk_fields[i];
        if (cf->shared)
            S_PUT("clk_field=%s k=%u bits=+", s_fields[cf->field], cf->k);
        else
            S_PUT("clk_field=%s k=%u bits=%u", s_fields[cf->field], cf->k, cf->bits);
        S_PUT("%s%s\n", cf->salt >= 0 ? " salt=" : "", cf->salt >= 0 ? s_fields[cf->salt] : "");
    }
    for (size_t i = 0; i < s->nblocks; i++) {
        S_PUT("block=%zu fields=", i);
        for (size_t j = 0; j < s->blocks[i].nparts; j++)
            S_PUT("%s%s", j ? "," : "", s_fields[s->blocks[i].parts[j]]);
        S_PUT("\n");
    }
#undef S_PUT
    return n < len ? (int)n : XL_ERR_INVALID;
}

/* After a successful parse: the checks across sections, then the fingerprint. */
static int
s_finish(struct xl_spec *s, const char *name, struct xl_spec **out, char *err, size_t errlen)
{
    char canon[8192], msg[XL_ERRBUF];
    int n;

    if (s_validate(s, msg, sizeof msg) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: %s", name, msg);
    n = xl_spec_canonical(s, canon, sizeof canon);
    if (n < 0)
        return xl_err_set(err, errlen, XL_ERR_INTERNAL, "%s: specification too large", name);
    xl_sha256(canon, (size_t)n, s->fingerprint);
    *out = s;
    return 0;
}

static struct xl_spec *
s_new(void)
{
    struct xl_spec *s = calloc(1, sizeof *s);

    if (s != NULL) {
        s->clk_q = 2;
        s->clk_salt = -1;
        s->accept = 0.8;
        s->possible = 0.7;
    }
    return s;
}

int
xl_spec_load(const char *path, struct xl_spec **out, char *err, size_t errlen)
{
    struct s_parse p = {0};
    int r;

    *out = NULL;
    p.spec = s_new();
    if (p.spec == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    r = xl_ini_parse_file(path, "linkage specification", s_handler, &p, err, errlen);
    if (r == 0)
        r = s_finish(p.spec, path, out, err, errlen);
    if (r != 0)
        free(p.spec);
    return r;
}

int
xl_spec_parse(const char *text, const char *name, struct xl_spec **out, char *err, size_t errlen)
{
    struct s_parse p = {0};
    int r;

    *out = NULL;
    p.spec = s_new();
    if (p.spec == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    r = xl_ini_parse_string(text, name, s_handler, &p, err, errlen);
    if (r == 0)
        r = s_finish(p.spec, name, out, err, errlen);
    if (r != 0)
        free(p.spec);
    return r;
}

const struct xl_spec_level *
xl_spec_level(const struct xl_spec *s, uint8_t number)
{
    for (size_t i = 0; i < s->nlevels; i++) {
        if (s->levels[i].number == number)
            return &s->levels[i];
    }
    return NULL;
}

size_t
xl_spec_clk_bytes(const struct xl_spec *s)
{
    return (s->clk_xor_fold ? s->clk_bits / 2 : s->clk_bits) / 8;
}

void
xl_spec_clk_segment(const struct xl_spec *s, size_t i, unsigned *first_bit, unsigned *nbits)
{
    unsigned div = s->clk_xor_fold ? 2 : 1;

    *first_bit = s->clk_fields[i].offset / div;
    *nbits = s->clk_fields[i].bits / div;
}
