/* plot.h's two backends: SVG text and the canvas. */
#include <math.h>
#include <string.h>

#include "plot.h"

#define SVG_FONT "DejaVu Sans Mono, Menlo, Consolas, monospace"

static void svg_color(FILE *f, unsigned rgb)
{
    fprintf(f, "#%06x", rgb & 0xffffff);
}

static void svg_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, f);
        }
    }
}

void plot_begin(plot *p)
{
    if (!p->svg)
        return;
    fprintf(p->svg,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"%s\">\n"
            "<defs><pattern id=\"hatch\" width=\"8\" height=\"8\" "
            "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
            "<rect width=\"3\" height=\"8\" fill=\"#9a9a9a\" fill-opacity=\"0.45\"/>"
            "</pattern></defs>\n",
            p->w, p->h, p->w, p->h, SVG_FONT);
}

void plot_group_begin(plot *p, const char *cls, const char *title)
{
    if (!p->svg)
        return;
    fputs("<g class=\"", p->svg);
    svg_escaped(p->svg, cls);
    fputs("\">", p->svg);
    if (title) {
        fputs("<title>", p->svg);
        svg_escaped(p->svg, title);
        fputs("</title>", p->svg);
    }
    fputc('\n', p->svg);
}

void plot_group_end(plot *p)
{
    if (p->svg)
        fputs("</g>\n", p->svg);
}

void plot_end(plot *p)
{
    if (p->svg)
        fputs("</svg>\n", p->svg);
}

void plot_rect(plot *p, double x0, double y0, double x1, double y1, unsigned rgb, double alpha)
{
    if (!p->svg) {
        canvas_fill_rect(p->cv, x0, y0, x1, y1, rgb, alpha);
        return;
    }
    fprintf(p->svg, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"", x0, y0,
            x1 - x0, y1 - y0);
    svg_color(p->svg, rgb);
    fprintf(p->svg, "\" fill-opacity=\"%.2f\"/>\n", alpha);
}

void plot_hatch(plot *p, double x0, double y0, double x1, double y1, unsigned rgb)
{
    if (p->svg) {
        fprintf(p->svg,
                "<rect class=\"lighting\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\" fill=\"url(#hatch)\"/>\n",
                x0, y0, x1 - x0, y1 - y0);
        return;
    }
    for (int y = (int)y0; y < (int)y1; y++)
        for (int x = (int)x0; x < (int)x1; x++)
            if ((x + y) % 8 < 3)
                canvas_blend(p->cv, x, y, rgb, 0.45);
}

static void raster_dashed(plot *p, double x0, double y0, double x1, double y1, double width,
                          unsigned rgb, double dash)
{
    double len = hypot(x1 - x0, y1 - y0);
    for (double s = 0; s < len; s += 2 * dash) {
        double e = fmin(s + dash, len);
        canvas_line(p->cv, x0 + (x1 - x0) * s / len, y0 + (y1 - y0) * s / len,
                    x0 + (x1 - x0) * e / len, y0 + (y1 - y0) * e / len, width, rgb, 1);
    }
}

void plot_line(plot *p, double x0, double y0, double x1, double y1, double width, unsigned rgb,
               double dash)
{
    if (!p->svg) {
        if (dash > 0)
            raster_dashed(p, x0, y0, x1, y1, width, rgb, dash);
        else
            canvas_line(p->cv, x0, y0, x1, y1, width, rgb, 1);
        return;
    }
    fprintf(p->svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"", x0, y0, x1,
            y1);
    svg_color(p->svg, rgb);
    fprintf(p->svg, "\" stroke-width=\"%.1f\"", width);
    if (dash > 0)
        fprintf(p->svg, " stroke-dasharray=\"%.0f %.0f\"", dash, dash);
    fputs("/>\n", p->svg);
}

void plot_polyline(plot *p, const double *xy, int n, double width, unsigned rgb)
{
    if (n < 2)
        return;
    if (!p->svg) {
        for (int i = 0; i + 1 < n; i++)
            canvas_line(p->cv, xy[2 * i], xy[2 * i + 1], xy[2 * i + 2], xy[2 * i + 3], width, rgb,
                        1);
        return;
    }
    fputs("<polyline fill=\"none\" stroke-linejoin=\"round\" stroke=\"", p->svg);
    svg_color(p->svg, rgb);
    fprintf(p->svg, "\" stroke-width=\"%.1f\" points=\"", width);
    for (int i = 0; i < n; i++)
        fprintf(p->svg, "%s%.1f,%.1f", i ? " " : "", xy[2 * i], xy[2 * i + 1]);
    fputs("\"/>\n", p->svg);
}

/* The bitmap font only comes in whole multiples of its 8-pixel cell. */
static int raster_scale(int size)
{
    int s = (size + 4) / 8;
    return s < 1 ? 1 : s;
}

double plot_text_width(const plot *p, const char *text, int size)
{
    if (p->svg)
        return 0.6 * size * (double)strlen(text);
    return canvas_text_width(text, raster_scale(size));
}

void plot_text(plot *p, double x, double y, const char *text, int size, unsigned rgb, int anchor)
{
    if (!p->svg) {
        int scale = raster_scale(size);
        double w = canvas_text_width(text, scale);
        double left = anchor == PLOT_MIDDLE ? x - w / 2 : anchor == PLOT_RIGHT ? x - w : x;
        canvas_text(p->cv, (int)lrint(left), (int)lrint(y - 3.5 * scale), text, scale, rgb);
        return;
    }
    static const char *const anchors[] = { "start", "middle", "end" };
    fprintf(p->svg,
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" "
            "dominant-baseline=\"central\" fill=\"",
            x, y, size, anchors[anchor]);
    svg_color(p->svg, rgb);
    fputs("\">", p->svg);
    svg_escaped(p->svg, text);
    fputs("</text>\n", p->svg);
}
