/* libFuzzer target: the linkage-specification parser never crashes, and what it
 * accepts has a canonical form, and a CLK the encoder can fill: segments one
 * after another from bit 0, each a multiple of 64 bits (128 when folded), adding
 * up to the CLK's length, at most XL_CLK_MAX_BITS; a "+" line in the segment of
 * the line before (its offset, length and number), with no field twice in one
 * segment; segments numbered in order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xl/spec.h"

static void
s_check_clk(const struct xl_spec *s)
{
    unsigned at = 0, sent = 0, unit = s->clk_xor_fold ? 128 : 64, first, nbits;
    unsigned pfirst = 0, pnbits = 0;
    uint32_t fields = 0; /* the fields of the current segment */
    size_t nseg = 0;

    if (s->nclk_fields == 0 || s->nclk_fields > XL_SPEC_MAX_CLK || s->clk_bits > XL_CLK_MAX_BITS ||
        !(s->clk_flip >= 0.0 && s->clk_flip <= 0.25) || s->clk_salt < -1 ||
        s->clk_salt >= XL_F_COUNT)
        abort();
    for (size_t i = 0; i < s->nclk_fields; i++) {
        const struct xl_spec_clk_field *f = &s->clk_fields[i];
        if (f->k == 0 || f->k > 64 || (unsigned)f->field >= XL_F_COUNT || f->salt < -1 ||
            f->salt >= XL_F_COUNT)
            abort();
        xl_spec_clk_segment(s, i, &first, &nbits);
        if (f->shared) {
            const struct xl_spec_clk_field *p = f - 1;
            if (i == 0 || f->offset != p->offset || f->bits != p->bits ||
                f->segment != p->segment || first != pfirst || nbits != pnbits ||
                (fields & (1u << f->field)))
                abort();
            fields |= 1u << f->field;
            continue;
        }
        if (f->bits == 0 || f->bits % unit != 0 || f->offset != at ||
            f->bits > XL_CLK_MAX_BITS - at || f->segment != nseg)
            abort();
        at += f->bits;
        nseg++;
        fields = 1u << f->field;
        if (first != sent || nbits % 64 != 0)
            abort();
        sent += nbits;
        pfirst = first;
        pnbits = nbits;
    }
    if (at != s->clk_bits || sent != 8 * xl_spec_clk_bytes(s) || nseg != s->nsegments)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xl_spec *s = NULL;
    char *text = malloc(size + 1), err[512], canon[8192];

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (xl_spec_parse(text, "fuzz.spec", &s, err, sizeof err) == 0) {
        if (xl_spec_canonical(s, canon, sizeof canon) < 0)
            abort();
        s_check_clk(s);
        free(s);
    }
    free(text);
    return 0;
}
