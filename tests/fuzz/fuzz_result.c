/* Fuzz target: results read back from bytes (vmo_result_load), as Dask workers or another
 * process hand them over: the bytes may come from anywhere. The first byte picks the mode:
 * 'R' loads the rest as it is (the trailing CRC-32 guards it); anything else recomputes the
 * CRC first, so the fields behind it are reached. A result that loads must render, save
 * and load again to the same JSON, and merge with itself or fail cleanly. The loader checks
 * the structure, not the values (a series value of 7 or NaN loads): the result is walked
 * without range checks (docs/fuzzing.md). */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "fuzz.h"

static void put_crc(uint8_t *b, size_t n)
{
    const uint32_t crc = (uint32_t)crc32(0, b, (uInt)(n - 4));
    for (int i = 0; i < 4; i++)
        b[n - 4 + (size_t)i] = (uint8_t)(crc >> 8 * i);
}

/* NULL when the result holds values JSON cannot carry (NaN) */
static char *json_of(const vmo_result *res)
{
    char *json = NULL;
    const int rc = vmo_result_to_json(res, VMO_JSON_FRAMES, &json);
    FUZZ_CHECK((rc == VMO_OK) == (json != NULL));
    return json;
}

static void round_trip(const vmo_result *res)
{
    uint8_t *bytes = NULL;
    size_t n = 0;
    FUZZ_CHECK(vmo_result_save(res, &bytes, &n) == VMO_OK);
    vmo_result *again = NULL;
    FUZZ_CHECK(vmo_result_load(bytes, n, &again) == VMO_OK);
    char *a = json_of(res), *b = json_of(again);
    FUZZ_CHECK((!a && !b) || (a && b && !strcmp(a, b)));
    vmo_free(a);
    vmo_free(b);
    const vmo_result *parts[2] = { res, again };
    vmo_result *merged = NULL;
    const int rc = vmo_result_merge(parts, 2, &merged);
    FUZZ_CHECK(fuzz_known_status(rc) && (rc == VMO_OK) == (merged != NULL));
    if (merged)
        fuzz_walk_result_loose(merged);
    vmo_result_destroy(&merged);
    vmo_result_destroy(&again);
    vmo_free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const size_t n = size - 1;
    uint8_t *bytes = malloc(n ? n : 1);
    FUZZ_CHECK(bytes != NULL);
    memcpy(bytes, data + 1, n);
    if (data[0] != 'R' && n >= 16)
        put_crc(bytes, n);
    vmo_result *res = (vmo_result *)bytes; /* must be overwritten */
    const int rc = vmo_result_load(bytes, n, &res);
    FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_CORRUPT || rc == VMO_ERR_UNSUPPORTED ||
               rc == VMO_ERR_NO_MEMORY || rc == VMO_ERR_INVALID_ARG);
    FUZZ_CHECK((rc == VMO_OK) == (res != NULL));
    free(bytes);
    if (res) {
        fuzz_walk_result_loose(res);
        round_trip(res);
        vmo_result_destroy(&res);
    }
    return 0;
}
