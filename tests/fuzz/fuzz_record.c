/* libFuzzer target: a record from a peer goes through the linker's checks and,
 * when they pass, into the matching engine's input and a link run, without a
 * crash whatever its bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../linker/ingest.h"
#include "../../linker/match.h"
#include "xl/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char s_spec[] = "[spec]\nname = fuzz\n"
                             "[level 1]\nfields = nhs_number\nstrong = yes\n"
                             "[level 2]\nfields = first_name surname dob\n"
                             "[level 3]\nfields = first_name surname dob\nvariant = names_swapped\n"
                             "compare = 2\n"
                             "[clk]\nfield = surname 4 128\n"
                             "[blocking]\nkey = yob\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct xl_spec *spec;
    static struct linker_ctx ctx;
    struct linker_input *in;
    struct linker_result res;
    Crosslink__Record *r;
    char err[512];

    if (spec == NULL) {
        if (xl_spec_parse(s_spec, "fuzz.spec", &spec, err, sizeof err) != 0)
            abort();
        ctx.spec = spec;
        ctx.clk_bytes = xl_spec_clk_bytes(spec);
    }
    r = crosslink__record__unpack(NULL, size, data);
    if (r == NULL)
        return 0;
    if (linker_record_check(&ctx, r, 1, err, sizeof err) == 0) {
        in = linker_input_new(spec);
        if (in != NULL) {
            int ds = linker_input_dataset(in, "a", "b", 1);
            /* The record twice: it must join itself without trouble. */
            if (linker_input_add(in, ds, r) == 0 && linker_input_add(in, ds, r) == 0 &&
                linker_match_run(in, &res, err, sizeof err) == 0)
                linker_result_free(&res);
            linker_input_free(&in);
        }
    }
    crosslink__record__free_unpacked(r, NULL);
    return 0;
}
