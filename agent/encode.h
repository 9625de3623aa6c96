/* Encoding a validated person into what leaves the agency: match-key tokens,
 * the CLK Bloom filter, blocking keys, local_ref and the sealed outcome payload.
 * Nothing here sees a CSV row; agent/validate.c produces the agent_person. */
#ifndef AGENT_ENCODE_H
#define AGENT_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "crosslink.pb-c.h"
#include "normalise.h"
#include "xl/crypto.h"
#include "xl/keyfile.h"
#include "xl/payload.h"
#include "xl/spec.h"

#define AGENT_SOURCE_ID_MAX 128
#define AGENT_BLOCK_BYTES   XL_BLOCK_BYTES
#define AGENT_REF_BYTES     XL_REF_BYTES
/* Tokens per record: each level once, plus surname parts and variants. */
#define AGENT_MAX_KEYS    (XL_SPEC_MAX_LEVELS * 4)
#define AGENT_MAX_PAYLOAD 4096

/* What could be read from values validation refused (normalise.h, "salvaged
 * values"), for the fuzzy comparison only; "" when nothing was. A field has a
 * salvaged value only when its own value in agent_person is "". encode.c
 * decides, in one table, which uses may take which of them: the CLK all, the
 * blocking keys only coarse codes (phonetic codes, initial, plausible year),
 * match keys and strong identifiers none. */
struct agent_salvage {
    char first[AGENT_NAME_MAX]; /* agent_name_salvage */
    char middle[AGENT_NAME_MAX];
    char surname[AGENT_NAME_MAX];
    char dob[AGENT_DATE_SALVAGE_MAX]; /* agent_date_salvage: "1987-13-05", "1987-05", "1987" */
    char yob[5];      /* its year, only when four digits the plausibility rules allow */
    char postcode[9]; /* agent_code_salvage: "B1 1AI" (UK) or letters and digits */
    char other_id[64];
};

/* One person's normalised values; "" marks a field that is missing or was
 * refused by validation. Holds identifiers: wipe with agent_person_wipe. */
struct agent_person {
    char source_id[AGENT_SOURCE_ID_MAX];
    char first[AGENT_NAME_MAX]; /* normalised, words separated by spaces */
    char middle[AGENT_NAME_MAX];
    char surname[AGENT_NAME_MAX];
    char dob[11]; /* YYYY-MM-DD */
    char sex[2];
    char postcode[9];
    char district[5];
    char sector[7];
    char nhs[11];
    char upn[14];
    char address[AGENT_NAME_MAX]; /* normalised text, words separated by spaces */
    char locality[AGENT_NAME_MAX];
    char other_id[64];
    struct agent_salvage salvage;
};
void agent_person_wipe(struct agent_person *p);

/* The value of a spec field for p, as match keys hash it (names compacted,
 * nickname applied to the first name when nicknames is set; never a salvaged
 * value), into out[outlen]. Returns 0, or XL_ERR_NOTFOUND when the field (or
 * one it derives from) is missing. Exposed for tests and vectors. */
int agent_field_value(const struct agent_person *p, enum xl_field f, int nicknames, char *out,
                      size_t outlen);

struct agent_encoder;

/* local_ref = HMAC-SHA256(agency local key, agency || 0x1f || dataset || 0x1f ||
 * source id), first AGENT_REF_BYTES: the one reference to a record the agency
 * alone can map back. local is the local key prepared with xl_mac_init. */
void agent_local_ref(const struct xl_mac *local, const char *agency, const char *dataset,
                     const char *source_id, uint8_t out[AGENT_REF_BYTES]);

/* Prepares the keys for encoding: derives the match-key, Bloom and blocking
 * subkeys from the linkage secret, keeps the local key, and opens a payload
 * sealer to the analysis key. The encoder copies what it needs; spec must
 * outlive it. NULL on failure (message in err). */
struct agent_encoder *agent_encoder_new(const struct xl_spec *spec,
                                        const struct xl_keyfile *linkage_secret,
                                        const struct xl_keyfile *local_key,
                                        const uint8_t analysis_pk[XL_KEY_BYTES], const char *agency,
                                        const char *dataset, char *err, size_t errlen);
/* Wipes and frees. Accepts NULL; sets *e = NULL. */
void agent_encoder_destroy(struct agent_encoder **e);

/* The encoding of one record, in buffers owned by the structure so a record
 * costs no allocation. rec points into the structure: it is valid until the
 * next agent_encode call on the same agent_encoded. */
struct agent_encoded {
    Crosslink__Record rec;
    Crosslink__MatchKey keys[AGENT_MAX_KEYS];
    Crosslink__MatchKey *keyp[AGENT_MAX_KEYS];
    uint8_t tokens[AGENT_MAX_KEYS][XL_TOKEN_BYTES];
    uint8_t clk[XL_CLK_MAX_BITS / 8];
    uint8_t blocks[XL_SPEC_MAX_BLOCKS * 4][AGENT_BLOCK_BYTES];
    ProtobufCBinaryData blockp[XL_SPEC_MAX_BLOCKS * 4];
    uint8_t local_ref[AGENT_REF_BYTES];
    uint8_t payload[AGENT_MAX_PAYLOAD];
};

/* Encodes p with its outcome values (canonical text, "" when missing; n of
 * them in schema order) into out. XL_ERR_TOOBIG when the outcomes do not fit a
 * payload. */
int agent_encode(struct agent_encoder *e, const struct agent_person *p, const char *const *outcomes,
                 size_t noutcomes, struct agent_encoded *out);

/* The CLK of p alone (bits set into clk, xl_spec_clk_bytes(spec) bytes). */
void agent_encode_clk(const struct agent_encoder *e, const struct agent_person *p, uint8_t *clk);

/* The check value of the encoder's linkage secret (sent so the linker can refuse
 * a submission made with another secret of the same epoch). */
void agent_encoder_secret_check(const struct agent_encoder *e, uint8_t out[XL_CHECK_BYTES]);

/* The payload key of the encoder's batch (xl/payload.h): its payloads are
 * compact, and open only with it, which the .xle header carries once. */
void agent_encoder_payload_key(const struct agent_encoder *e, uint8_t out[XL_PAYLOAD_KEY]);

#endif
