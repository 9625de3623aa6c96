/* The linkage specification: one INI file, identical at every agent and the
 * linker, that says how identifiers are compared. See deploy/examples/linkage.spec.
 *
 * Its fingerprint is SHA-256 over a canonical text form (fields in a fixed
 * order, no comments or spacing), so re-indenting or commenting the file does
 * not change it, while any change of meaning does. Every submission carries the
 * fingerprint and the linker refuses one that differs from its own. */
#ifndef XL_SPEC_H
#define XL_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "xl/crypto.h"

/* The person fields a match key, CLK or blocking key can be built from. The
 * agent derives the derived ones (initial, phonetic code, year, district) from
 * the normalised base fields. The numbers are part of the protocol. */
enum xl_field {
    XL_F_NHS_NUMBER = 0,
    XL_F_UPN,
    XL_F_FIRST_NAME, /* normalised, spaces removed ("marysue") */
    XL_F_FIRST_INITIAL,
    XL_F_MIDDLE_NAME,
    XL_F_SURNAME,          /* normalised, spaces removed ("smithjones") */
    XL_F_SURNAME_PHONETIC, /* Soundex of the surname */
    XL_F_FIRST_PHONETIC,   /* Soundex of the first name */
    XL_F_DOB,              /* YYYY-MM-DD */
    XL_F_YOB,              /* YYYY */
    XL_F_SEX,              /* "m" or "f" */
    XL_F_POSTCODE,         /* "B1 1AA" */
    XL_F_DISTRICT,         /* outward code "B1" */
    XL_F_SECTOR,           /* "B1 1" */
    XL_F_ADDRESS,          /* address line(s), normalised text with digits */
    XL_F_LOCALITY,         /* town, suburb or city, normalised text */
    XL_F_OTHER_ID,         /* another identifier (letters and digits); not strong */
    XL_F_COUNT
};

/* Name used in the spec file ("first_name"), or NULL. */
const char *xl_field_name(enum xl_field f);
int xl_field_parse(const char *s, enum xl_field *out);

/* Variants compute the value with inputs rearranged and are compared with the
 * tokens of another level (`compare`), to catch swapped names and day/month
 * transposition without comparing all levels with each other. */
enum xl_variant { XL_VARIANT_NONE = 0, XL_VARIANT_NAMES_SWAPPED, XL_VARIANT_DOB_TRANSPOSED };

#define XL_SPEC_MAX_LEVELS 32
#define XL_SPEC_MAX_PARTS  8
#define XL_SPEC_MAX_BLOCKS 8
#define XL_SPEC_NAME_MAX   64
#define XL_CLK_MAX_BITS    4096

struct xl_spec_level {
    uint8_t number; /* 1..255, the byte hashed into the token */
    char name[XL_SPEC_NAME_MAX];
    enum xl_field parts[XL_SPEC_MAX_PARTS];
    size_t nparts;
    enum xl_variant variant;
    uint8_t compare; /* level whose tokens this one is joined with; itself if none */
    int strong;      /* a strong identifier: two different values never merge */
};

/* Each CLK field line sets bits in a segment: its own, or with BITS "+" the
 * segment of the line before it, so a field can be mixed into another's (a
 * name with the date of birth: such a segment says how alike two records are
 * in both, and holds no value a hub could count on its own). The linker
 * measures how alike two records are segment by segment (the segment's Dice
 * score) as well as over the whole filter. A field may appear in several
 * segments; every segment draws its own positions (its number is hashed). */
#define XL_SPEC_MAX_CLK 24
struct xl_spec_clk_field {
    enum xl_field field;
    unsigned k;       /* bit positions set per q-gram of this field */
    unsigned bits;    /* the segment's length before folding: a multiple of 64 (128 if folded) */
    unsigned offset;  /* where the segment starts, in bits, before folding */
    unsigned segment; /* the segment's number, 0 for the first */
    int shared;       /* written "+": adds to the segment of the line before */
    int salt;         /* an xl_field this line's q-grams are salted with; -1: [clk] salt */
};

struct xl_spec_block {
    enum xl_field parts[XL_SPEC_MAX_PARTS];
    size_t nparts;
};

struct xl_spec {
    char name[XL_SPEC_NAME_MAX];
    int nicknames; /* canonicalise first-name nicknames for match keys */
    struct xl_spec_level levels[XL_SPEC_MAX_LEVELS];
    size_t nlevels;    /* ordered by number: highest precedence first */
    unsigned clk_bits; /* the segments' lengths added, before folding */
    unsigned clk_q;
    /* Hardening against frequency attacks on single segments: each bit of a
     * record's filter is flipped with this probability, from a keyed generator
     * seeded by the record's local_ref (so a record always encodes alike, and
     * two records of the same name do not). 0 = none. */
    double clk_flip;
    struct xl_spec_clk_field clk_fields[XL_SPEC_MAX_CLK];
    size_t nclk_fields;
    size_t nsegments;
    int clk_salt;     /* -1 = none, else an xl_field to salt q-grams with */
    int clk_xor_fold; /* fold the filter in half with XOR */
    struct xl_spec_block blocks[XL_SPEC_MAX_BLOCKS];
    size_t nblocks;
    double accept;   /* Dice score at or above which records link */
    double possible; /* lower bound of the "possible" band */
    uint8_t fingerprint[XL_HASH_BYTES];
};

/* Parses the spec file at path into *out (caller frees with free()). Errors name
 * the file and line: XL_ERR_NOTFOUND, XL_ERR_IO, XL_ERR_FORMAT. */
int xl_spec_load(const char *path, struct xl_spec **out, char *err, size_t errlen);
/* As xl_spec_load, from a string (name is used in messages). */
int xl_spec_parse(const char *text, const char *name, struct xl_spec **out, char *err,
                  size_t errlen);

/* Writes the canonical text form into buf (NUL-terminated); returns its length,
 * or a negative XL_ERR_INVALID when buf is too small. The fingerprint is SHA-256
 * of exactly these bytes. */
int xl_spec_canonical(const struct xl_spec *s, char *buf, size_t len);

/* The level with this number, or NULL. */
const struct xl_spec_level *xl_spec_level(const struct xl_spec *s, uint8_t number);

/* Bytes of a CLK as sent (after folding). */
size_t xl_spec_clk_bytes(const struct xl_spec *s);
/* The segment of CLK field line i as sent (after folding): first bit and
 * length, both multiples of 64. */
void xl_spec_clk_segment(const struct xl_spec *s, size_t i, unsigned *first_bit, unsigned *nbits);

#endif
