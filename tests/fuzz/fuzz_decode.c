/* Fuzz target: hostile container and bitstream bytes fed from memory through the vmo_io
 * read/seek callbacks, down the whole scan path (probe, classification, decode, prepare,
 * zones, scoring, events, JSON). Each input is scanned twice: seekable with a known size,
 * then as a non-seekable stream (a pipe or socket), which takes other paths in FFmpeg and
 * in the truncation checks. Besides memory errors, the target aborts on a broken API
 * contract: an unknown status, a result where none is allowed or none where one is due. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vidmotion/vidmotion.h>

#include "fuzz.h"

typedef struct mem {
    const uint8_t *data;
    int64_t size, pos;
} mem;

static int mem_read(void *opaque, uint8_t *buf, int size)
{
    mem *m = opaque;
    int64_t n = m->size - m->pos;
    if (n > size)
        n = size;
    if (n > 0) {
        memcpy(buf, m->data + m->pos, (size_t)n);
        m->pos += n;
    }
    return (int)(n > 0 ? n : 0);
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence)
{
    mem *m = opaque;
    int64_t base;
    switch (whence) {
    case VMO_SEEK_SIZE: return m->size;
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = m->pos; break;
    case SEEK_END: base = m->size; break;
    default: return -1;
    }
    /* offsets come from the hostile file itself: no overflow on the way */
    if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0 ||
        base + offset > m->size)
        return -1;
    return m->pos = base + offset;
}

/* A small analysis size and one decoder thread: fast and deterministic. Zones of every
 * kind, so the rasterizer and the mask path run on every new frame size. */
static vmo_analyzer *make_analyzer(void)
{
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    FUZZ_CHECK(vmo_config_create(&cfg) == VMO_OK);
    FUZZ_CHECK(vmo_config_set_int(cfg, "width", 48) == VMO_OK);
    FUZZ_CHECK(vmo_config_set_int(cfg, "threads", 1) == VMO_OK);
    FUZZ_CHECK(vmo_config_set_int(cfg, "frames", 1) == VMO_OK);
    FUZZ_CHECK(vmo_config_add_zone(cfg, "top", VMO_ZONE_INCLUDE, "0,0,1,0.5") == VMO_OK);
    FUZZ_CHECK(vmo_config_add_zone(cfg, "tri", VMO_ZONE_INCLUDE, "poly:0.1,0.9;0.9,0.9;0.5,0.2") ==
               VMO_OK);
    FUZZ_CHECK(vmo_config_add_zone(cfg, "mask", VMO_ZONE_EXCLUDE, "0.4,0.4,0.6,0.6") == VMO_OK);
    FUZZ_CHECK(vmo_analyzer_create(cfg, &an) == VMO_OK);
    vmo_config_destroy(&cfg);
    return an;
}

static void scan(const uint8_t *data, size_t size, int seekable)
{
    vmo_analyzer *an = make_analyzer();
    mem m = { data, (int64_t)size, 0 };
    const vmo_io io = { sizeof(io), &m, mem_read, seekable ? mem_seek : NULL };
    vmo_result *res = (vmo_result *)&m; /* must be overwritten */
    const int rc = vmo_analyzer_scan_io(an, &io, "fuzz", &res);
    FUZZ_CHECK(fuzz_known_status(rc));
    FUZZ_CHECK((rc == VMO_OK || rc == VMO_ERR_CANCELLED) == (res != NULL));
    FUZZ_CHECK(vmo_analyzer_last_error(an) != NULL);
    if (getenv("VMO_FUZZ_VERBOSE")) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        if (!res || vmo_result_clip(res, 0, &ci) != VMO_OK)
            ci.status = rc;
        fprintf(stderr, "  %s: %s, %lld frames: %s\n", seekable ? "seekable" : "stream",
                vmo_strerror(ci.status), (long long)ci.frames, vmo_analyzer_last_error(an));
    }
    if (res) {
        fuzz_walk_result(res);
        vmo_result_destroy(&res);
    }
    vmo_analyzer_destroy(&an);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scan(data, size, 1);
    scan(data, size, 0);
    return 0;
}
