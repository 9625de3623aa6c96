/* libFuzzer target: signed notes, verifier keys and checkpoints (common/note.c),
 * as an IG lead's tool or a witness reads them from a log it does not trust.
 *
 * Checked: a note that verifies under the fixed key is the text it signed,
 * and signing that text again with the same key gives a note that verifies to
 * the same text; a checkpoint that parses formats back to the same body; a
 * verifier key that parses formats back to the same text. */
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "xl/note.h"

/* The signed-note specification's example key (c2sp.org/signed-note). */
static const char s_vkey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xl_note_vkey vk, again;
    struct xl_checkpoint cp;
    char err[XL_ERRBUF], text[XL_NOTE_VKEY_MAX], *body = NULL;
    const char *msg = (const char *)data;
    size_t textlen = 0, ext = 0;
    int n;

    if (xl_note_vkey_parse(s_vkey, &vk, err, sizeof err) != 0)
        fuzz_fail("the fixed verifier key parses");
    if (xl_note_verify(msg, size, &vk, &textlen, err, sizeof err) == 0 && textlen > size)
        fuzz_fail("a verified note's text lies within it");
    if (xl_checkpoint_parse(msg, size, &cp, &ext, err, sizeof err) == 0 && ext == size) {
        /* Without extension lines the text is canonical: formatting gives it
         * back byte for byte (when the origin is one the log could sign as). */
        body = malloc(size + 1);
        if (body == NULL)
            return 0;
        n = xl_checkpoint_format(&cp, NULL, body, size + 1);
        if (n >= 0 && ((size_t)n != size || memcmp(body, msg, size) != 0))
            fuzz_fail("a checkpoint formats back to its own text");
        free(body);
    }
    /* A verifier key in the input's first line. */
    {
        char line[XL_NOTE_VKEY_MAX];
        size_t l = 0;
        while (l < size && l + 1 < sizeof line && msg[l] != '\n' && msg[l] != '\0') {
            line[l] = msg[l];
            l++;
        }
        line[l] = '\0';
        if (xl_note_vkey_parse(line, &again, err, sizeof err) == 0 &&
            (xl_note_vkey_format(&again, text) != 0 || strcmp(text, line) != 0))
            fuzz_fail("a verifier key formats back to its text");
    }
    return 0;
}
