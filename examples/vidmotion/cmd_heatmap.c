/* vidmotion heatmap -o heat.png FILE...: where the picture moved, and how often, over a
 * representative frame, with the zones outlined and labelled.
 *
 * The frame underneath is the per-pixel median of up to 16 analysis planes sampled evenly
 * over the clips: moving things vanish and the scene stays, so the colours say where motion
 * was without a passer-by frozen in the middle of it. The colours are the library's heatmap
 * (per cell of a 32x18 grid, the frames in which that cell moved), interpolated smoothly
 * and drawn with the perceptual 'inferno' colour map. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"
#include "cli.h"

#define MAX_SAMPLES 16

enum { OPT_OVERWRITE = 256, OPT_IMAGE_WIDTH };

typedef struct heat_opts {
    const char *output;
    int overwrite, image_width;
} heat_opts;

/* The background: planes sampled every `stride` frames, halved when full. */
typedef struct sampler {
    int w, h, count, stride;
    int64_t seen;
    uint8_t *planes[MAX_SAMPLES];
} sampler;

static const cli_option heat_options[] = {
    { "output", 'o', "FILE", "the PNG to write (required)" },
    { "overwrite", OPT_OVERWRITE, NULL, "replace FILE if it exists (default: refuse)" },
    { "image-width", OPT_IMAGE_WIDTH, "N", "width of the picture in pixels (default 640)" },
    { 0 },
};

static const cli_spec heat_spec = {
    .name = "heatmap",
    .args = "[options] -o FILE.png FILE...",
    .about = "Analyses the clips (of one camera) and draws where the picture moved and how\n"
             "often: a representative frame (the per-pixel median of frames sampled over\n"
             "the clips, so moving things vanish) overlaid with the share of frames in\n"
             "which each area moved (the 'inferno' colour map: dark purple rarely, yellow\n"
             "most often), with the zones outlined and labelled and masks hatched.",
    .groups = CLI_G_QUIET | CLI_G_WINDOW | CLI_G_ZONES | CLI_G_ANALYSIS,
    .heading = "Picture:",
    .own = heat_options,
    .min_files = 1,
    .exit_text = "0 written and motion found, 1 written and no motion, 2 bad command\n"
                 "line, 3 an input could not be read, 4 the picture could not be written,\n"
                 "130 interrupted (nothing is written).",
};

static int heat_option(void *user, int key, const char *arg)
{
    heat_opts *o = user;
    if (key == 'o') {
        o->output = arg;
    } else if (key == OPT_OVERWRITE) {
        o->overwrite = 1;
    } else if (key == OPT_IMAGE_WIDTH) {
        char *end;
        long v = strtol(arg, &end, 10);
        if (*end || v < 64 || v > 8192) {
            cli_error("heatmap: --image-width '%s': expected 64 to 8192 pixels", arg);
            return CLI_USAGE;
        }
        o->image_width = (int)v;
    } else {
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* ------------------------------------------------------------------------------------------
 * The representative frame
 * ---------------------------------------------------------------------------------------- */

static void sampler_take(sampler *s, const vmo_frame_report *r)
{
    uint8_t *p = malloc((size_t)s->w * (size_t)s->h);
    if (!p)
        return;
    for (int y = 0; y < s->h; y++)
        memcpy(p + (size_t)y * s->w, r->plane + (size_t)y * r->plane_stride, (size_t)s->w);
    s->planes[s->count++] = p;
}

/* Keeps every second sample and doubles the stride: samples stay spread over everything
 * seen so far, whatever the length of the clips. */
static void sampler_thin(sampler *s)
{
    int kept = 0;
    for (int i = 0; i < s->count; i++) {
        if (i % 2 == 0)
            s->planes[kept++] = s->planes[i];
        else
            free(s->planes[i]);
    }
    s->count = kept;
    s->stride *= 2;
}

static int on_frame(void *user, const vmo_frame_report *r)
{
    sampler *s = user;
    if (!r->plane)
        return 0; /* answered from an index: no picture */
    if (!s->w) {
        s->w = r->plane_width;
        s->h = r->plane_height;
        s->stride = 1;
    }
    if (r->plane_width != s->w || r->plane_height != s->h)
        return 0;
    int64_t n = s->seen++;
    if (n % s->stride)
        return 0;
    if (s->count == MAX_SAMPLES)
        sampler_thin(s);
    if (n % s->stride == 0)
        sampler_take(s, r);
    return 0;
}

static int cmp_u8(const void *a, const void *b)
{
    return *(const uint8_t *)a - *(const uint8_t *)b;
}

/* Per-pixel median into a new plane (NULL when nothing was sampled). */
static uint8_t *sampler_median(const sampler *s)
{
    if (!s->count)
        return NULL;
    uint8_t *out = malloc((size_t)s->w * (size_t)s->h);
    for (size_t i = 0; out && i < (size_t)s->w * (size_t)s->h; i++) {
        uint8_t v[MAX_SAMPLES];
        for (int k = 0; k < s->count; k++)
            v[k] = s->planes[k][i];
        qsort(v, (size_t)s->count, 1, cmp_u8);
        out[i] = v[s->count / 2];
    }
    return out;
}

static void sampler_free(sampler *s)
{
    for (int i = 0; i < s->count; i++)
        free(s->planes[i]);
    s->count = 0;
}

/* ------------------------------------------------------------------------------------------
 * Drawing
 * ---------------------------------------------------------------------------------------- */

/* matplotlib's 'inferno' at 9 stops: perceptually uniform, readable in grey. */
static unsigned inferno(double t)
{
    static const unsigned stops[9] = { 0x000004, 0x1f0c48, 0x550f6d, 0x88226a, 0xba3655,
                                       0xe35933, 0xf98c0a, 0xf9c932, 0xfcffa4 };
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double x = t * 8;
    int i = x >= 8 ? 7 : (int)x;
    double f = x - i;
    unsigned out = 0;
    for (int shift = 16; shift >= 0; shift -= 8) {
        double a = (stops[i] >> shift) & 255, b = (stops[i + 1] >> shift) & 255;
        out |= (unsigned)lrint(a + (b - a) * f) << shift;
    }
    return out;
}

/* Bilinear sample of a w x h grid of values at (u, v) in 0..1 of the frame. */
static double bilinear(const double *g, int w, int h, double u, double v)
{
    double x = u * w - 0.5, y = v * h - 0.5;
    x = x < 0 ? 0 : x > w - 1 ? w - 1 : x;
    y = y < 0 ? 0 : y > h - 1 ? h - 1 : y;
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    double fx = x - x0, fy = y - y0;
    double top = g[y0 * w + x0] * (1 - fx) + g[y0 * w + x1] * fx;
    double bottom = g[y1 * w + x0] * (1 - fx) + g[y1 * w + x1] * fx;
    return top * (1 - fy) + bottom * fy;
}

/* The median frame, in grey and dimmed so that the colours stand out. */
static void draw_background(canvas *cv, int ih, const sampler *s, const uint8_t *median)
{
    double *g = NULL;
    if (median) {
        g = malloc((size_t)s->w * (size_t)s->h * sizeof(double));
        for (size_t i = 0; g && i < (size_t)s->w * (size_t)s->h; i++)
            g[i] = median[i];
    }
    for (int y = 0; y < ih; y++)
        for (int x = 0; x < cv->w; x++) {
            double v = g ? bilinear(g, s->w, s->h, (x + 0.5) / cv->w, (y + 0.5) / ih) : 96;
            unsigned grey = (unsigned)lrint(16 + v * 0.55);
            canvas_blend(cv, x, y, grey << 16 | grey << 8 | grey, 1);
        }
    free(g);
}

/* One pass of a [1 2 1] blur over the grid: the cells are coarse (20 pixels at 640 wide),
 * and a little spread turns their squares into the soft shapes motion really has. */
static void blur_grid(const double *in, double *out)
{
    const int w = VMO_GRID_W, h = VMO_GRID_H;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double sum = 0, weight = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                        continue;
                    double k = (dx ? 1 : 2) * (dy ? 1 : 2);
                    sum += k * in[yy * w + xx];
                    weight += k;
                }
            out[y * w + x] = sum / weight;
        }
}

/* Share of frames each pixel moved in, 0..1 of the busiest cell, with the colour map. A
 * square root spreads the rarely-moving areas, which matter most at a glance. */
static void draw_heat(canvas *cv, int ih, const double *raw, double max)
{
    double heat[VMO_GRID_W * VMO_GRID_H];
    blur_grid(raw, heat);
    max = 0;
    for (int k = 0; k < VMO_GRID_W * VMO_GRID_H; k++)
        max = heat[k] > max ? heat[k] : max;
    if (max <= 0)
        return;
    for (int y = 0; y < ih; y++)
        for (int x = 0; x < cv->w; x++) {
            double v =
                bilinear(heat, VMO_GRID_W, VMO_GRID_H, (x + 0.5) / cv->w, (y + 0.5) / ih) / max;
            if (v < 0.02)
                continue;
            double t = sqrt(v);
            canvas_blend(cv, x, y, inferno(0.15 + 0.85 * t), fmin(1, 8 * v) * (0.3 + 0.6 * t));
        }
}

static void draw_label(canvas *cv, double x, double y, const char *text, unsigned bg)
{
    int tw = canvas_text_width(text, 2) + 8;
    x = x + tw > cv->w ? cv->w - tw : x;
    x = x < 0 ? 0 : x;
    canvas_fill_rect(cv, x, y, x + tw, y + 20, bg, 0.9);
    canvas_text(cv, (int)x + 4, (int)y + 3, text, 2, 0x000000);
}

static void draw_zones(canvas *cv, int ih, const cli_common *c)
{
    int include = 0;
    for (int i = 0; i < c->nzones; i++) {
        const cli_zone *z = &c->zones[i];
        double xy[512], minx = cv->w, miny = ih;
        for (int k = 0; k < z->npoints && k < 256; k++) {
            xy[2 * k] = z->xy[2 * k] * cv->w;
            xy[2 * k + 1] = z->xy[2 * k + 1] * ih;
            minx = fmin(minx, xy[2 * k]);
            miny = fmin(miny, xy[2 * k + 1]);
        }
        if (z->kind == VMO_ZONE_EXCLUDE) {
            canvas_fill_polygon(cv, xy, z->npoints, 0x000000, 0.55, 0);
            canvas_fill_polygon(cv, xy, z->npoints, 0xb0b0b0, 0.5, 10);
            canvas_outline(cv, xy, z->npoints, 1.5, 0xb0b0b0);
            char label[80];
            snprintf(label, sizeof(label), "mask %s", z->name);
            draw_label(cv, minx + 3, miny + 3, label, 0xb0b0b0);
            continue;
        }
        unsigned col = cli_zone_color(include++);
        canvas_outline(cv, xy, z->npoints, 2.5, col);
        draw_label(cv, minx + 3, miny + 3, z->name, col);
    }
}

/* The colour scale, right-aligned under the picture: 0 .. the busiest cell's frames. */
static void draw_scale(canvas *cv, int ih, double max, int64_t frames)
{
    char line[96];
    int bw = cv->w / 4 > 140 ? cv->w / 4 : 140, bx = cv->w - bw - 10, by = ih + 20;
    snprintf(line, sizeof(line), "frames with motion (of %lld)", (long long)frames);
    canvas_text(cv, cv->w - 10 - canvas_text_width(line, 1), ih + 8, line, 1, 0xa0a0a0);
    for (int i = 0; i < bw; i++) {
        double t = (double)i / (bw - 1);
        canvas_fill_rect(cv, bx + i, by, bx + i + 1, by + 12, inferno(0.15 + 0.85 * sqrt(t)), 1);
    }
    canvas_text(cv, bx, by + 17, "0", 1, 0xa0a0a0);
    snprintf(line, sizeof(line), "%.0f", max);
    canvas_text(cv, bx + bw - canvas_text_width(line, 1), by + 17, line, 1, 0xa0a0a0);
}

/* Below the picture: what it shows, and the colour scale. */
static void draw_footer(canvas *cv, int ih, const vmo_result *res, double max, int64_t frames)
{
    char line[160], when[48];
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    vmo_result_clip(res, 0, &ci);
    int n = vmo_result_clip_count(res);
    snprintf(line, sizeof(line), "%s%s", cli_base_name(ci.path), n > 1 ? " ..." : "");
    canvas_text(cv, 10, ih + 10, line, 2, 0xe0e0e0);
    if (n > 1)
        snprintf(line, sizeof(line), "%d clips, %lld frames", n, (long long)frames);
    else
        snprintf(line, sizeof(line), "%lld frames", (long long)frames);
    if (!isnan(ci.wall_start)) {
        cli_wall(ci.wall_start, when, sizeof(when));
        when[19] = '\0';
        when[10] = ' ';
        size_t len = strlen(line);
        snprintf(line + len, sizeof(line) - len, ", from %s UTC", when);
    }
    canvas_text(cv, 10, ih + 34, line, 1, 0xa0a0a0);
    draw_scale(cv, ih, max, frames);
}

/* Counts of every clip summed (the grid is relative to the frame, so clips of one camera
 * add up whatever their resolution). Returns the busiest cell's count. */
static double sum_heat(const vmo_result *res, double *heat, int64_t *frames)
{
    double max = 0;
    memset(heat, 0, sizeof(double) * VMO_GRID_W * VMO_GRID_H);
    *frames = 0;
    for (int i = 0; i < vmo_result_clip_count(res); i++) {
        const uint32_t *counts;
        int w, h;
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        vmo_result_clip(res, i, &ci);
        *frames += ci.analysed;
        if (vmo_result_heatmap(res, i, &counts, &w, &h) != VMO_OK || w != VMO_GRID_W ||
            h != VMO_GRID_H)
            continue;
        for (int k = 0; k < w * h; k++)
            heat[k] += counts[k];
    }
    for (int k = 0; k < VMO_GRID_W * VMO_GRID_H; k++)
        max = heat[k] > max ? heat[k] : max;
    return max;
}

/* The picture's height: the analysis plane's aspect, else the first clip's. */
static int picture_height(const vmo_result *res, const sampler *s, int width)
{
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    if (s->w > 0)
        return (int)lrint((double)width * s->h / s->w);
    if (vmo_result_clip(res, 0, &ci) == VMO_OK && ci.width > 0 && ci.height > 0)
        return (int)lrint((double)width * ci.height / ci.width);
    return width * 9 / 16;
}

static int render(const cli_common *c, const heat_opts *o, const vmo_result *res, const sampler *s)
{
    double heat[VMO_GRID_W * VMO_GRID_H];
    int64_t frames;
    double max = sum_heat(res, heat, &frames);
    int ih = picture_height(res, s, o->image_width);
    canvas cv;
    if (canvas_init(&cv, o->image_width, ih + 52, 0x141418) != 0) {
        cli_error("out of memory");
        return CLI_OUTPUT_ERROR;
    }
    uint8_t *median = sampler_median(s);
    draw_background(&cv, ih, s, median);
    free(median);
    draw_heat(&cv, ih, heat, max);
    draw_zones(&cv, ih, c);
    draw_footer(&cv, ih, res, max, frames);
    int rc = canvas_write_png(&cv, o->output, o->overwrite) == 0 ? CLI_OK : CLI_OUTPUT_ERROR;
    if (rc == CLI_OK && !c->quiet)
        printf("%s: %dx%d PNG, busiest area moved in %.0f of %lld frames\n", o->output, cv.w, cv.h,
               max, (long long)frames);
    canvas_free(&cv);
    return rc;
}

int cmd_heatmap(int argc, char **argv)
{
    cli_common c;
    heat_opts o = { .image_width = 640 };
    if (cli_common_init(&c))
        return CLI_INPUT_ERROR;
    int rc = cli_parse(&heat_spec, &c, argc, argv, heat_option, &o);
    if (rc == CLI_OK && !o.output) {
        cli_error("heatmap: -o FILE.png is required (try 'vidmotion heatmap --help')");
        rc = CLI_USAGE;
    }
    sampler s = { 0 };
    vmo_result *res = NULL;
    int interrupted = 0;
    if (rc == CLI_OK) {
        vmo_config_set_int(c.cfg, "heatmap", 1);
        cli_hooks hooks = { .frame = on_frame, .user = &s };
        rc = cli_run_request(&c, &hooks, &res, &interrupted);
    }
    if (rc == CLI_OK && interrupted)
        rc = CLI_INTERRUPTED; /* a picture of part of the clips would pass for the whole */
    if (rc == CLI_OK && !cli_analysed_frames(res)) {
        cli_error("%s: no frame could be analysed: nothing to draw", argv[0]);
        rc = CLI_INPUT_ERROR;
    }
    if (rc == CLI_OK)
        rc = render(&c, &o, res, &s);
    if (rc == CLI_OK)
        rc = cli_result_exit(res);
    sampler_free(&s);
    vmo_result_destroy(&res);
    cli_common_free(&c);
    return rc < 0 ? CLI_OK : rc;
}
