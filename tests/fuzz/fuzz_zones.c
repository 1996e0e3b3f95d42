/* Fuzz target: the zone and polygon parsers (vmo_config_add_zone specs, zone-file JSON,
 * rectangles and polygons given as raw doubles) and the rasterizer behind them.
 *
 * Input: text that starts with '{' is a zone file (vmo_config_add_zones_json). Text that
 * starts with 'B' carries raw doubles after it: a rectangle from the first four, a polygon
 * from all of them (NaN, infinities and denormals included). Other text is one zone per
 * line: "NAME=SPEC" (an include zone), "-SPEC" (a privacy mask) or "SPEC".
 *
 * Whatever the parsers accept is then rasterized at a few grid sizes, and the zone map is
 * checked pixel by pixel against each polygon rasterized alone (vmo_polygon_rasterize):
 * a pixel belongs to a reported zone exactly when that zone's polygon covers it and no
 * mask does. Finally a short pushed stream is scored with those zones. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "config.h"
#include "fuzz.h"
#include "zones.h"

#define MAX_TEXT 65536

static void add_lines(vmo_config *cfg, char *text)
{
    int n = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char name[32];
        snprintf(name, sizeof(name), "z%d", n++);
        const char *eq = strchr(line, '=');
        int rc;
        if (line[0] == '-') {
            rc = vmo_config_add_zone(cfg, name, VMO_ZONE_EXCLUDE, line + 1);
        } else if (eq) {
            *(char *)eq = '\0';
            rc = vmo_config_add_zone(cfg, line, VMO_ZONE_INCLUDE, eq + 1);
        } else {
            rc = vmo_config_add_zone(cfg, name, VMO_ZONE_INCLUDE, line);
        }
        FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_BAD_ZONE);
        FUZZ_CHECK(rc == VMO_OK || vmo_config_last_error(cfg)[0] != '\0');
    }
}

static void add_binary(vmo_config *cfg, const uint8_t *data, size_t size)
{
    const uint32_t n = (uint32_t)(size / sizeof(double));
    double *xy = malloc((n ? n : 1) * sizeof(double));
    FUZZ_CHECK(xy != NULL);
    memcpy(xy, data, n * sizeof(double));
    if (n >= 4) {
        const int rc =
            vmo_config_add_zone_rect(cfg, "rect", VMO_ZONE_INCLUDE, xy[0], xy[1], xy[2], xy[3]);
        FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_BAD_ZONE);
    }
    const int rc = vmo_config_add_zone_polygon(cfg, "poly", VMO_ZONE_EXCLUDE, xy, n / 2);
    FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_BAD_ZONE);
    free(xy);
}

/* Pixel (or zone area) disagreement between the map and the single-polygon rasterizer. */
static void check_map(const vmo_zone_set *set, const vmo_zone_map *map, int w, int h)
{
    const size_t npix = (size_t)w * (size_t)h;
    uint8_t *excl = calloc(npix, 1), *mask = malloc(npix);
    FUZZ_CHECK(excl && mask);
    for (int i = 0; i < set->count; i++) {
        if (set->zones[i].kind != VMO_ZONE_EXCLUDE)
            continue;
        vmo_polygon_rasterize(set->zones[i].xy, set->zones[i].npoints, w, h, mask);
        for (size_t p = 0; p < npix; p++)
            excl[p] |= mask[p];
    }
    for (size_t p = 0; p < npix; p++)
        FUZZ_CHECK(!!map->excluded[p] == excl[p]);
    const int includes = vmo_zone_set_include_count(set);
    FUZZ_CHECK(map->zone_count == (includes ? includes : 1));
    /* reported zone z: the z-th include zone, or the implicit whole frame */
    for (int z = 0, i = 0; z < map->zone_count; z++, i++) {
        if (includes) {
            while (set->zones[i].kind != VMO_ZONE_INCLUDE)
                i++;
            vmo_polygon_rasterize(set->zones[i].xy, set->zones[i].npoints, w, h, mask);
        } else {
            memset(mask, 1, npix);
        }
        uint64_t area = 0;
        for (size_t p = 0; p < npix; p++) {
            const int want = mask[p] && !excl[p];
            FUZZ_CHECK(map->labels[p] < map->class_count);
            FUZZ_CHECK((int)(map->class_zones[map->labels[p]] >> z & 1) == want);
            area += (uint64_t)want;
        }
        FUZZ_CHECK(map->zone_area[z] == area);
    }
    free(excl);
    free(mask);
}

static void rasterize(const vmo_config *cfg)
{
    static const int sizes[][2] = { { 1, 1 }, { 7, 5 }, { 64, 36 }, { 161, 90 } };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        vmo_zone_map map = { 0 };
        vmo_errbuf err = { "" };
        const int rc = vmo_zone_map_build(&map, &cfg->zones, sizes[i][0], sizes[i][1], &err);
        FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_LIMIT);
        if (rc == VMO_OK)
            check_map(&cfg->zones, &map, sizes[i][0], sizes[i][1]);
        vmo_zone_map_free(&map);
    }
}

/* Three frames of a moving bar through the zones: scores for every class of pixel. */
static void push_stream(const vmo_config *cfg)
{
    vmo_analyzer *an = NULL;
    const int rc = vmo_analyzer_create(cfg, &an);
    FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_BAD_ZONE || rc == VMO_ERR_LIMIT);
    if (rc != VMO_OK)
        return;
    enum { W = 40, H = 24 };
    static uint8_t luma[W * H];
    for (int k = 0; k < 3; k++) {
        for (int p = 0; p < W * H; p++)
            luma[p] = (uint8_t)((p % W) / 8 == k ? 230 : 20);
        const vmo_frame f = { sizeof(f), W, H, W, luma, k * 40000, 0, 0, 0, 0 };
        FUZZ_CHECK(vmo_analyzer_push_frame(an, &f) == VMO_OK);
    }
    vmo_result *res = NULL;
    FUZZ_CHECK(vmo_analyzer_push_finish(an, "push", NAN, &res) == VMO_OK);
    fuzz_walk_result(res);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vmo_config *cfg = NULL;
    FUZZ_CHECK(vmo_config_create(&cfg) == VMO_OK);
    FUZZ_CHECK(vmo_config_set_int(cfg, "width", 40) == VMO_OK);
    if (size > 0 && data[0] == 'B') {
        add_binary(cfg, data + 1, size - 1);
    } else {
        char *text = fuzz_strndup(data, size, MAX_TEXT);
        if (text[0] == '{') {
            const int before = vmo_config_zone_count(cfg);
            const int rc = vmo_config_add_zones_json(cfg, text);
            FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_BAD_ZONE);
            FUZZ_CHECK(rc == VMO_OK || vmo_config_zone_count(cfg) == before); /* all or nothing */
        } else {
            add_lines(cfg, text);
        }
        free(text);
    }
    vmo_config *copy = NULL;
    FUZZ_CHECK(vmo_config_clone(cfg, &copy) == VMO_OK);
    FUZZ_CHECK(vmo_config_zone_count(copy) == vmo_config_zone_count(cfg));
    for (int i = 0; i < vmo_config_zone_count(cfg); i++)
        FUZZ_CHECK(!strcmp(vmo_config_zone_name(copy, i), vmo_config_zone_name(cfg, i)));
    vmo_config_destroy(&copy);
    rasterize(cfg);
    push_stream(cfg);
    vmo_config_destroy(&cfg);
    return 0;
}
