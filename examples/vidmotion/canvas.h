/* A small RGB canvas for the pictures: anti-aliased lines, rectangles, polygons, a built-in
 * 5x7 bitmap font, and PNG output through FFmpeg's own encoder (no other dependency). */
#ifndef VMO_CANVAS_H
#define VMO_CANVAS_H

#include <stdint.h>

typedef struct canvas {
    int w, h;
    uint8_t *rgb; /* w * h * 3 bytes, row-major */
} canvas;

/* Text: glyphs are 5x7 cells 6x8 apart, scaled by an integer factor. */
#define CANVAS_GLYPH_W 6
#define CANVAS_GLYPH_H 8

int canvas_init(canvas *c, int w, int h, unsigned background);
void canvas_free(canvas *c);

/* Colours are 0xRRGGBB; alpha 0..1 blends over what is there. */
void canvas_blend(canvas *c, int x, int y, unsigned rgb, double alpha);
void canvas_fill_rect(canvas *c, double x0, double y0, double x1, double y1, unsigned rgb,
                      double alpha);
void canvas_line(canvas *c, double x0, double y0, double x1, double y1, double width, unsigned rgb,
                 double alpha);
/* A closed outline through n points (xy pairs, pixels). */
void canvas_outline(canvas *c, const double *xy, int n, double width, unsigned rgb);
/* Even-odd fill of a polygon; `hatch` > 0 fills only diagonal stripes that far apart. */
void canvas_fill_polygon(canvas *c, const double *xy, int n, unsigned rgb, double alpha, int hatch);
/* Draws `text` with its top-left corner at (x, y); returns its width in pixels. */
int canvas_text(canvas *c, int x, int y, const char *text, int scale, unsigned rgb);
int canvas_text_width(const char *text, int scale);

/* Encodes the canvas as PNG (libavcodec) and writes it whole to `path` or not at all.
 * Returns 0, or -1 with a message printed. */
int canvas_write_png(const canvas *c, const char *path, int overwrite);

#endif
