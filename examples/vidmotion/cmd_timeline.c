/* vidmotion timeline -o timeline.svg|.png FILE...: each zone's motion score over time, the
 * start level, the detected events shaded, lighting changes hatched, and wall-clock time on
 * the axis when the clips have it. SVG is written by hand; PNG is the same plot rasterized
 * on the canvas (bitmap font, no SVG renderer involved). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "plot.h"

#define LOG_FLOOR (-4) /* 0.01 %: scores below sit on the axis */

#define C_BG   0x141418
#define C_AREA 0x1c1c22
#define C_GRID 0x33333d
#define C_TEXT 0xd0d0d0
#define C_DIM  0x8a8a94

enum { OPT_OVERWRITE = 256, OPT_IMAGE_WIDTH };

typedef struct tl_opts {
    const char *output;
    int overwrite, image_width, svg;
} tl_opts;

/* What the plot shows and where. */
typedef struct timeline {
    const vmo_result *res;
    int wall;     /* x is wall-clock time (every decoded clip has it) */
    double *base; /* per clip: x of its t = 0 */
    double x0, x1;
    int ytop; /* the top decade: 10^ytop */
    double start_level;
    double left, right, top, bottom, lanes_top;
} timeline;

static const cli_option tl_options[] = {
    { "output", 'o', "FILE", "the plot to write: FILE.svg, or FILE.png (rasterized)" },
    { "overwrite", OPT_OVERWRITE, NULL, "replace FILE if it exists (default: refuse)" },
    { "image-width", OPT_IMAGE_WIDTH, "N", "width of the plot in pixels (default 960)" },
    { 0 },
};

static const cli_spec tl_spec = {
    .name = "timeline",
    .args = "[options] -o FILE.svg|FILE.png FILE...",
    .about = "Analyses the clips and plots each zone's score (the share of its pixels that\n"
             "moved, on a log scale) over time: the start level as a dashed line, each\n"
             "detected event shaded in its zone's colour and marked in a lane above the\n"
             "plot, lighting changes hatched. The axis shows wall-clock time (UTC) when\n"
             "the clips have it, else seconds; several clips are placed in time order.",
    .groups = CLI_G_QUIET | CLI_G_WINDOW | CLI_G_ZONES | CLI_G_ANALYSIS,
    .heading = "Plot:",
    .own = tl_options,
    .min_files = 1,
    .exit_text = "0 written and motion found, 1 written and no motion, 2 bad command\n"
                 "line, 3 an input could not be read, 4 the plot could not be written,\n"
                 "130 interrupted (nothing is written).",
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

static int tl_option(void *user, int key, const char *arg)
{
    tl_opts *o = user;
    if (key == 'o') {
        if (!ends_with(arg, ".svg") && !ends_with(arg, ".png")) {
            cli_error("timeline: -o '%s': the name must end in .svg or .png", arg);
            return CLI_USAGE;
        }
        o->output = arg;
        o->svg = ends_with(arg, ".svg");
    } else if (key == OPT_OVERWRITE) {
        o->overwrite = 1;
    } else if (key == OPT_IMAGE_WIDTH) {
        char *end;
        long v = strtol(arg, &end, 10);
        if (*end || v < 320 || v > 8192) {
            cli_error("timeline: --image-width '%s': expected 320 to 8192 pixels", arg);
            return CLI_USAGE;
        }
        o->image_width = (int)v;
    } else {
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* ------------------------------------------------------------------------------------------
 * Axes
 * ---------------------------------------------------------------------------------------- */

static int clip_info(const vmo_result *res, int i, vmo_clip_info *ci)
{
    memset(ci, 0, sizeof(*ci));
    ci->struct_size = sizeof(*ci);
    return vmo_result_clip(res, i, ci);
}

/* Wall-clock axis when every clip with frames has a wall-clock start; else clips end to
 * end in their order. Then the range covered by frames. */
static int place_clips(timeline *t)
{
    int n = vmo_result_clip_count(t->res);
    t->base = calloc((size_t)(n > 0 ? n : 1), sizeof(double));
    if (!t->base)
        return -1;
    vmo_clip_info ci;
    t->wall = 1;
    for (int i = 0; i < n; i++)
        if (clip_info(t->res, i, &ci) == VMO_OK && ci.analysed > 0 && isnan(ci.wall_start))
            t->wall = 0;
    double offset = 0;
    t->x0 = INFINITY;
    t->x1 = -INFINITY;
    for (int i = 0; i < n; i++) {
        clip_info(t->res, i, &ci);
        t->base[i] = t->wall ? (isnan(ci.wall_start) ? 0 : ci.wall_start) : offset;
        offset += ci.duration;
        vmo_series s = { .struct_size = sizeof(s) };
        if (vmo_result_series(t->res, i, 0, &s) != VMO_OK || s.count == 0)
            continue;
        t->x0 = fmin(t->x0, t->base[i] + s.t[0]);
        t->x1 = fmax(t->x1, t->base[i] + s.t[s.count - 1]);
    }
    if (!(t->x1 > t->x0)) { /* one frame, or none */
        t->x0 = isfinite(t->x0) ? t->x0 : 0;
        t->x1 = t->x0 + 1;
    }
    return 0;
}

static double xpix(const timeline *t, double x)
{
    return t->left + (x - t->x0) / (t->x1 - t->x0) * (t->right - t->left);
}

static double ypix(const timeline *t, double v)
{
    double l = v > 0 ? log10(v) : LOG_FLOOR;
    l = l < LOG_FLOOR ? LOG_FLOOR : l > t->ytop ? t->ytop : l;
    return t->bottom - (l - LOG_FLOOR) / (t->ytop - LOG_FLOOR) * (t->bottom - t->top);
}

/* The decade above the highest score (at least 1 %, so quiet clips still look quiet). */
static int top_decade(const vmo_result *res)
{
    double max = 0;
    for (int c = 0; c < vmo_result_clip_count(res); c++)
        for (int z = 0; z < vmo_result_zone_count(res); z++) {
            vmo_series s = { .struct_size = sizeof(s) };
            if (vmo_result_series(res, c, z, &s) != VMO_OK)
                continue;
            for (uint32_t i = 0; i < s.count; i++)
                max = fmax(max, s.changed[i]);
        }
    int top = max > 0 ? (int)ceil(log10(max) - 1e-9) : -2;
    return top < -2 ? -2 : top > 0 ? 0 : top;
}

static void y_axis(plot *p, const timeline *t)
{
    for (int d = LOG_FLOOR; d <= t->ytop; d++) {
        double y = ypix(t, pow(10, d));
        char label[16];
        snprintf(label, sizeof(label), "%g%%", pow(10, d) * 100);
        plot_line(p, t->left, y, t->right, y, 1, C_GRID, 0);
        plot_text(p, t->left - 6, y, label, 12, C_DIM, PLOT_RIGHT);
    }
    plot_text(p, 8, t->top - 20, "share of the zone moving", 12, C_DIM, PLOT_LEFT);
}

/* A tick label: HH:MM:SS (UTC) on a wall-clock axis, else M:SS or seconds. */
static void tick_label(const timeline *t, double x, double step, char *buf, size_t size)
{
    if (t->wall) {
        char iso[48];
        cli_wall(x, iso, sizeof(iso));
        iso[step < 1 ? 21 : 19] = '\0';
        snprintf(buf, size, "%.10s", iso + 11);
    } else if (t->x1 - t->x0 >= 120) {
        long s = lround(x);
        snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
    } else {
        double r = round(x * 10) / 10;
        snprintf(buf, size, "%gs", r == 0 ? 0.0 : r); /* never "-0s" */
    }
}

/* The smallest "nice" step whose labels fit side by side. */
static double tick_step(plot *p, const timeline *t)
{
    static const double steps[] = { 0.1,  0.2,   0.5,   1,     2,     5,     10,   15,
                                    30,   60,    120,   300,   600,   900,   1800, 3600,
                                    7200, 10800, 21600, 43200, 86400, 604800 };
    char sample[32];
    tick_label(t, t->x0, 1, sample, sizeof(sample));
    double label_w = plot_text_width(p, sample, 12) + 24;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if ((t->x1 - t->x0) / steps[i] * label_w <= t->right - t->left)
            return steps[i];
    return steps[sizeof(steps) / sizeof(steps[0]) - 1];
}

static void x_axis(plot *p, const timeline *t)
{
    double step = tick_step(p, t);
    for (double x = ceil(t->x0 / step - 1e-9) * step; x <= t->x1 + 1e-9; x += step) {
        double px = xpix(t, x);
        char label[32];
        tick_label(t, x, step, label, sizeof(label));
        plot_line(p, px, t->top, px, t->bottom, 1, C_GRID, 0);
        plot_line(p, px, t->bottom, px, t->bottom + 4, 1, C_DIM, 0);
        if (px - plot_text_width(p, label, 12) / 2 >= t->left - 30)
            plot_text(p, px, t->bottom + 18, label, 12, C_DIM, PLOT_MIDDLE);
    }
    char title[96], a[48], b[48];
    if (t->wall) {
        cli_wall(t->x0, a, sizeof(a));
        cli_wall(t->x1, b, sizeof(b));
        a[10] = b[10] = '\0';
        snprintf(title, sizeof(title), "time (UTC), %.10s%s%.10s", a, strcmp(a, b) ? " .. " : "",
                 strcmp(a, b) ? b : "");
    } else {
        snprintf(title, sizeof(title), "%s",
                 vmo_result_clip_count(t->res) > 1 ? "seconds (clips placed end to end)"
                                                   : "seconds from the start of the clip");
    }
    plot_text(p, (t->left + t->right) / 2, t->bottom + 40, title, 12, C_DIM, PLOT_MIDDLE);
}

/* ------------------------------------------------------------------------------------------
 * Data
 * ---------------------------------------------------------------------------------------- */

/* One zone's scores in one clip, at most one point (the column's highest) per pixel
 * column: a peak never falls between samples, and hours of video stay a small file. */
static void series_line(plot *p, const timeline *t, int clip, int zone, unsigned col)
{
    vmo_series s = { .struct_size = sizeof(s) };
    if (vmo_result_series(t->res, clip, zone, &s) != VMO_OK || s.count == 0)
        return;
    double *xy = malloc((size_t)s.count * 2 * sizeof(double));
    if (!xy)
        return;
    int n = 0;
    for (uint32_t i = 0; i < s.count; i++) {
        double px = floor(xpix(t, t->base[clip] + s.t[i])), py = ypix(t, s.changed[i]);
        if (n > 0 && xy[2 * n - 2] == px) {
            xy[2 * n - 1] = fmin(xy[2 * n - 1], py); /* higher score = smaller y */
            continue;
        }
        xy[2 * n] = px;
        xy[2 * n + 1] = py;
        n++;
    }
    plot_polyline(p, xy, n, 1.5, col);
    free(xy);
}

static void series(plot *p, const timeline *t)
{
    for (int z = 0; z < vmo_result_zone_count(t->res); z++) {
        char title[96];
        snprintf(title, sizeof(title), "zone %s", vmo_result_zone_name(t->res, z));
        plot_group_begin(p, "series", title);
        for (int c = 0; c < vmo_result_clip_count(t->res); c++)
            series_line(p, t, c, z, cli_zone_color(z));
        plot_group_end(p);
    }
}

static void event_span(const timeline *t, const vmo_event *ev, double *a, double *b)
{
    if (t->wall) {
        *a = ev->wall_start;
        *b = ev->wall_end;
    } else {
        *a = t->base[ev->clip] + ev->start;
        *b = t->base[ev->end_clip] + ev->end;
    }
    *a = xpix(t, *a);
    *b = fmax(xpix(t, *b), *a + 2); /* a one-frame event stays visible */
}

static void event_title(const timeline *t, const vmo_event *ev, char *buf, size_t size)
{
    char a[48], b[48];
    const char *zone =
        ev->kind == VMO_EVENT_LIGHTING ? "lighting change" : vmo_result_zone_name(t->res, ev->zone);
    if (t->wall)
        snprintf(buf, size, "%s %s .. %s, peak %.2f%%", zone, cli_wall(ev->wall_start, a, 48),
                 cli_wall(ev->wall_end, b, 48), ev->peak * 100);
    else
        snprintf(buf, size, "%s %.2f .. %.2f s, peak %.2f%%", zone, ev->start, ev->end,
                 ev->peak * 100);
}

/* Events shaded over the plot, and marked in their zone's lane above it. */
static void events(plot *p, const timeline *t)
{
    int nz = vmo_result_zone_count(t->res);
    for (int e = 0; e < vmo_result_event_count(t->res); e++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        vmo_result_event(t->res, e, &ev);
        double a, b;
        char title[160];
        event_span(t, &ev, &a, &b);
        event_title(t, &ev, title, sizeof(title));
        if (ev.kind == VMO_EVENT_LIGHTING) {
            plot_group_begin(p, "lighting", title);
            plot_hatch(p, a, t->top, b, t->bottom, 0x9a9a9a);
            plot_text(p, a + 3, t->top + 10, "lighting", 12, C_DIM, PLOT_LEFT);
        } else {
            unsigned col = cli_zone_color(ev.zone);
            double lane = t->lanes_top + (ev.zone < nz ? ev.zone : 0) * 12;
            plot_group_begin(p, "event", title);
            plot_rect(p, a, t->top, b, t->bottom, col, 0.16);
            plot_rect(p, a, lane, b, lane + 9, col, 0.95);
        }
        plot_group_end(p);
    }
}

static void threshold(plot *p, const timeline *t)
{
    double y = ypix(t, t->start_level);
    char label[48];
    snprintf(label, sizeof(label), "start level %g%%", t->start_level * 100);
    plot_group_begin(p, "threshold",
                     "start level: a zone's score above it starts an event "
                     "(raised by the zone's own noise floor)");
    plot_line(p, t->left, y, t->right, y, 1.5, 0xe8e8e8, 6);
    plot_text(p, t->right - 4, y - 9, label, 12, 0xe8e8e8, PLOT_RIGHT);
    plot_group_end(p);
}

/* Boundaries between clips: a dotted line and the clip's name. */
static void clip_marks(plot *p, const timeline *t)
{
    int n = vmo_result_clip_count(t->res);
    for (int i = 0; n > 1 && i < n; i++) {
        vmo_clip_info ci;
        clip_info(t->res, i, &ci);
        double x = xpix(t, t->base[i]);
        if (x < t->left - 1 || x > t->right)
            continue;
        if (x > t->left + 1)
            plot_line(p, x, t->top, x, t->bottom, 1, C_DIM, 2);
        plot_text(p, fmax(x, t->left) + 4, t->bottom - 10, cli_base_name(ci.path), 12, C_DIM,
                  PLOT_LEFT);
    }
}

/* Title, then a legend: each zone's colour, the start level, events, lighting. */
static void header(plot *p, const timeline *t)
{
    char title[160];
    vmo_clip_info ci;
    clip_info(t->res, 0, &ci);
    int n = vmo_result_clip_count(t->res);
    if (n > 1)
        snprintf(title, sizeof(title), "motion per zone: %d clips, %s ...", n,
                 cli_base_name(ci.path));
    else
        snprintf(title, sizeof(title), "motion per zone: %s", cli_base_name(ci.path));
    plot_text(p, t->left, 20, title, 16, C_TEXT, PLOT_LEFT);
    double x = t->left;
    for (int z = 0; z < vmo_result_zone_count(t->res); z++) {
        const char *name = vmo_result_zone_name(t->res, z);
        plot_line(p, x, 44, x + 18, 44, 3, cli_zone_color(z), 0);
        plot_text(p, x + 24, 44, name, 12, C_TEXT, PLOT_LEFT);
        x += 24 + plot_text_width(p, name, 12) + 18;
    }
    plot_line(p, x, 44, x + 18, 44, 1.5, 0xe8e8e8, 4);
    plot_text(p, x + 24, 44, "start level", 12, C_TEXT, PLOT_LEFT);
    x += 24 + plot_text_width(p, "start level", 12) + 18;
    plot_rect(p, x, 38, x + 18, 50, cli_zone_color(0), 0.35);
    plot_text(p, x + 24, 44, "event", 12, C_TEXT, PLOT_LEFT);
    x += 24 + plot_text_width(p, "event", 12) + 18;
    plot_hatch(p, x, 38, x + 18, 50, 0x9a9a9a);
    plot_text(p, x + 24, 44, "lighting", 12, C_TEXT, PLOT_LEFT);
}

static void draw(plot *p, timeline *t)
{
    int nz = vmo_result_zone_count(t->res);
    t->left = 70;
    t->right = p->w - 20;
    t->lanes_top = 62;
    t->top = t->lanes_top + nz * 12 + 36;
    t->bottom = p->h - 56;
    plot_begin(p);
    plot_rect(p, 0, 0, p->w, p->h, C_BG, 1);
    plot_rect(p, t->left, t->top, t->right, t->bottom, C_AREA, 1);
    header(p, t);
    y_axis(p, t);
    x_axis(p, t);
    events(p, t);
    clip_marks(p, t);
    series(p, t);
    threshold(p, t);
    plot_end(p);
}

/* ------------------------------------------------------------------------------------------
 * Output
 * ---------------------------------------------------------------------------------------- */

static int write_svg(const tl_opts *o, timeline *t, int w, int h)
{
    cli_outfile out;
    int rc = cli_outfile_open(&out, o->output, o->overwrite);
    if (rc != CLI_OK)
        return rc;
    plot p = { .w = w, .h = h, .svg = out.f };
    draw(&p, t);
    return cli_outfile_close(&out, 1);
}

static int write_png(const tl_opts *o, timeline *t, int w, int h)
{
    canvas cv;
    if (canvas_init(&cv, w, h, C_BG) != 0) {
        cli_error("out of memory");
        return CLI_OUTPUT_ERROR;
    }
    plot p = { .w = w, .h = h, .cv = &cv };
    draw(&p, t);
    int rc = canvas_write_png(&cv, o->output, o->overwrite) == 0 ? CLI_OK : CLI_OUTPUT_ERROR;
    canvas_free(&cv);
    return rc;
}

static int render(const cli_common *c, const tl_opts *o, const vmo_result *res)
{
    timeline t = { .res = res, .start_level = 0.0005 };
    vmo_config_get_double(c->cfg, "start_level", &t.start_level);
    if (place_clips(&t) != 0) {
        cli_error("out of memory");
        return CLI_OUTPUT_ERROR;
    }
    t.ytop = top_decade(res);
    int w = o->image_width;
    int h = 62 + vmo_result_zone_count(res) * 12 + 36 + 300 + 56;
    int rc = o->svg ? write_svg(o, &t, w, h) : write_png(o, &t, w, h);
    if (rc == CLI_OK && !c->quiet)
        printf("%s: %dx%d %s, %d zone%s, %d segment%s\n", o->output, w, h, o->svg ? "SVG" : "PNG",
               vmo_result_zone_count(res), vmo_result_zone_count(res) == 1 ? "" : "s",
               vmo_result_event_count(res), vmo_result_event_count(res) == 1 ? "" : "s");
    free(t.base);
    return rc;
}

int cmd_timeline(int argc, char **argv)
{
    cli_common c;
    tl_opts o = { .image_width = 960 };
    if (cli_common_init(&c))
        return CLI_INPUT_ERROR;
    int rc = cli_parse(&tl_spec, &c, argc, argv, tl_option, &o);
    if (rc == CLI_OK && !o.output) {
        cli_error("timeline: -o FILE.svg or FILE.png is required (try 'vidmotion timeline "
                  "--help')");
        rc = CLI_USAGE;
    }
    vmo_result *res = NULL;
    int interrupted = 0;
    if (rc == CLI_OK) {
        c.frames = 1; /* the per-frame scores are the plot */
        rc = cli_run_request(&c, NULL, &res, &interrupted);
    }
    if (rc == CLI_OK && interrupted)
        rc = CLI_INTERRUPTED; /* a plot of part of the clips would pass for the whole */
    if (rc == CLI_OK && !cli_analysed_frames(res)) {
        cli_error("%s: no frame could be analysed: nothing to draw", argv[0]);
        rc = CLI_INPUT_ERROR;
    }
    if (rc == CLI_OK)
        rc = render(&c, &o, res);
    if (rc == CLI_OK)
        rc = cli_result_exit(res);
    vmo_result_destroy(&res);
    cli_common_free(&c);
    return rc < 0 ? CLI_OK : rc;
}
