/* Zones: spec and JSON parsing, validation, rasterization against a brute-force per-pixel
 * even-odd reference, overlap classes, exclusions, limits and rebuilds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "zones.h"
#include "tutil.h"

/* ------------------------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------------------------- */

static void add_ok(vmo_zone_set *set, const char *name, int kind, const char *spec)
{
    vmo_errbuf err = { { 0 } };
    const int rc = vmo_zone_set_add_spec(set, name, kind, spec, &err);
    ck_assert_msg(rc == VMO_OK, "%s=%s rejected: %d %s", name, spec, rc, err.msg);
}

/* Rejected with VMO_ERR_BAD_ZONE, nothing added, and a message containing `needle`. */
static void add_bad(vmo_zone_set *set, const char *name, int kind, const char *spec,
                    const char *needle)
{
    vmo_errbuf err = { { 0 } };
    const int before = set->count;
    const int rc = vmo_zone_set_add_spec(set, name, kind, spec, &err);
    ck_assert_msg(rc == VMO_ERR_BAD_ZONE, "%s=%s: %d, expected BAD_ZONE (%s)", name, spec, rc,
                  err.msg);
    ck_assert_int_eq(set->count, before);
    ck_assert_msg(err.msg[0], "%s=%s: no message", name, spec);
    if (needle)
        ck_assert_msg(strstr(err.msg, needle), "%s=%s: message '%s' lacks '%s'", name, spec,
                      err.msg, needle);
}

static double cx_of(int x, int w)
{
    return ((double)x + 0.5) / (double)w;
}

/* The reference: a ray to the right from the pixel centre, edges half-open in y (an edge
 * counts when exactly one end lies below the centre line). The crossing is computed from
 * the upper end, as the library documents, so exact ties are decided identically. */
static int ref_inside(const double *xy, uint32_t n, double cx, double cy)
{
    int inside = 0;
    for (uint32_t i = 0; i < n; i++) {
        const double *a = xy + 2 * i, *b = xy + 2 * ((i + 1) % n);
        if ((a[1] > cy) == (b[1] > cy))
            continue;
        const double *top = a[1] < b[1] ? a : b, *bot = a[1] < b[1] ? b : a;
        const double x = top[0] + (cy - top[1]) * (bot[0] - top[0]) / (bot[1] - top[1]);
        if (cx < x)
            inside ^= 1;
    }
    return inside;
}

static void check_raster(const double *xy, uint32_t n, int w, int h, const char *what)
{
    uint8_t *mask = malloc((size_t)w * h);
    ck_assert_ptr_nonnull(mask);
    memset(mask, 7, (size_t)w * h);
    vmo_polygon_rasterize(xy, n, w, h, mask);
    /* Plain ifs: a ck_assert per pixel would cost a pipe write each (Check's mark point). */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int want = ref_inside(xy, n, cx_of(x, w), cx_of(y, h));
            if (mask[y * w + x] != want)
                ck_abort_msg("%s at %dx%d: pixel (%d,%d) is %d, want %d", what, w, h, x, y,
                             mask[y * w + x], want);
        }
    free(mask);
}

static uint8_t *raster(const double *xy, uint32_t n, int w, int h)
{
    uint8_t *mask = malloc((size_t)w * h);
    ck_assert_ptr_nonnull(mask);
    vmo_polygon_rasterize(xy, n, w, h, mask);
    return mask;
}

static int count_ones(const uint8_t *m, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += m[i];
    return c;
}

static double rand01(uint32_t *seed)
{
    return (double)(tu_rand(seed) % 1000001) / 1000000.0;
}

/* A coordinate that often lands exactly on a pixel centre or a pixel border of an n-grid. */
static double rand_coord(uint32_t *seed, int n)
{
    switch (tu_rand(seed) % 3) {
    case 0:
        return cx_of((int)(tu_rand(seed) % (uint32_t)n), n);
    case 1:
        return (double)(tu_rand(seed) % (uint32_t)(n + 1)) / (double)n;
    default:
        return rand01(seed);
    }
}

/* ------------------------------------------------------------------------------------------
 * Rasterization
 * ---------------------------------------------------------------------------------------- */

static const int grid_sizes[][2] = { { 1, 1 },   { 1, 7 },     { 7, 1 },    { 2, 3 },
                                     { 7, 5 },   { 8, 8 },     { 13, 11 },  { 64, 36 },
                                     { 97, 61 }, { 640, 480 }, { 768, 576 } };

/* A rectangle covers exactly x0 <= cx < x1 and y0 <= cy < y1. */
static void check_rect(double x0, double y0, double x1, double y1, int w, int h)
{
    const double xy[8] = { x0, y0, x1, y0, x1, y1, x0, y1 };
    uint8_t *m = raster(xy, 4, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const double cx = cx_of(x, w), cy = cx_of(y, h);
            const int want = x0 <= cx && cx < x1 && y0 <= cy && cy < y1;
            if (m[y * w + x] != want)
                ck_abort_msg("rect %.17g,%.17g,%.17g,%.17g at %dx%d: pixel (%d,%d) is %d", x0, y0,
                             x1, y1, w, h, x, y, m[y * w + x]);
        }
    free(m);
}

START_TEST(rect_half_open)
{
    uint32_t seed = tu_seed();
    const int w = grid_sizes[_i][0], h = grid_sizes[_i][1];
    const int rounds = w * h > 10000 ? 20 : 200;
    check_rect(0, 0, 1, 1, w, h);
    check_rect(0, 0, 0.5, 0.5, w, h);
    check_rect(0.5, 0.5, 1, 1, w, h);
    /* Borders exactly on pixel centres: the left/top one is in, the right/bottom one out. */
    for (int k = 0; k < rounds; k++) {
        int a = (int)(tu_rand(&seed) % (uint32_t)w), b = (int)(tu_rand(&seed) % (uint32_t)w);
        int c = (int)(tu_rand(&seed) % (uint32_t)h), d = (int)(tu_rand(&seed) % (uint32_t)h);
        if (a == b || c == d)
            continue;
        check_rect(cx_of(VMO_MIN(a, b), w), cx_of(VMO_MIN(c, d), h), cx_of(VMO_MAX(a, b), w),
                   cx_of(VMO_MAX(c, d), h), w, h);
    }
    /* Random and border-aligned corners. */
    for (int k = 0; k < rounds; k++) {
        double x0 = rand_coord(&seed, w), x1 = rand_coord(&seed, w);
        double y0 = rand_coord(&seed, h), y1 = rand_coord(&seed, h);
        if (x0 == x1 || y0 == y1)
            continue;
        check_rect(VMO_MIN(x0, x1), VMO_MIN(y0, y1), VMO_MAX(x0, x1), VMO_MAX(y0, y1), w, h);
    }
}
END_TEST

START_TEST(rect_pixel_counts)
{
    /* The gate and path rectangles of zone_vtest_576p25 cover their pixel boxes exactly. */
    const double gate[8] = { 0.666667, 0.305556, 0.875,    0.305556,
                             0.875,    0.722222, 0.666667, 0.722222 };
    uint8_t *m = raster(gate, 4, 768, 576);
    ck_assert_int_eq(count_ones(m, 768 * 576), 160 * 240);
    ck_assert_int_eq(m[176 * 768 + 512], 1);
    ck_assert_int_eq(m[415 * 768 + 671], 1);
    ck_assert_int_eq(m[175 * 768 + 512], 0);
    ck_assert_int_eq(m[176 * 768 + 511], 0);
    ck_assert_int_eq(m[416 * 768 + 671], 0);
    ck_assert_int_eq(m[415 * 768 + 672], 0);
    free(m);
    /* A 1x1 grid: its only centre is (0.5, 0.5). */
    const double left[8] = { 0, 0, 0.5, 0, 0.5, 1, 0, 1 };
    const double right[8] = { 0.5, 0, 1, 0, 1, 1, 0.5, 1 };
    m = raster(left, 4, 1, 1);
    ck_assert_int_eq(m[0], 0);
    free(m);
    m = raster(right, 4, 1, 1);
    ck_assert_int_eq(m[0], 1);
    free(m);
}
END_TEST

/* Concave and self-intersecting shapes. */
static const double shape_l[] = { 0.1, 0.1, 0.4, 0.1, 0.4, 0.6, 0.9, 0.6, 0.9, 0.9, 0.1, 0.9 };
static const double shape_u[] = { 0.1, 0.1, 0.3, 0.1, 0.3, 0.7, 0.7, 0.7,
                                  0.7, 0.1, 0.9, 0.1, 0.9, 0.9, 0.1, 0.9 };
static const double shape_star[] = { 0.5, 0.05, 0.618, 0.38, 0.97, 0.38, 0.69, 0.59, 0.79,  0.95,
                                     0.5, 0.73, 0.21,  0.95, 0.31, 0.59, 0.03, 0.38, 0.382, 0.38 };
/* Pentagram drawn with crossing strokes: even-odd leaves the centre pentagon out. */
static const double shape_pentagram[] = {
    0.5, 0.05, 0.79, 0.95, 0.03, 0.38, 0.97, 0.38, 0.21, 0.95
};
static const double shape_bowtie[] = { 0.1, 0.1, 0.9, 0.9, 0.9, 0.1, 0.1, 0.9 };

START_TEST(shapes_match_reference)
{
    const int w = grid_sizes[_i][0], h = grid_sizes[_i][1];
    check_raster(shape_l, 6, w, h, "L");
    check_raster(shape_u, 8, w, h, "U");
    check_raster(shape_star, 10, w, h, "star");
    check_raster(shape_pentagram, 5, w, h, "pentagram");
    check_raster(shape_bowtie, 4, w, h, "bow-tie");
}
END_TEST

START_TEST(shapes_areas)
{
    /* At 1000x1000 the pixel count approaches the area (in millionths of the frame). */
    const int n = 1000;
    uint8_t *m = raster(shape_l, 6, n, n);
    ck_assert_int_eq(count_ones(m, (size_t)n * n), 300 * 500 + 800 * 300);
    free(m);
    m = raster(shape_u, 8, n, n);
    ck_assert_int_eq(count_ones(m, (size_t)n * n), 800 * 800 - 400 * 600);
    free(m);
    m = raster(shape_bowtie, 4, n, n);
    const int bowtie = count_ones(m, (size_t)n * n);
    ck_assert_msg(bowtie > 319000 && bowtie < 321000, "bow-tie %d", bowtie); /* 2 * 0.16 */
    /* Left lobe in, top and bottom wedges out, and the middle where strokes cross. */
    ck_assert_int_eq(m[500 * n + 200], 1);
    ck_assert_int_eq(m[200 * n + 500], 0);
    ck_assert_int_eq(m[800 * n + 500], 0);
    free(m);
    m = raster(shape_pentagram, 5, n, n);
    ck_assert_int_eq(m[550 * n + 500], 0); /* the centre pentagon is a hole */
    ck_assert_int_eq(m[200 * n + 500], 1); /* the top spike is in */
    free(m);
}
END_TEST

START_TEST(random_polygons_match_reference)
{
    uint32_t seed = tu_seed() + (uint32_t)_i * 7919u;
    double xy[2 * 40];
    for (int k = 0; k < 60; k++) {
        const int w = 1 + (int)(tu_rand(&seed) % 48), h = 1 + (int)(tu_rand(&seed) % 48);
        const uint32_t n = 3 + tu_rand(&seed) % 38;
        for (uint32_t i = 0; i < n; i++) {
            xy[2 * i] = rand_coord(&seed, w);
            xy[2 * i + 1] = rand_coord(&seed, h);
        }
        char what[64];
        snprintf(what, sizeof(what), "random polygon %d (%u points, seed %u)", k, n, tu_seed());
        check_raster(xy, n, w, h, what);
    }
}
END_TEST

/* Triangles fanned around an interior point tile the frame: every pixel exactly once,
 * including pixels whose centres lie on the shared edges and the shared vertex. */
START_TEST(shared_edges_counted_once)
{
    uint32_t seed = tu_seed() + (uint32_t)_i;
    const int w = 1 + (int)(tu_rand(&seed) % 40), h = 1 + (int)(tu_rand(&seed) % 40);
    double ring[2 * 24];
    int nr = 0;
    /* Boundary points walked clockwise: corners plus random (often centre-aligned) ones. */
    const double corners[4][2] = { { 0, 0 }, { 1, 0 }, { 1, 1 }, { 0, 1 } };
    for (int side = 0; side < 4; side++) {
        ring[2 * nr] = corners[side][0];
        ring[2 * nr + 1] = corners[side][1];
        nr++;
        const double t = (double)(tu_rand(&seed) % 1000) / 1000.0;
        if (t == 0.0)
            continue;
        const double *a = corners[side], *b = corners[(side + 1) % 4];
        ring[2 * nr] = a[0] + (b[0] - a[0]) * t;
        ring[2 * nr + 1] = a[1] + (b[1] - a[1]) * t;
        nr++;
    }
    const double px = cx_of((int)(tu_rand(&seed) % (uint32_t)w), w);
    const double py = cx_of((int)(tu_rand(&seed) % (uint32_t)h), h);
    int *cover = calloc((size_t)w * h, sizeof(int));
    ck_assert_ptr_nonnull(cover);
    for (int i = 0; i < nr; i++) {
        const int j = (i + 1) % nr;
        const double tri[6] = {
            px, py, ring[2 * i], ring[2 * i + 1], ring[2 * j], ring[2 * j + 1]
        };
        uint8_t *m = raster(tri, 3, w, h);
        for (int p = 0; p < w * h; p++)
            cover[p] += m[p];
        free(m);
    }
    for (int p = 0; p < w * h; p++)
        ck_assert_msg(cover[p] == 1, "%dx%d: pixel (%d,%d) covered %d times (seed %u)", w, h, p % w,
                      p / w, cover[p], tu_seed());
    free(cover);
}
END_TEST

START_TEST(vertices_on_pixel_centres)
{
    /* 8x8 grid, centres at odd sixteenths (exact in binary). A diamond with its vertices on
     * centres: on the top vertex's row both edges start, at the same x, so the span is empty
     * and that pixel is out; the bottom vertex's row has no crossing (edges end there); the
     * left vertex's row runs from it (in) to the right vertex (out). */
    const double d = 1.0 / 16;
    const double diamond[8] = { 9 * d, 1 * d, 15 * d, 7 * d, 9 * d, 13 * d, 3 * d, 7 * d };
    uint8_t *m = raster(diamond, 4, 8, 8);
    ck_assert_int_eq(count_ones(m, 8), 0); /* row 0 holds the top vertex (9/16, 1/16) */
    ck_assert_int_eq(m[6 * 8 + 4], 0);     /* (9/16, 13/16): bottom vertex */
    ck_assert_int_eq(m[3 * 8 + 1], 1);     /* (3/16, 7/16): left vertex */
    ck_assert_int_eq(m[3 * 8 + 7], 0);     /* (15/16, 7/16): right vertex */
    ck_assert_int_eq(m[3 * 8 + 4], 1);
    /* Rows through the middle hold the pixels with centres in [left edge, right edge). */
    ck_assert_int_eq(count_ones(m + 3 * 8, 8), 6);
    free(m);
    check_raster(diamond, 4, 8, 8, "diamond");
    /* A triangle with a horizontal edge through a row of centres: that row is in when the
     * edge is the top, out when it is the bottom. */
    const double down[6] = { 1 * d, 5 * d, 15 * d, 5 * d, 8 * d, 15 * d };
    const double up[6] = { 1 * d, 11 * d, 15 * d, 11 * d, 8 * d, 1 * d };
    m = raster(down, 3, 8, 8);
    ck_assert_int_eq(count_ones(m + 2 * 8, 8), 7); /* row 2: centre 5/16, x in [1/16, 15/16) */
    free(m);
    m = raster(up, 3, 8, 8);
    ck_assert_int_eq(count_ones(m + 5 * 8, 8), 0); /* row 5: centre 11/16 */
    free(m);
}
END_TEST

START_TEST(rasterize_defensive)
{
    uint8_t m[4] = { 9, 9, 9, 9 };
    const double tri[6] = { 0, 0, 1, 0, 0, 1 };
    vmo_polygon_rasterize(NULL, 3, 2, 2, m);
    ck_assert_int_eq(count_ones(m, 4), 0);
    vmo_polygon_rasterize(tri, 2, 2, 2, m);
    ck_assert_int_eq(count_ones(m, 4), 0);
    vmo_polygon_rasterize(tri, 3, 0, 2, m); /* no-op, no crash */
    vmo_polygon_rasterize(tri, 3, 2, 2, NULL);
    const double nan_tri[6] = { 0, 0, 0.0 / 0.0, 0.5, 0, 1 };
    vmo_polygon_rasterize(nan_tri, 3, 2, 2, m); /* unvalidated input: defined, no crash */
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Specs and validation
 * ---------------------------------------------------------------------------------------- */

START_TEST(spec_valid)
{
    vmo_zone_set set = { 0 };
    add_ok(&set, "gate", VMO_ZONE_INCLUDE, "0.666667,0.305556,0.875,0.722222");
    add_ok(&set, "around_gate", VMO_ZONE_INCLUDE,
           "poly:0.645833,0.277778;0.895833,0.277778;0.916667,0.75;0.625,0.75");
    add_ok(&set, "spaced", VMO_ZONE_INCLUDE, "  0.1 , 0.2 ,0.5,\t0.6  ");
    add_ok(&set, "spaced_poly", VMO_ZONE_EXCLUDE, " poly: 0.1, 0.1 ; 0.5,0.1; 0.5 ,0.5 ");
    add_ok(&set, "ints", VMO_ZONE_INCLUDE, "0,0,1,1");
    add_ok(&set, "dots.and-dashes_9", VMO_ZONE_INCLUDE, ".25,.25,.75,.75");
    add_ok(&set, "bowtie", VMO_ZONE_INCLUDE, "poly:0.1,0.1;0.9,0.9;0.9,0.1;0.1,0.9");
    add_ok(&set, "pentagram", VMO_ZONE_INCLUDE,
           "poly:0.5,0.05;0.79,0.95;0.03,0.38;0.97,0.38;0.21,0.95");
    add_ok(&set, "touching", VMO_ZONE_INCLUDE, /* a figure eight meeting at one vertex */
           "poly:0.1,0.1;0.5,0.5;0.9,0.1;0.9,0.9;0.5,0.5;0.1,0.9");
    ck_assert_int_eq(set.count, 9);
    ck_assert_str_eq(set.zones[0].name, "gate");
    ck_assert_int_eq(set.zones[0].npoints, 4);
    ck_assert(set.zones[0].xy[0] == 0.666667 && set.zones[0].xy[1] == 0.305556);
    ck_assert(set.zones[0].xy[4] == 0.875 && set.zones[0].xy[5] == 0.722222);
    ck_assert_int_eq(set.zones[1].npoints, 4);
    ck_assert(set.zones[1].xy[6] == 0.625 && set.zones[1].xy[7] == 0.75);
    ck_assert_int_eq(set.zones[3].kind, VMO_ZONE_EXCLUDE);
    ck_assert_int_eq(set.zones[3].npoints, 3);
    ck_assert_int_eq(vmo_zone_set_include_count(&set), 8);
    ck_assert_int_eq(vmo_zone_set_find(&set, "gate"), 0);
    ck_assert_int_eq(vmo_zone_set_find(&set, "spaced"), 2);
    ck_assert_int_eq(vmo_zone_set_find(&set, "ints"), 3); /* the exclude zone is skipped */
    ck_assert_int_eq(vmo_zone_set_find(&set, "spaced_poly"), -1);
    ck_assert_int_eq(vmo_zone_set_find(&set, "nope"), -1);
    ck_assert_int_eq(vmo_zone_set_find(&set, NULL), -1);
    vmo_zone_set_clear(&set);
    ck_assert_int_eq(set.count, 0);
    ck_assert_ptr_null(set.zones);
    vmo_zone_set_clear(&set); /* twice is fine */
}
END_TEST

START_TEST(spec_invalid)
{
    vmo_zone_set set = { 0 };
    add_ok(&set, "existing", VMO_ZONE_INCLUDE, "0,0,0.5,0.5");
    static const struct {
        const char *spec, *needle;
    } bad[] = {
        { "", "expected a number" },
        { "   ", "expected a number" },
        { "0.1,0.1,0.5", "expected ','" },
        { "0.1,0.1,0.5,", "expected a number" },
        { "0.1,0.1,0.5,0.5,", "unexpected text" },
        { "0.1,0.1,0.5,0.5,0.6", "unexpected text" },
        { "0.1;0.1;0.5;0.5", "expected ','" },
        { "a,b,c,d", "expected a number" },
        { "0.1,0.1,0.5,0.5x", "unexpected text" },
        { "0.1,0.1,0.5,0.5 x", "unexpected text" },
        { "0.1,0.1,0.5,1.1", "y1 is 1.1, outside 0..1" },
        { "-0.1,0,0.5,0.5", "x0 is -0.1, outside 0..1" },
        { "nan,0,1,1", "expected a number" },
        { "inf,0,1,1", "expected a number" },
        { "0,0,1e0,1", "expected ','" },
        { "0x0,0,1,1", "expected ','" },
        { "+0.1,0,1,1", "expected a number" },
        { "0.5,0.1,0.5,0.9", "x0 (0.5) must be less than x1 (0.5)" },
        { "0.6,0.1,0.5,0.9", "x0 (0.6) must be less than x1" },
        { "0.1,0.9,0.5,0.1", "y0 (0.9) must be less than y1" },
        { "0.1,0.5,0.5,0.5000000000001", "zero area" },
        { "poly:", "expected a number (x)" },
        { "poly:0.1,0.1", "at least 3 points, not 1" },
        { "poly:0.1,0.1;0.5,0.5", "at least 3 points, not 2" },
        { "poly:0.1,0.1;0.5,0.1;0.5,0.5;", "expected a number (x)" },
        { "poly:0.1,0.1;0.5,0.1;0.5,0.5 x", "expected ';'" },
        { "poly:0.1 0.1;0.5,0.1;0.5,0.5", "expected ','" },
        { "poly:0.1,0.1,0.5,0.1,0.5,0.5", "expected ';'" },
        { "poly:0.1,0.1;0.5,0.1;0.5,1.5", "y of point 3 is 1.5" },
        { "poly:0.1,0.1;0.5,0.1;-0.5,0.5", "x of point 3 is -0.5" },
        { "POLY:0.1,0.1;0.5,0.1;0.5,0.5", "expected a number" },
        { "poly:0.1,0.1;0.2,0.2;0.3,0.3", "all its points lie on one line" },
        { "poly:0.1,0.1;0.3,0.3;0.2,0.2;0.9,0.9", "all its points lie on one line" },
        { "poly:0.1,0.1;0.1,0.1;0.5,0.5", "points 1 and 2 are the same" },
        { "poly:0.1,0.1;0.5,0.1;0.5,0.5;0.1,0.1", "do not repeat the first point" },
        { "poly:0.1,0.1;0.5,0.5;0.9,0.1;0.5,0.5", "retraces itself" },
    };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(bad); i++)
        add_bad(&set, "porch", VMO_ZONE_INCLUDE, bad[i].spec, bad[i].needle);
    /* Every message names the zone. */
    vmo_errbuf err = { { 0 } };
    ck_assert_int_eq(vmo_zone_set_add_spec(&set, "porch", 0, "0,0,0,0", &err), VMO_ERR_BAD_ZONE);
    ck_assert_msg(strstr(err.msg, "zone 'porch'"), "%s", err.msg);
    ck_assert_int_eq(set.count, 1);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(spec_point_limit)
{
    vmo_zone_set set = { 0 };
    char *spec = malloc(32 * 300 + 16);
    ck_assert_ptr_nonnull(spec);
    for (int n = 256; n <= 257; n++) {
        /* A regular-ish polygon with n points on a circle (approximated without libm). */
        char *p = spec + sprintf(spec, "poly:");
        for (int i = 0; i < n; i++) {
            const double t = (double)i / n; /* a convex fan along two sides of a triangle */
            const double x = t < 0.5 ? 0.1 + 1.6 * t : 0.9 - 1.6 * (t - 0.5);
            const double y = t < 0.5 ? 0.1 + 0.1 * t * t : 0.9 - 1.6 * (t - 0.5) * 0.5;
            p += sprintf(p, "%s%.9f,%.9f", i ? ";" : "", x, y);
        }
        if (n == 256)
            add_ok(&set, "many", VMO_ZONE_INCLUDE, spec);
        else
            add_bad(&set, "toomany", VMO_ZONE_INCLUDE, spec, "at most 256 points");
    }
    ck_assert_int_eq(set.zones[0].npoints, 256);
    free(spec);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(names)
{
    vmo_zone_set set = { 0 };
    const char *r = "0.1,0.1,0.2,0.2";
    char name[80];
    add_bad(&set, "", VMO_ZONE_INCLUDE, r, "name is empty");
    memset(name, 'a', 63);
    name[63] = '\0';
    add_ok(&set, name, VMO_ZONE_INCLUDE, r);
    memset(name, 'b', 64);
    name[64] = '\0';
    add_bad(&set, name, VMO_ZONE_INCLUDE, r, "longer than 63");
    add_bad(&set, "front door", VMO_ZONE_INCLUDE, r, "character 6");
    add_bad(&set, "a/b", VMO_ZONE_INCLUDE, r, "character 2");
    add_bad(&set, "caf\xc3\xa9", VMO_ZONE_INCLUDE, r, "character 4");
    add_bad(&set, "tab\t", VMO_ZONE_INCLUDE, r, "zone 'tab?'"); /* shown printable */
    add_ok(&set, "porch", VMO_ZONE_INCLUDE, r);
    add_bad(&set, "porch", VMO_ZONE_INCLUDE, r, "already exists");
    add_bad(&set, "porch", VMO_ZONE_EXCLUDE, r, "already exists"); /* across kinds */
    add_ok(&set, "Porch", VMO_ZONE_INCLUDE, r);                    /* case matters */
    add_bad(&set, "frame", VMO_ZONE_EXCLUDE, r, "whole-frame zone");
    add_ok(&set, "frame", VMO_ZONE_INCLUDE, r);
    /* NULL and bad kinds are argument errors, not zone errors. */
    vmo_errbuf err = { { 0 } };
    ck_assert_int_eq(vmo_zone_set_add_spec(&set, NULL, 0, r, &err), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_zone_set_add_spec(&set, "x", 0, NULL, &err), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_zone_set_add_spec(NULL, "x", 0, r, &err), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_zone_set_add_spec(&set, "x", 2, r, &err), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_zone_set_add_spec(&set, "x", -1, r, NULL), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_zone_set_add_polygon(&set, "x", 0, NULL, 3, &err), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(set.count, 4);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(zone_count_limits)
{
    vmo_zone_set set = { 0 };
    char name[16];
    for (int i = 0; i < VMO_MAX_ZONES; i++) {
        snprintf(name, sizeof(name), "in%d", i);
        add_ok(&set, name, VMO_ZONE_INCLUDE, "0.1,0.1,0.2,0.2");
    }
    add_bad(&set, "in64", VMO_ZONE_INCLUDE, "0.1,0.1,0.2,0.2", "too many include zones");
    for (int i = 0; i < VMO_MAX_ZONES; i++) {
        snprintf(name, sizeof(name), "ex%d", i);
        add_ok(&set, name, VMO_ZONE_EXCLUDE, "0.1,0.1,0.2,0.2");
    }
    add_bad(&set, "ex64", VMO_ZONE_EXCLUDE, "0.1,0.1,0.2,0.2", "too many exclude zones");
    ck_assert_int_eq(set.count, 2 * VMO_MAX_ZONES);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(polygon_api)
{
    vmo_zone_set set = { 0 };
    vmo_errbuf err = { { 0 } };
    const double tri[6] = { 0.1, 0.1, 0.9, 0.1, 0.5, 0.9 };
    const double nan_tri[6] = { 0.1, 0.1, 0.0 / 0.0, 0.1, 0.5, 0.9 };
    const double inf_tri[6] = { 0.1, 0.1, 1.0 / 0.0, 0.1, 0.5, 0.9 };
    ck_assert_int_eq(vmo_zone_set_add_polygon(&set, "tri", 0, tri, 3, &err), VMO_OK);
    ck_assert_int_eq(vmo_zone_set_add_polygon(&set, "t2", 0, tri, 2, &err), VMO_ERR_BAD_ZONE);
    ck_assert_int_eq(vmo_zone_set_add_polygon(&set, "t3", 0, tri, 0, &err), VMO_ERR_BAD_ZONE);
    ck_assert_int_eq(vmo_zone_set_add_polygon(&set, "t4", 0, nan_tri, 3, &err), VMO_ERR_BAD_ZONE);
    ck_assert_msg(strstr(err.msg, "x of point 2 is"), "%s", err.msg);
    ck_assert_int_eq(vmo_zone_set_add_polygon(&set, "t5", 0, inf_tri, 3, &err), VMO_ERR_BAD_ZONE);
    ck_assert_int_eq(vmo_zone_set_add_polygon(&set, "t6", 0, tri, 257, &err), VMO_ERR_BAD_ZONE);
    ck_assert_msg(strstr(err.msg, "at most 256"), "%s", err.msg);
    ck_assert_int_eq(set.count, 1);
    /* The zone owns a copy. */
    ck_assert_ptr_ne(set.zones[0].xy, tri);
    ck_assert(set.zones[0].xy[4] == 0.5);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(copy_set)
{
    vmo_zone_set a = { 0 }, b = { 0 };
    add_ok(&a, "one", VMO_ZONE_INCLUDE, "0,0,0.5,0.5");
    add_ok(&a, "two", VMO_ZONE_EXCLUDE, "poly:0.1,0.1;0.5,0.1;0.5,0.5");
    add_ok(&b, "old", VMO_ZONE_INCLUDE, "0,0,0.5,0.5");
    ck_assert_int_eq(vmo_zone_set_copy(&b, &a), VMO_OK);
    ck_assert_int_eq(b.count, 2);
    ck_assert_str_eq(b.zones[1].name, "two");
    ck_assert_int_eq(b.zones[1].kind, VMO_ZONE_EXCLUDE);
    ck_assert_ptr_ne(b.zones[1].xy, a.zones[1].xy);
    ck_assert(!memcmp(b.zones[1].xy, a.zones[1].xy, 6 * sizeof(double)));
    ck_assert_int_eq(vmo_zone_set_copy(&b, &b), VMO_OK);
    ck_assert_int_eq(b.count, 2);
    vmo_zone_set empty = { 0 };
    ck_assert_int_eq(vmo_zone_set_copy(&b, &empty), VMO_OK);
    ck_assert_int_eq(b.count, 0);
    ck_assert_int_eq(vmo_zone_set_copy(NULL, &a), VMO_ERR_INVALID_ARG);
    vmo_zone_set_clear(&a);
    vmo_zone_set_clear(&b);
    vmo_zone_set_clear(NULL);
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Zone maps
 * ---------------------------------------------------------------------------------------- */

/* Checks a built map against per-zone rasters: labels, classes, areas, exclusions, and
 * class numbering in order of first appearance. */
static void check_map(const vmo_zone_map *map, const vmo_zone_set *set)
{
    const int w = map->width, h = map->height, n = w * h;
    uint64_t *want = calloc((size_t)n, sizeof(uint64_t));
    uint8_t *excl = calloc((size_t)n, 1);
    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(excl);
    int inc = 0;
    for (int i = 0; i < set->count; i++) {
        const vmo_zone *z = &set->zones[i];
        uint8_t *m = raster(z->xy, z->npoints, w, h);
        for (int p = 0; p < n; p++) {
            if (z->kind == VMO_ZONE_INCLUDE && m[p])
                want[p] |= 1ull << inc;
            if (z->kind == VMO_ZONE_EXCLUDE && m[p])
                excl[p] = 1;
        }
        inc += z->kind == VMO_ZONE_INCLUDE;
        free(m);
    }
    ck_assert_int_eq(map->zone_count, inc ? inc : 1);
    uint64_t area[VMO_MAX_ZONES] = { 0 };
    int next_class = 1;
    for (int p = 0; p < n; p++) {
        const uint64_t zones = excl[p] ? 0 : inc ? want[p] : 1;
        const int cls = map->labels[p];
        if (map->excluded[p] != excl[p])
            ck_abort_msg("pixel (%d,%d): excluded %d", p % w, p / w, map->excluded[p]);
        if (cls >= map->class_count || map->class_zones[cls] != zones)
            ck_abort_msg("pixel (%d,%d): class %d of %d = %#llx, want %#llx", p % w, p / w, cls,
                         map->class_count, (unsigned long long)map->class_zones[cls],
                         (unsigned long long)zones);
        if (cls > next_class)
            ck_abort_msg("class %d appears before class %d", cls, next_class);
        if (cls && cls == next_class)
            next_class++;
        for (int z = 0; z < map->zone_count; z++)
            area[z] += zones >> z & 1;
    }
    ck_assert_int_eq(next_class, map->class_count);
    ck_assert(map->class_zones[0] == 0);
    for (int z = 0; z < map->zone_count; z++)
        ck_assert_msg(map->zone_area[z] == area[z], "zone %d: area %llu, want %llu", z,
                      (unsigned long long)map->zone_area[z], (unsigned long long)area[z]);
    free(want);
    free(excl);
}

static void build_ok(vmo_zone_map *map, const vmo_zone_set *set, int w, int h)
{
    vmo_errbuf err = { { 0 } };
    const int rc = vmo_zone_map_build(map, set, w, h, &err);
    ck_assert_msg(rc == VMO_OK, "build %dx%d: %d %s", w, h, rc, err.msg);
    ck_assert_int_eq(map->width, w);
    ck_assert_int_eq(map->height, h);
    check_map(map, set);
}

START_TEST(map_whole_frame_default)
{
    vmo_zone_set set = { 0 };
    vmo_zone_map map = { 0 };
    build_ok(&map, &set, 7, 5);
    ck_assert_int_eq(map.zone_count, 1);
    ck_assert_int_eq(map.class_count, 2);
    ck_assert(map.class_zones[1] == 1);
    ck_assert(map.zone_area[0] == 35);
    for (int p = 0; p < 35; p++)
        ck_assert_int_eq(map.labels[p], 1);
    vmo_zone_map_free(&map);
    vmo_zone_map_free(&map);
}
END_TEST

START_TEST(map_overlaps)
{
    vmo_zone_set set = { 0 };
    vmo_zone_map map = { 0 };
    add_ok(&set, "a", VMO_ZONE_INCLUDE, "0,0,0.6,0.6");
    add_ok(&set, "b", VMO_ZONE_INCLUDE, "0.4,0.4,1,1");
    build_ok(&map, &set, 10, 10);
    ck_assert_int_eq(map.class_count, 4);
    ck_assert(map.class_zones[1] == 1); /* a alone, seen first (row 0) */
    ck_assert(map.class_zones[2] == 3); /* a and b, row 4 columns 4-5 */
    ck_assert(map.class_zones[3] == 2); /* b alone, row 4 columns 6-9 */
    ck_assert(map.zone_area[0] == 36 && map.zone_area[1] == 36);
    ck_assert_int_eq(map.labels[4 * 10 + 3], 1);
    ck_assert_int_eq(map.labels[4 * 10 + 4], 2);
    ck_assert_int_eq(map.labels[4 * 10 + 6], 3);
    ck_assert_int_eq(map.labels[9 * 10 + 0], 0);
    /* Zones in order of definition, concave and self-intersecting ones included. */
    add_ok(&set, "l", VMO_ZONE_INCLUDE, "poly:0.1,0.1;0.4,0.1;0.4,0.6;0.9,0.6;0.9,0.9;0.1,0.9");
    add_ok(&set, "bowtie", VMO_ZONE_INCLUDE, "poly:0.1,0.1;0.9,0.9;0.9,0.1;0.1,0.9");
    build_ok(&map, &set, 33, 29);
    build_ok(&map, &set, 1, 1);
    vmo_zone_map_free(&map);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(map_exclusions)
{
    vmo_zone_set set = { 0 };
    vmo_zone_map map = { 0 };
    /* Whole-frame zone minus a mask. */
    add_ok(&set, "street", VMO_ZONE_EXCLUDE, "0,0,1,0.25");
    build_ok(&map, &set, 8, 8);
    ck_assert_int_eq(map.zone_count, 1);
    ck_assert(map.zone_area[0] == 48);
    ck_assert_int_eq(count_ones(map.excluded, 64), 16);
    ck_assert_int_eq(map.labels[0], 0);
    /* Include zones minus masks, overlapping masks, a mask hiding a zone entirely. */
    add_ok(&set, "yard", VMO_ZONE_INCLUDE, "0,0,1,1");
    add_ok(&set, "window", VMO_ZONE_EXCLUDE, "poly:0.5,0.5;0.9,0.5;0.9,0.9");
    add_ok(&set, "hidden", VMO_ZONE_INCLUDE, "0.1,0.05,0.3,0.2");
    add_ok(&set, "both", VMO_ZONE_EXCLUDE, "0.2,0.1,0.6,0.6");
    build_ok(&map, &set, 8, 8);
    ck_assert_int_eq(map.zone_count, 2);
    ck_assert(map.zone_area[1] == 0); /* not an error: the zone just scores 0 */
    build_ok(&map, &set, 101, 37);
    vmo_zone_map_free(&map);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(map_random_zones)
{
    uint32_t seed = tu_seed() + 17u * (uint32_t)_i;
    vmo_zone_set set = { 0 };
    vmo_zone_map map = { 0 };
    const int zones = 1 + (int)(tu_rand(&seed) % 6);
    for (int z = 0; z < zones; z++) {
        char name[16], spec[2048];
        snprintf(name, sizeof(name), "z%d", z);
        for (int attempt = 0;; attempt++) {
            const int n = 3 + (int)(tu_rand(&seed) % 8);
            char *p = spec + sprintf(spec, "poly:");
            for (int i = 0; i < n; i++)
                p += sprintf(p, "%s%.3f,%.3f", i ? ";" : "", rand01(&seed), rand01(&seed));
            vmo_errbuf err = { { 0 } };
            const int kind = tu_rand(&seed) % 4 == 0 ? VMO_ZONE_EXCLUDE : VMO_ZONE_INCLUDE;
            if (vmo_zone_set_add_spec(&set, name, kind, spec, &err) == VMO_OK)
                break;
            ck_assert_int_lt(attempt, 100);
        }
    }
    const int w = 1 + (int)(tu_rand(&seed) % 90), h = 1 + (int)(tu_rand(&seed) % 90);
    build_ok(&map, &set, w, h);
    vmo_zone_map_free(&map);
    vmo_zone_set_clear(&set);
}
END_TEST

/* `cols` nested left strips and `rows` nested top strips: (cols + 1) * (rows + 1) - 1
 * distinct non-empty overlaps. */
static void add_grid_zones(vmo_zone_set *set, int cols, int rows)
{
    char name[16], spec[64];
    for (int i = 0; i < cols; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        snprintf(spec, sizeof(spec), "0,0,%.6f,1", (i + 1) / 33.0);
        add_ok(set, name, VMO_ZONE_INCLUDE, spec);
    }
    for (int i = 0; i < rows; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        snprintf(spec, sizeof(spec), "0,0,1,%.6f", (i + 1) / 33.0);
        add_ok(set, name, VMO_ZONE_INCLUDE, spec);
    }
}

START_TEST(map_class_limit)
{
    vmo_zone_set set = { 0 };
    vmo_zone_map map = { 0 };
    vmo_errbuf err = { { 0 } };
    add_grid_zones(&set, 15, 15); /* exactly 255 classes */
    build_ok(&map, &set, 200, 200);
    ck_assert_int_eq(map.class_count, 256);
    vmo_zone_set_clear(&set);
    add_grid_zones(&set, 16, 15); /* 271 */
    ck_assert_int_eq(vmo_zone_map_build(&map, &set, 200, 200, &err), VMO_ERR_LIMIT);
    ck_assert_msg(strstr(err.msg, "255"), "%s", err.msg);
    ck_assert_ptr_null(map.labels); /* a failed build leaves the map empty */
    ck_assert_ptr_null(map.excluded);
    ck_assert_int_eq(map.width, 0);
    vmo_zone_map_free(&map);
    vmo_zone_set_clear(&set);
    add_grid_zones(&set, 32, 32);
    ck_assert_int_eq(vmo_zone_map_build(&map, &set, 200, 200, &err), VMO_ERR_LIMIT);
    /* At a grid too coarse to show them all, the same zones fit. */
    build_ok(&map, &set, 8, 8);
    vmo_zone_map_free(&map);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(map_rebuild_and_args)
{
    vmo_zone_set set = { 0 };
    vmo_zone_map map = { 0 };
    vmo_errbuf err = { { 0 } };
    add_ok(&set, "a", VMO_ZONE_INCLUDE, "poly:0.1,0.1;0.9,0.2;0.5,0.9");
    add_ok(&set, "m", VMO_ZONE_EXCLUDE, "0.4,0.4,0.6,0.6");
    build_ok(&map, &set, 64, 48);
    const uint64_t big = map.zone_area[0];
    build_ok(&map, &set, 32, 24); /* the earlier build is released */
    ck_assert(map.zone_area[0] < big);
    build_ok(&map, &set, 640, 360);
    ck_assert_int_eq(vmo_zone_map_build(&map, &set, 0, 10, &err), VMO_ERR_INVALID_ARG);
    ck_assert_ptr_null(map.labels);
    ck_assert_int_eq(vmo_zone_map_build(&map, &set, 10, -1, &err), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_zone_map_build(&map, &set, 40000, 10, &err), VMO_ERR_LIMIT);
    ck_assert_int_eq(vmo_zone_map_build(&map, NULL, 10, 10, &err), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_zone_map_build(NULL, &set, 10, 10, &err), VMO_ERR_INVALID_ARG);
    build_ok(&map, &set, 3, 2);
    vmo_zone_map_free(&map);
    vmo_zone_map_free(NULL);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(map_speed)
{
    /* 64 include zones (16-point stars, one per cell of an 8x8 grid, each reaching into its
     * neighbours) and 4 masks at 1920x1080. */
    uint32_t seed = tu_seed();
    vmo_zone_set set = { 0 };
    vmo_zone_map map = { 0 };
    vmo_errbuf err = { { 0 } };
    for (int z = 0; z < 64; z++) {
        char name[16], spec[1024];
        const double cx = (z % 8 + 0.5) / 8, cy = (z / 8 + 0.5) / 8;
        char *p = spec + sprintf(spec, "poly:");
        for (int i = 0; i < 16; i++) {
            static const double dir[16][2] = {
                { 1, 0 },  { 0.92, 0.38 },   { 0.71, 0.71 },   { 0.38, 0.92 },
                { 0, 1 },  { -0.38, 0.92 },  { -0.71, 0.71 },  { -0.92, 0.38 },
                { -1, 0 }, { -0.92, -0.38 }, { -0.71, -0.71 }, { -0.38, -0.92 },
                { 0, -1 }, { 0.38, -0.92 },  { 0.71, -0.71 },  { 0.92, -0.38 },
            };
            const double r = (i % 2 ? 0.03 : 0.07) + 0.01 * rand01(&seed);
            p += sprintf(p, "%s%.5f,%.5f", i ? ";" : "", VMO_CLAMP(cx + r * dir[i][0], 0, 1),
                         VMO_CLAMP(cy + r * dir[i][1], 0, 1));
        }
        snprintf(name, sizeof(name), "star%d", z);
        add_ok(&set, name, VMO_ZONE_INCLUDE, spec);
    }
    add_ok(&set, "m1", VMO_ZONE_EXCLUDE, "0,0,1,0.05");
    add_ok(&set, "m2", VMO_ZONE_EXCLUDE, "poly:0.3,0.3;0.7,0.35;0.5,0.7");
    add_ok(&set, "m3", VMO_ZONE_EXCLUDE, "0.9,0,1,1");
    add_ok(&set, "m4", VMO_ZONE_EXCLUDE, "0,0.9,1,1");
    double best = 1e9;
    for (int k = 0; k < 5; k++) {
        const double t0 = vmo_now();
        ck_assert_int_eq(vmo_zone_map_build(&map, &set, 1920, 1080, &err), VMO_OK);
        const double t = vmo_now() - t0;
        best = VMO_MIN(best, t);
    }
    fprintf(stderr, "zone map 1920x1080, 64 zones + 4 masks: %.2f ms (best of 5)\n", best * 1e3);
    /* The budget is 50 ms; allow a loaded machine or valgrind a wide margin. */
    ck_assert_msg(best < 2.0, "zone map build took %.1f ms", best * 1e3);
    check_map(&map, &set);
    vmo_zone_map_free(&map);
    vmo_zone_set_clear(&set);
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Zone files (JSON)
 * ---------------------------------------------------------------------------------------- */

START_TEST(json_valid)
{
    vmo_zone_set set = { 0 };
    vmo_errbuf err = { { 0 } };
    const char *doc =
        "{\"zones\": ["
        " {\"name\": \"porch\", \"rect\": [0.1, 0.2, 0.5, 0.6]},"
        " {\"name\": \"path\", \"polygon\": [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]},"
        " {\"name\": \"neighbour\", \"rect\": [0, 0, 1, 0.2], \"exclude\": true},"
        " {\"name\": \"lawn\", \"points\": [[0, 0], [1, 0], [1, 1], [0, 1]], \"exclude\": false},"
        " {\"name\": \"gate\", \"spec\": \"0.666667,0.305556,0.875,0.722222\"},"
        " {\"name\": \"tri\", \"spec\": \"poly:0.1,0.1;0.9,0.1;0.5,0.9\", \"exclude\": true}"
        "]}";
    ck_assert_int_eq(vmo_zone_set_add_json(&set, doc, &err), VMO_OK);
    ck_assert_int_eq(set.count, 6);
    static const char *const want_names[] = { "porch", "path", "neighbour", "lawn", "gate", "tri" };
    static const int kinds[] = { 0, 0, 1, 0, 0, 1 };
    static const uint32_t npoints[] = { 4, 3, 4, 4, 4, 3 };
    for (int i = 0; i < 6; i++) {
        ck_assert_str_eq(set.zones[i].name, want_names[i]);
        ck_assert_int_eq(set.zones[i].kind, kinds[i]);
        ck_assert_int_eq(set.zones[i].npoints, npoints[i]);
    }
    ck_assert(set.zones[0].xy[2] == 0.5 && set.zones[0].xy[5] == 0.6);
    ck_assert(set.zones[1].xy[5] == 0.9);
    ck_assert_int_eq(vmo_zone_set_include_count(&set), 4);
    /* More zones later join those already there. */
    ck_assert_int_eq(vmo_zone_set_add_json(&set, "{\"zones\": []}", &err), VMO_OK);
    ck_assert_int_eq(vmo_zone_set_add_json(
                         &set, "{\"zones\": [{\"name\": \"more\", \"rect\": [0,0,1,1]}]}", &err),
                     VMO_OK);
    ck_assert_int_eq(set.count, 7);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(json_errors)
{
    static const struct {
        const char *doc, *needle;
    } bad[] = {
        { "", "line" },
        { "{", "line 1" },
        { "{\"zones\": [] } x", "line" },
        { "[]", "top level" },
        { "{\"zones\": [], \"zones\": []}", "duplicate" },
        { "{\"zonez\": []}", "unknown key \"zonez\"" },
        { "{}", "needs a \"zones\" array" },
        { "{\"zones\": {}}", "needs a \"zones\" array" },
        { "{\"zones\": null}", "needs a \"zones\" array" },
        { "{\"zones\": [1]}", "zones[0]: expected an object" },
        { "{\"zones\": [{\"rect\": [0,0,1,1]}]}", "zones[0]: needs a \"name\"" },
        { "{\"zones\": [{\"name\": 5, \"rect\": [0,0,1,1]}]}", "zones[0]: needs a \"name\"" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,1,1], \"exlcude\": true}]}",
          "zones[0] ('a'): unknown key \"exlcude\"" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,1,1], \"exclude\": 1}]}",
          "\"exclude\" must be true or false" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,1,1], \"exclude\": \"yes\"}]}",
          "\"exclude\" must be true or false" },
        { "{\"zones\": [{\"name\": \"a\"}]}", "needs exactly one of" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,1,1], \"spec\": \"0,0,1,1\"}]}",
          "needs exactly one of" },
        { "{\"zones\": [{\"name\": \"a\", \"polygon\": [[0,0],[1,0],[1,1]], \"points\": "
          "[[0,0],[1,0],[1,1]]}]}",
          "needs exactly one of" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,1]}]}", "array of 4 numbers" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": {\"x0\": 0}}]}", "array of 4 numbers" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,\"1\",1]}]}", "item 3 is not a number" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,null,1]}]}", "item 3 is not a number" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,1.5,1]}]}", "x1 is 1.5, outside 0..1" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0.5,0,0.5,1]}]}", "must be less than" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,1e999,1]}]}", "line 1" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,NaN,1]}]}", "line 1" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,-Infinity,1]}]}", "line 1" },
        { "{\"zones\": [{\"name\": \"a\", \"polygon\": 3}]}", "array of [x, y] points" },
        { "{\"zones\": [{\"name\": \"a\", \"polygon\": [[0,0],[1,0]]}]}", "has 2 points" },
        { "{\"zones\": [{\"name\": \"a\", \"points\": [[0,0],[1,0],[1]]}]}",
          "\"points\" point 3 is not an array of two numbers" },
        { "{\"zones\": [{\"name\": \"a\", \"polygon\": [[0,0],[1,0],[1,1,1]]}]}",
          "point 3 is not an array" },
        { "{\"zones\": [{\"name\": \"a\", \"polygon\": [[0,0],[1,0],{\"x\":1}]}]}",
          "point 3 is not an array" },
        { "{\"zones\": [{\"name\": \"a\", \"polygon\": [[0,0],[1,0],[true,1]]}]}",
          "point 3 is not an array" },
        { "{\"zones\": [{\"name\": \"a\", \"polygon\": [[0,0],[0.5,0.5],[1,1]]}]}", "one line" },
        { "{\"zones\": [{\"name\": \"a\", \"spec\": 5}]}", "\"spec\" must be a string" },
        { "{\"zones\": [{\"name\": \"a\", \"spec\": \"0,0,1\"}]}", "expected ','" },
        { "{\"zones\": [{\"name\": \"\", \"rect\": [0,0,1,1]}]}", "name is empty" },
        { "{\"zones\": [{\"name\": \"a b\", \"rect\": [0,0,1,1]}]}", "character 2" },
        { "{\"zones\": [{\"name\": \"frame\", \"rect\": [0,0,1,1], \"exclude\": true}]}",
          "whole-frame" },
        { "{\"zones\": [{\"name\": \"existing\", \"rect\": [0,0,1,1]}]}",
          "zones[0] ('existing'): a zone of that name already exists" },
        { "{\"zones\": [{\"name\": \"b\", \"rect\": [0,0,1,1]},"
          " {\"name\": \"b\", \"rect\": [0,0,1,1], \"exclude\": true}]}",
          "zones[1] ('b'): a zone of that name already exists" },
        { "{\"zones\": [{\"name\": \"a\", \"rect\": [0,0,1,1], \"name\": \"b\"}]}", "duplicate" },
        { "{\"zones\": [{\"name\": \"a\\u0000b\", \"rect\": [0,0,1,1]}]}", "line 1" },
        { "{\"zones\": [{\"name\": \"\xff\", \"rect\": [0,0,1,1]}]}", "line 1" },
    };
    vmo_zone_set set = { 0 };
    add_ok(&set, "existing", VMO_ZONE_INCLUDE, "0,0,0.5,0.5");
    for (size_t i = 0; i < VMO_ARRAY_SIZE(bad); i++) {
        vmo_errbuf err = { { 0 } };
        const int rc = vmo_zone_set_add_json(&set, bad[i].doc, &err);
        ck_assert_msg(rc == VMO_ERR_BAD_ZONE, "%s: %d (%s)", bad[i].doc, rc, err.msg);
        ck_assert_msg(strstr(err.msg, bad[i].needle), "%s: message '%s' lacks '%s'", bad[i].doc,
                      err.msg, bad[i].needle);
        ck_assert_int_eq(set.count, 1);
    }
    vmo_errbuf err = { { 0 } };
    ck_assert_int_eq(vmo_zone_set_add_json(&set, NULL, &err), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_zone_set_add_json(NULL, "{}", &err), VMO_ERR_INVALID_ARG);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(json_all_or_nothing)
{
    vmo_zone_set set = { 0 };
    vmo_errbuf err = { { 0 } };
    add_ok(&set, "keep", VMO_ZONE_INCLUDE, "0,0,0.5,0.5");
    /* Three good zones, then a bad one: none of the good ones stays. */
    const char *doc = "{\"zones\": ["
                      " {\"name\": \"a\", \"rect\": [0,0,1,1]},"
                      " {\"name\": \"b\", \"rect\": [0,0,1,1], \"exclude\": true},"
                      " {\"name\": \"c\", \"polygon\": [[0,0],[1,0],[1,1]]},"
                      " {\"name\": \"d\", \"rect\": [0,0,1,2]}]}";
    ck_assert_int_eq(vmo_zone_set_add_json(&set, doc, &err), VMO_ERR_BAD_ZONE);
    ck_assert_msg(strstr(err.msg, "zones[3] ('d')"), "%s", err.msg);
    ck_assert_int_eq(set.count, 1);
    ck_assert_str_eq(set.zones[0].name, "keep");
    /* The per-kind limit counts the zones already in the set. */
    char *big = malloc(64 * 64 + 64);
    ck_assert_ptr_nonnull(big);
    char *p = big + sprintf(big, "{\"zones\": [");
    for (int i = 0; i < 64; i++)
        p += sprintf(p, "%s{\"name\": \"z%d\", \"rect\": [0,0,1,1]}", i ? "," : "", i);
    strcpy(p, "]}");
    ck_assert_int_eq(vmo_zone_set_add_json(&set, big, &err), VMO_ERR_BAD_ZONE);
    ck_assert_msg(strstr(err.msg, "zones[63] ('z63'): too many include zones"), "%s", err.msg);
    ck_assert_int_eq(set.count, 1);
    vmo_zone_set_clear(&set);
    ck_assert_int_eq(vmo_zone_set_add_json(&set, big, &err), VMO_OK);
    ck_assert_int_eq(set.count, 64);
    free(big);
    vmo_zone_set_clear(&set);
}
END_TEST

START_TEST(json_hostile)
{
    vmo_zone_set set = { 0 };
    vmo_errbuf err = { { 0 } };
    const size_t n = 200000;
    char *doc = malloc(n * 8 + 64);
    ck_assert_ptr_nonnull(doc);
    /* Deep nesting. */
    char *p = doc + sprintf(doc, "{\"zones\": ");
    for (size_t i = 0; i < n; i++)
        *p++ = '[';
    for (size_t i = 0; i < n; i++)
        *p++ = ']';
    strcpy(p, "}");
    ck_assert_int_eq(vmo_zone_set_add_json(&set, doc, &err), VMO_ERR_BAD_ZONE);
    /* A huge zones array. */
    p = doc + sprintf(doc, "{\"zones\": [");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s{}", i ? "," : "");
    strcpy(p, "]}");
    ck_assert_int_eq(vmo_zone_set_add_json(&set, doc, &err), VMO_ERR_BAD_ZONE);
    ck_assert_msg(strstr(err.msg, "200000 zones"), "%s", err.msg);
    /* A huge polygon. */
    p = doc + sprintf(doc, "{\"zones\": [{\"name\": \"a\", \"polygon\": [");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s[0,1]", i ? "," : "");
    strcpy(p, "]}]}");
    ck_assert_int_eq(vmo_zone_set_add_json(&set, doc, &err), VMO_ERR_BAD_ZONE);
    ck_assert_msg(strstr(err.msg, "has 200000 points"), "%s", err.msg);
    /* A very long name and key are shown shortened. */
    p = doc + sprintf(doc, "{\"zones\": [{\"name\": \"");
    memset(p, 'n', 5000);
    p += 5000;
    strcpy(p, "\", \"rect\": [0,0,1,1]}]}");
    ck_assert_int_eq(vmo_zone_set_add_json(&set, doc, &err), VMO_ERR_BAD_ZONE);
    ck_assert_msg(strstr(err.msg, "...'):") && strstr(err.msg, "longer than 63"), "%s", err.msg);
    ck_assert_int_eq(set.count, 0);
    free(doc);
}
END_TEST

/* Random mutations of valid specs and documents: any outcome but a crash, a leak (see the
 * valgrind run) or a partial addition. */
START_TEST(parsers_mutated)
{
    static const char *const seeds[] = {
        "{\"zones\": [{\"name\": \"porch\", \"rect\": [0.1, 0.2, 0.5, 0.6]},"
        " {\"name\": \"path\", \"polygon\": [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]],"
        " \"exclude\": true}, {\"name\": \"g\", \"spec\": \"poly:0.1,0.1;0.9,0.1;0.5,0.9\"}]}",
        "poly:0.645833,0.277778;0.895833,0.277778;0.916667,0.75;0.625,0.75",
        "0.666667,0.305556,0.875,0.722222",
    };
    static const char alphabet[] = "{}[]\",:;.0123456789-+eEtrufalsnpoly xz\\\t";
    uint32_t seed = tu_seed();
    char buf[512];
    for (int k = 0; k < 20000; k++) {
        const char *src = seeds[k % 3];
        size_t len = strlen(src);
        memcpy(buf, src, len + 1);
        const int edits = 1 + (int)(tu_rand(&seed) % 4);
        for (int e = 0; e < edits && len > 1; e++) {
            const size_t at = tu_rand(&seed) % len;
            const char c = alphabet[tu_rand(&seed) % (sizeof(alphabet) - 1)];
            switch (tu_rand(&seed) % 3) {
            case 0:
                buf[at] = c;
                break;
            case 1:
                memmove(buf + at, buf + at + 1, len - at);
                len--;
                break;
            default:
                if (len + 2 < sizeof(buf)) {
                    memmove(buf + at + 1, buf + at, len - at + 1);
                    buf[at] = c;
                    len++;
                }
            }
        }
        vmo_zone_set set = { 0 };
        vmo_errbuf err = { { 0 } };
        const int rc = k % 3 == 0 ? vmo_zone_set_add_json(&set, buf, &err)
                                  : vmo_zone_set_add_spec(&set, "m", k % 2, buf, &err);
        ck_assert_msg(rc == VMO_OK || rc == VMO_ERR_BAD_ZONE, "%s: %d", buf, rc);
        ck_assert_msg(rc == VMO_OK || set.count == 0, "%s: partial add", buf);
        if (rc == VMO_OK && set.count) {
            vmo_zone_map map = { 0 };
            ck_assert_int_eq(vmo_zone_map_build(&map, &set, 17, 9, &err), VMO_OK);
            vmo_zone_map_free(&map);
        }
        vmo_zone_set_clear(&set);
    }
}
END_TEST

static Suite *zones_suite(void)
{
    Suite *s = suite_create("zones");
    const int sizes = (int)VMO_ARRAY_SIZE(grid_sizes);
    TCase *tc = tcase_create("raster");
    tcase_add_loop_test(tc, rect_half_open, 0, sizes);
    tcase_add_test(tc, rect_pixel_counts);
    tcase_add_loop_test(tc, shapes_match_reference, 0, sizes);
    tcase_add_test(tc, shapes_areas);
    tcase_add_loop_test(tc, random_polygons_match_reference, 0, 20);
    tcase_add_loop_test(tc, shared_edges_counted_once, 0, 50);
    tcase_add_test(tc, vertices_on_pixel_centres);
    tcase_add_test(tc, rasterize_defensive);
    suite_add_tcase(s, tc);
    tc = tcase_create("spec");
    tcase_add_test(tc, spec_valid);
    tcase_add_test(tc, spec_invalid);
    tcase_add_test(tc, spec_point_limit);
    tcase_add_test(tc, names);
    tcase_add_test(tc, zone_count_limits);
    tcase_add_test(tc, polygon_api);
    tcase_add_test(tc, copy_set);
    suite_add_tcase(s, tc);
    tc = tcase_create("map");
    tcase_add_test(tc, map_whole_frame_default);
    tcase_add_test(tc, map_overlaps);
    tcase_add_test(tc, map_exclusions);
    tcase_add_loop_test(tc, map_random_zones, 0, 40);
    tcase_add_test(tc, map_class_limit);
    tcase_add_test(tc, map_rebuild_and_args);
    tcase_add_test(tc, map_speed);
    suite_add_tcase(s, tc);
    tc = tcase_create("json");
    tcase_add_test(tc, json_valid);
    tcase_add_test(tc, json_errors);
    tcase_add_test(tc, json_all_or_nothing);
    tcase_add_test(tc, json_hostile);
    tcase_add_test(tc, parsers_mutated);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(zones_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
