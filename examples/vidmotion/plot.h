/* Drawing for the timeline: the same calls write hand-made SVG or rasterize onto a canvas
 * (then PNG), so the two outputs show the same plot. */
#ifndef VMO_PLOT_H
#define VMO_PLOT_H

#include <stdio.h>

#include "canvas.h"

enum { PLOT_LEFT = 0, PLOT_MIDDLE = 1, PLOT_RIGHT = 2 };

typedef struct plot {
    int w, h;
    FILE *svg;  /* SVG elements go here, or ... */
    canvas *cv; /* ... pixels here */
} plot;

void plot_begin(plot *p);
/* SVG groups what follows as <g class="cls"> with a tooltip (`title` may be NULL); the
 * canvas ignores them. */
void plot_group_begin(plot *p, const char *cls, const char *title);
void plot_group_end(plot *p);
void plot_end(plot *p);
void plot_rect(plot *p, double x0, double y0, double x1, double y1, unsigned rgb, double alpha);
/* dash > 0: dashes of that length. */
void plot_line(plot *p, double x0, double y0, double x1, double y1, double width, unsigned rgb,
               double dash);
/* A line through n points (xy pairs). */
void plot_polyline(plot *p, const double *xy, int n, double width, unsigned rgb);
/* Text centred vertically on y; `anchor` PLOT_LEFT/MIDDLE/RIGHT on x. size in pixels. */
void plot_text(plot *p, double x, double y, const char *text, int size, unsigned rgb, int anchor);
/* Width of `text` at `size` in this backend. */
double plot_text_width(const plot *p, const char *text, int size);
/* A rectangle filled with diagonal stripes (lighting changes). */
void plot_hatch(plot *p, double x0, double y0, double x1, double y1, unsigned rgb);

#endif
