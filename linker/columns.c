#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/xle.h"

static const uint8_t s_magic[4] = {'X', 'L', 'C', '1'};

static uint8_t *
s_room(struct linker_columns_part *p, size_t n)
{
    if (n > p->cap - p->len) {
        size_t cap = p->cap ? p->cap : 4096;
        uint8_t *q;
        while (cap - p->len < n) {
            if (cap > SIZE_MAX / 2)
                return NULL;
            cap *= 2;
        }
        q = realloc(p->p, cap);
        if (q == NULL)
            return NULL;
        p->p = q;
        p->cap = cap;
    }
    p->len += n;
    return p->p + p->len - n;
}

static void
s_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void
linker_columns_begin(struct linker_columns_buf *b)
{
    b->clk.len = b->refs.len = b->keys.len = b->blocks.len = b->out.len = 0;
    b->n = 0;
    b->clk_bytes = 0;
}

int
linker_columns_add(struct linker_columns_buf *b, const Crosslink__Record *r)
{
    uint8_t *p;

    if (r->clk.len == 0 || r->clk.len > UINT16_MAX || (b->n > 0 && r->clk.len != b->clk_bytes) ||
        r->local_ref.len != XL_REF_BYTES || b->n == UINT32_MAX)
        return XL_ERR_FORMAT;
    for (size_t i = 0; i < r->n_keys; i++)
        if (r->keys[i] == NULL || r->keys[i]->level > 255 ||
            r->keys[i]->token.len != XL_TOKEN_BYTES)
            return XL_ERR_FORMAT;
    for (size_t i = 0; i < r->n_blocks; i++)
        if (r->blocks[i].len != XL_BLOCK_BYTES)
            return XL_ERR_FORMAT;
    if ((p = s_room(&b->clk, r->clk.len)) == NULL)
        return XL_ERR_NOMEM;
    memcpy(p, r->clk.data, r->clk.len);
    if ((p = s_room(&b->refs, XL_REF_BYTES)) == NULL)
        return XL_ERR_NOMEM;
    memcpy(p, r->local_ref.data, XL_REF_BYTES);
    if ((p = s_room(&b->keys, r->n_keys * LINKER_COLUMNS_KEY_BYTES)) == NULL)
        return XL_ERR_NOMEM;
    for (size_t i = 0; i < r->n_keys; i++, p += LINKER_COLUMNS_KEY_BYTES) {
        s_put32(p, b->n);
        s_put32(p + 4, (uint32_t)r->keys[i]->level);
        memcpy(p + 8, r->keys[i]->token.data, XL_TOKEN_BYTES);
    }
    if ((p = s_room(&b->blocks, r->n_blocks * LINKER_COLUMNS_BLK_BYTES)) == NULL)
        return XL_ERR_NOMEM;
    for (size_t i = 0; i < r->n_blocks; i++, p += LINKER_COLUMNS_BLK_BYTES) {
        s_put32(p, b->n);
        memcpy(p + 4, r->blocks[i].data, XL_BLOCK_BYTES);
    }
    b->clk_bytes = (uint32_t)r->clk.len;
    b->n++;
    return 0;
}

int
linker_columns_finish(struct linker_columns_buf *b, const uint8_t **data, size_t *len)
{
    const struct linker_columns_part *parts[] = {&b->clk, &b->refs, &b->keys, &b->blocks};
    size_t total = LINKER_COLUMNS_HEADER;
    uint8_t *p;

    for (size_t i = 0; i < 4; i++)
        total += parts[i]->len;
    b->out.len = 0;
    if ((p = s_room(&b->out, total)) == NULL)
        return XL_ERR_NOMEM;
    memcpy(p, s_magic, 4);
    s_put32(p + 4, b->n);
    s_put32(p + 8, b->clk_bytes);
    s_put32(p + 12, (uint32_t)(b->keys.len / LINKER_COLUMNS_KEY_BYTES));
    s_put32(p + 16, (uint32_t)(b->blocks.len / LINKER_COLUMNS_BLK_BYTES));
    s_put32(p + 20, 0);
    p += LINKER_COLUMNS_HEADER;
    for (size_t i = 0; i < 4; i++) {
        if (parts[i]->len > 0)
            memcpy(p, parts[i]->p, parts[i]->len);
        p += parts[i]->len;
    }
    *data = b->out.p;
    *len = total;
    return 0;
}

int
linker_columns_from_packed(struct linker_columns_buf *b, const uint8_t *data, size_t len,
                           const uint8_t **out, size_t *outlen)
{
    const uint8_t *rec;
    size_t off = 0, rl;
    int more;

    if (b->unpacker.alloc.alloc == NULL) /* a buffer made by zeroing */
        linker_unpacker_init(&b->unpacker);
    linker_columns_begin(b);
    while ((more = xl_stored_next(data, len, &off, &rec, &rl)) == 1) {
        const Crosslink__Record *r = linker_unpack_record(&b->unpacker, rec, rl);
        int rc;
        if (r == NULL)
            return b->unpacker.buf == NULL ? XL_ERR_NOMEM : XL_ERR_FORMAT;
        if ((rc = linker_columns_add(b, r)) != 0)
            return rc;
    }
    if (more < 0)
        return XL_ERR_FORMAT;
    return linker_columns_finish(b, out, outlen);
}

void
linker_columns_free(struct linker_columns_buf *b)
{
    linker_unpacker_free(&b->unpacker);
    free(b->clk.p);
    free(b->refs.p);
    free(b->keys.p);
    free(b->blocks.p);
    free(b->out.p);
    memset(b, 0, sizeof *b);
}

int
linker_columns_parse(const uint8_t *data, size_t len, struct linker_columns *c)
{
    uint64_t need;

    memset(c, 0, sizeof *c);
    if (data == NULL || len < LINKER_COLUMNS_HEADER || memcmp(data, s_magic, 4) != 0 ||
        linker_columns_u32(data + 20) != 0)
        return XL_ERR_FORMAT;
    c->n = linker_columns_u32(data + 4);
    c->clk_bytes = linker_columns_u32(data + 8);
    c->nkeys = linker_columns_u32(data + 12);
    c->nblocks = linker_columns_u32(data + 16);
    if (c->clk_bytes > UINT16_MAX)
        return XL_ERR_FORMAT;
    /* Each product is below 2^49: the sum cannot wrap. */
    need = LINKER_COLUMNS_HEADER + (uint64_t)c->n * c->clk_bytes + (uint64_t)c->n * XL_REF_BYTES +
           (uint64_t)c->nkeys * LINKER_COLUMNS_KEY_BYTES +
           (uint64_t)c->nblocks * LINKER_COLUMNS_BLK_BYTES;
    if (need != len)
        return XL_ERR_FORMAT;
    c->clk = data + LINKER_COLUMNS_HEADER;
    c->refs = c->clk + (size_t)c->n * c->clk_bytes;
    c->keys = c->refs + (size_t)c->n * XL_REF_BYTES;
    c->blocks = c->keys + (size_t)c->nkeys * LINKER_COLUMNS_KEY_BYTES;
    for (uint32_t i = 0; i < c->nkeys; i++) {
        const uint8_t *k = c->keys + (size_t)i * LINKER_COLUMNS_KEY_BYTES;
        if (linker_columns_u32(k) >= c->n || linker_columns_u32(k + 4) > 255)
            return XL_ERR_FORMAT;
    }
    for (uint32_t i = 0; i < c->nblocks; i++)
        if (linker_columns_u32(c->blocks + (size_t)i * LINKER_COLUMNS_BLK_BYTES) >= c->n)
            return XL_ERR_FORMAT;
    return 0;
}
