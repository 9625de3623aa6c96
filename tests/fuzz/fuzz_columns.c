/* libFuzzer target: a chunk's link columns as a link run reads them from the
 * columns file (a cache on the linker's own disk, but a damaged file must not
 * crash a run): parsed, and when they parse, added to the matching engine's
 * input and linked, without a crash whatever their bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../linker/columns.h"
#include "../../linker/match.h"
#include "xl/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char s_spec[] = "[spec]\nname = fuzz\n"
                             "[level 1]\nfields = nhs_number\nstrong = yes\n"
                             "[level 2]\nfields = first_name surname dob\n"
                             "[clk]\nfield = surname 4 128\n"
                             "[blocking]\nkey = yob\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct xl_spec *spec;
    struct linker_columns c;
    struct linker_input *in;
    struct linker_result res;
    char err[512];

    if (spec == NULL && xl_spec_parse(s_spec, "fuzz.spec", &spec, err, sizeof err) != 0)
        abort();
    if (linker_columns_parse(data, size, &c) != 0 || c.n > 64)
        return 0;
    in = linker_input_new(spec);
    if (in != NULL) {
        int ds = linker_input_dataset(in, "a", "b", 1);
        /* The chunk twice: its records must link with their copies. */
        if (linker_input_add_columns(in, ds, &c) == 0 &&
            linker_input_add_columns(in, ds, &c) == 0) {
            /* every record and blocking key in, each key's record in range */
            if (in->nrec != 2 * (size_t)c.n || in->nblocks != 2 * (size_t)c.nblocks)
                abort();
            for (size_t i = 0; i < in->nblocks; i++)
                if (linker_block_rec(in->blocks[i]) >= in->nrec)
                    abort();
            if (linker_match_run(in, &res, err, sizeof err) == 0)
                linker_result_free(&res);
        }
        linker_input_free(&in);
    }
    return 0;
}
