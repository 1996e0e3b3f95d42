/* Helpers of the fuzz targets: contract checks and the result walk (fuzz.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: contract broken: %s\n", file, line, what);
    abort();
}

int fuzz_known_status(int rc)
{
    return rc <= VMO_OK && rc >= VMO_ERR_BAD_MANIFEST;
}

char *fuzz_strndup(const uint8_t *data, size_t size, size_t max)
{
    const size_t n = size < max ? size : max;
    char *s = malloc(n + 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

void fuzz_copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    FUZZ_CHECK(in && out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        FUZZ_CHECK(fwrite(buf, 1, n, out) == n);
    fclose(in);
    FUZZ_CHECK(fclose(out) == 0);
}

vmo_analyzer *fuzz_small_analyzer(const char *left_zone)
{
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    FUZZ_CHECK(vmo_config_create(&cfg) == VMO_OK);
    FUZZ_CHECK(vmo_config_set_int(cfg, "width", 32) == VMO_OK);
    FUZZ_CHECK(vmo_config_set_int(cfg, "threads", 1) == VMO_OK);
    FUZZ_CHECK(vmo_config_set_int(cfg, "jobs", 1) == VMO_OK);
    FUZZ_CHECK(vmo_config_set_int(cfg, "frames", 1) == VMO_OK);
    FUZZ_CHECK(vmo_config_add_zone(cfg, "left", VMO_ZONE_INCLUDE, left_zone) == VMO_OK);
    FUZZ_CHECK(vmo_analyzer_create(cfg, &an) == VMO_OK);
    vmo_config_destroy(&cfg);
    return an;
}

/* 0: read values without judging them (fuzz_walk_result_loose). */
static int strict = 1;

#define RANGE_CHECK(cond) (strict ? FUZZ_CHECK(cond) : (void)0)

static void walk_clip(const vmo_result *res, int c, int zones)
{
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    FUZZ_CHECK(vmo_result_clip(res, c, &ci) == VMO_OK);
    FUZZ_CHECK(ci.path != NULL && ci.codec != NULL);
    RANGE_CHECK(fuzz_known_status(ci.status));
    RANGE_CHECK((ci.status == VMO_OK) == (ci.error == NULL) || ci.status == VMO_ERR_TRUNCATED);
    RANGE_CHECK(ci.frames >= 0 && ci.analysed >= 0 && ci.analysed <= ci.frames);
    RANGE_CHECK(!isnan(ci.duration) && ci.duration >= 0);
    for (int z = 0; z < zones; z++) {
        vmo_series s = { .struct_size = sizeof(s) };
        if (vmo_result_series(res, c, z, &s) != VMO_OK)
            continue;
        for (uint32_t i = 0; i < s.count; i++) {
            /* time never goes back, even when a damaged stream's timestamps do (a
             * repeated timestamp is kept: valid files have them) */
            RANGE_CHECK(isfinite(s.t[i]) && s.t[i] >= 0);
            RANGE_CHECK(i == 0 || s.t[i] >= s.t[i - 1]);
            RANGE_CHECK(s.changed[i] >= 0.0f && s.changed[i] <= 1.0f);
            RANGE_CHECK(s.mad[i] >= 0.0f && s.mad[i] <= 255.0f);
            (void)s.flags[i];
        }
    }
}

static void walk_event(const vmo_result *res, int e, int clips, int zones)
{
    vmo_event ev = { .struct_size = sizeof(ev) };
    FUZZ_CHECK(vmo_result_event(res, e, &ev) == VMO_OK);
    /* a lighting change is the whole frame's: zone -1 */
    FUZZ_CHECK(ev.kind == VMO_EVENT_LIGHTING ? ev.zone == -1 : ev.zone >= 0 && ev.zone < zones);
    /* end_clip may come before clip in the list: clips are joined in wall-clock order,
     * whatever order they were given in */
    FUZZ_CHECK(ev.clip >= 0 && ev.clip < clips && ev.end_clip >= 0 && ev.end_clip < clips);
    RANGE_CHECK(isfinite(ev.start) && isfinite(ev.end));
    RANGE_CHECK(ev.clip != ev.end_clip || ev.start <= ev.end);
    RANGE_CHECK(ev.clip_start <= ev.start + 1e-9 && ev.clip_start >= 0);
    RANGE_CHECK(ev.peak >= 0 && ev.peak <= 1 && ev.mean >= 0 && ev.mean <= ev.peak + 1e-6);
    FUZZ_CHECK(ev.source_count >= 1);
    for (int s = 0; s < ev.source_count; s++) {
        vmo_event_source src = { .struct_size = sizeof(src) };
        FUZZ_CHECK(vmo_result_event_source(res, e, s, &src) == VMO_OK);
        FUZZ_CHECK(src.clip >= 0 && src.clip < clips);
    }
}

void fuzz_walk_result(const vmo_result *res)
{
    const int clips = vmo_result_clip_count(res);
    const int zones = vmo_result_zone_count(res);
    const int events = vmo_result_event_count(res);
    FUZZ_CHECK(clips >= 0 && zones >= 1 && events >= 0);
    for (int z = 0; z < zones; z++)
        FUZZ_CHECK(vmo_result_zone_name(res, z) != NULL);
    FUZZ_CHECK(vmo_result_zone_name(res, zones) == NULL);
    for (int c = 0; c < clips; c++)
        walk_clip(res, c, zones);
    for (int e = 0; e < events; e++)
        walk_event(res, e, clips, zones);
    char *json = NULL;
    const int rc = vmo_result_to_json(res, VMO_JSON_FRAMES | VMO_JSON_PRETTY, &json);
    RANGE_CHECK(rc == VMO_OK); /* NaN has no JSON */
    FUZZ_CHECK((rc == VMO_OK) == (json != NULL) && (!json || json[0] == '{'));
    vmo_free(json);
}

void fuzz_walk_result_loose(const vmo_result *res)
{
    strict = 0;
    fuzz_walk_result(res);
    strict = 1;
}
