#include "evidence.h"

static const char *const s_bands[LINKER_NBANDS] = {"identifier", "keys", "probable", "single"};

const char *
linker_band_name(enum linker_band b)
{
    return (unsigned)b < LINKER_NBANDS ? s_bands[b] : "?";
}

enum linker_band
linker_level_band(const struct xl_spec *spec, int level)
{
    const struct xl_spec_level *l;

    if (level < 0)
        return LINKER_BAND_SINGLE;
    if (level == 0)
        return LINKER_BAND_PROBABLE;
    l = xl_spec_level(spec, (uint8_t)level);
    return l != NULL && l->strong ? LINKER_BAND_IDENTIFIER : LINKER_BAND_KEYS;
}
