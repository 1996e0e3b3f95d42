/* The canvas of canvas.h. Drawing is plain C over an RGB buffer: the pictures are small
 * (640 pixels wide) and drawn once, so clarity wins over speed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>

#include "canvas.h"
#include "cli.h"

/* 5x7 glyphs of ASCII 32..126, one byte per column, bit 0 the top row; g j p q y use an
 * eighth row for their descenders. */
static const uint8_t font5x7[95][5] = {
    { 0x00, 0x00, 0x00, 0x00, 0x00 }, /* space */
    { 0x00, 0x00, 0x5F, 0x00, 0x00 }, /* ! */
    { 0x00, 0x07, 0x00, 0x07, 0x00 }, /* " */
    { 0x14, 0x7F, 0x14, 0x7F, 0x14 }, /* # */
    { 0x24, 0x2A, 0x7F, 0x2A, 0x12 }, /* $ */
    { 0x23, 0x13, 0x08, 0x64, 0x62 }, /* % */
    { 0x36, 0x49, 0x55, 0x22, 0x50 }, /* & */
    { 0x00, 0x05, 0x03, 0x00, 0x00 }, /* ' */
    { 0x00, 0x1C, 0x22, 0x41, 0x00 }, /* ( */
    { 0x00, 0x41, 0x22, 0x1C, 0x00 }, /* ) */
    { 0x14, 0x08, 0x3E, 0x08, 0x14 }, /* star */
    { 0x08, 0x08, 0x3E, 0x08, 0x08 }, /* + */
    { 0x00, 0x50, 0x30, 0x00, 0x00 }, /* , */
    { 0x08, 0x08, 0x08, 0x08, 0x08 }, /* - */
    { 0x00, 0x60, 0x60, 0x00, 0x00 }, /* . */
    { 0x20, 0x10, 0x08, 0x04, 0x02 }, /* slash */
    { 0x3E, 0x51, 0x49, 0x45, 0x3E }, /* 0 */
    { 0x00, 0x42, 0x7F, 0x40, 0x00 }, /* 1 */
    { 0x42, 0x61, 0x51, 0x49, 0x46 }, /* 2 */
    { 0x21, 0x41, 0x45, 0x4B, 0x31 }, /* 3 */
    { 0x18, 0x14, 0x12, 0x7F, 0x10 }, /* 4 */
    { 0x27, 0x45, 0x45, 0x45, 0x39 }, /* 5 */
    { 0x3C, 0x4A, 0x49, 0x49, 0x30 }, /* 6 */
    { 0x01, 0x71, 0x09, 0x05, 0x03 }, /* 7 */
    { 0x36, 0x49, 0x49, 0x49, 0x36 }, /* 8 */
    { 0x06, 0x49, 0x49, 0x29, 0x1E }, /* 9 */
    { 0x00, 0x36, 0x36, 0x00, 0x00 }, /* : */
    { 0x00, 0x56, 0x36, 0x00, 0x00 }, /* ; */
    { 0x08, 0x14, 0x22, 0x41, 0x00 }, /* < */
    { 0x14, 0x14, 0x14, 0x14, 0x14 }, /* = */
    { 0x00, 0x41, 0x22, 0x14, 0x08 }, /* > */
    { 0x02, 0x01, 0x51, 0x09, 0x06 }, /* ? */
    { 0x32, 0x49, 0x79, 0x41, 0x3E }, /* @ */
    { 0x7E, 0x11, 0x11, 0x11, 0x7E }, /* A */
    { 0x7F, 0x49, 0x49, 0x49, 0x36 }, /* B */
    { 0x3E, 0x41, 0x41, 0x41, 0x22 }, /* C */
    { 0x7F, 0x41, 0x41, 0x22, 0x1C }, /* D */
    { 0x7F, 0x49, 0x49, 0x49, 0x41 }, /* E */
    { 0x7F, 0x09, 0x09, 0x09, 0x01 }, /* F */
    { 0x3E, 0x41, 0x49, 0x49, 0x7A }, /* G */
    { 0x7F, 0x08, 0x08, 0x08, 0x7F }, /* H */
    { 0x00, 0x41, 0x7F, 0x41, 0x00 }, /* I */
    { 0x20, 0x40, 0x41, 0x3F, 0x01 }, /* J */
    { 0x7F, 0x08, 0x14, 0x22, 0x41 }, /* K */
    { 0x7F, 0x40, 0x40, 0x40, 0x40 }, /* L */
    { 0x7F, 0x02, 0x0C, 0x02, 0x7F }, /* M */
    { 0x7F, 0x04, 0x08, 0x10, 0x7F }, /* N */
    { 0x3E, 0x41, 0x41, 0x41, 0x3E }, /* O */
    { 0x7F, 0x09, 0x09, 0x09, 0x06 }, /* P */
    { 0x3E, 0x41, 0x51, 0x21, 0x5E }, /* Q */
    { 0x7F, 0x09, 0x19, 0x29, 0x46 }, /* R */
    { 0x46, 0x49, 0x49, 0x49, 0x31 }, /* S */
    { 0x01, 0x01, 0x7F, 0x01, 0x01 }, /* T */
    { 0x3F, 0x40, 0x40, 0x40, 0x3F }, /* U */
    { 0x1F, 0x20, 0x40, 0x20, 0x1F }, /* V */
    { 0x3F, 0x40, 0x38, 0x40, 0x3F }, /* W */
    { 0x63, 0x14, 0x08, 0x14, 0x63 }, /* X */
    { 0x07, 0x08, 0x70, 0x08, 0x07 }, /* Y */
    { 0x61, 0x51, 0x49, 0x45, 0x43 }, /* Z */
    { 0x00, 0x7F, 0x41, 0x41, 0x00 }, /* [ */
    { 0x02, 0x04, 0x08, 0x10, 0x20 }, /* backslash */
    { 0x00, 0x41, 0x41, 0x7F, 0x00 }, /* ] */
    { 0x04, 0x02, 0x01, 0x02, 0x04 }, /* ^ */
    { 0x40, 0x40, 0x40, 0x40, 0x40 }, /* _ */
    { 0x00, 0x01, 0x02, 0x04, 0x00 }, /* ` */
    { 0x20, 0x54, 0x54, 0x54, 0x78 }, /* a */
    { 0x7F, 0x48, 0x44, 0x44, 0x38 }, /* b */
    { 0x38, 0x44, 0x44, 0x44, 0x20 }, /* c */
    { 0x38, 0x44, 0x44, 0x48, 0x7F }, /* d */
    { 0x38, 0x54, 0x54, 0x54, 0x18 }, /* e */
    { 0x08, 0x7E, 0x09, 0x01, 0x02 }, /* f */
    { 0x18, 0xA4, 0xA4, 0xA4, 0x7C }, /* g */
    { 0x7F, 0x08, 0x04, 0x04, 0x78 }, /* h */
    { 0x00, 0x44, 0x7D, 0x40, 0x00 }, /* i */
    { 0x00, 0x80, 0x80, 0x84, 0x7D }, /* j */
    { 0x7F, 0x10, 0x28, 0x44, 0x00 }, /* k */
    { 0x00, 0x41, 0x7F, 0x40, 0x00 }, /* l */
    { 0x7C, 0x04, 0x18, 0x04, 0x78 }, /* m */
    { 0x7C, 0x08, 0x04, 0x04, 0x78 }, /* n */
    { 0x38, 0x44, 0x44, 0x44, 0x38 }, /* o */
    { 0xFC, 0x24, 0x24, 0x24, 0x18 }, /* p */
    { 0x18, 0x24, 0x24, 0x24, 0xFC }, /* q */
    { 0x7C, 0x08, 0x04, 0x04, 0x08 }, /* r */
    { 0x48, 0x54, 0x54, 0x54, 0x20 }, /* s */
    { 0x04, 0x3F, 0x44, 0x40, 0x20 }, /* t */
    { 0x3C, 0x40, 0x40, 0x20, 0x7C }, /* u */
    { 0x1C, 0x20, 0x40, 0x20, 0x1C }, /* v */
    { 0x3C, 0x40, 0x30, 0x40, 0x3C }, /* w */
    { 0x44, 0x28, 0x10, 0x28, 0x44 }, /* x */
    { 0x1C, 0xA0, 0xA0, 0xA0, 0x7C }, /* y */
    { 0x44, 0x64, 0x54, 0x4C, 0x44 }, /* z */
    { 0x00, 0x08, 0x36, 0x41, 0x00 }, /* { */
    { 0x00, 0x00, 0x7F, 0x00, 0x00 }, /* | */
    { 0x00, 0x41, 0x36, 0x08, 0x00 }, /* } */
    { 0x08, 0x04, 0x08, 0x10, 0x08 }, /* ~ */
};

int canvas_init(canvas *c, int w, int h, unsigned background)
{
    c->w = w;
    c->h = h;
    c->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!c->rgb)
        return -1;
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        c->rgb[3 * i] = (uint8_t)(background >> 16);
        c->rgb[3 * i + 1] = (uint8_t)(background >> 8);
        c->rgb[3 * i + 2] = (uint8_t)background;
    }
    return 0;
}

void canvas_free(canvas *c)
{
    free(c->rgb);
    c->rgb = NULL;
}

void canvas_blend(canvas *c, int x, int y, unsigned rgb, double alpha)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h || alpha <= 0)
        return;
    alpha = alpha > 1 ? 1 : alpha;
    uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    const int src[3] = { (int)(rgb >> 16) & 255, (int)(rgb >> 8) & 255, (int)rgb & 255 };
    for (int i = 0; i < 3; i++)
        p[i] = (uint8_t)lrint(p[i] + (src[i] - p[i]) * alpha);
}

void canvas_fill_rect(canvas *c, double x0, double y0, double x1, double y1, unsigned rgb,
                      double alpha)
{
    for (int y = (int)floor(y0); y < (int)ceil(y1); y++) {
        double cy = fmin(y + 1, y1) - fmax(y, y0); /* partial coverage at the edges */
        for (int x = (int)floor(x0); x < (int)ceil(x1); x++) {
            double cx = fmin(x + 1, x1) - fmax(x, x0);
            canvas_blend(c, x, y, rgb, alpha * cx * cy);
        }
    }
}

static double segment_distance(double px, double py, double x0, double y0, double x1, double y1)
{
    double dx = x1 - x0, dy = y1 - y0;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}

/* Coverage from the distance of each pixel centre to the segment: smooth edges at any
 * angle, for the handful of lines a picture has. */
void canvas_line(canvas *c, double x0, double y0, double x1, double y1, double width, unsigned rgb,
                 double alpha)
{
    double r = width / 2;
    int xa = (int)floor(fmin(x0, x1) - r - 1), xb = (int)ceil(fmax(x0, x1) + r + 1);
    int ya = (int)floor(fmin(y0, y1) - r - 1), yb = (int)ceil(fmax(y0, y1) + r + 1);
    xa = xa < 0 ? 0 : xa;
    ya = ya < 0 ? 0 : ya;
    xb = xb > c->w ? c->w : xb;
    yb = yb > c->h ? c->h : yb;
    for (int y = ya; y < yb; y++)
        for (int x = xa; x < xb; x++) {
            double d = segment_distance(x + 0.5, y + 0.5, x0, y0, x1, y1);
            double cover = r + 0.5 - d;
            if (cover > 0)
                canvas_blend(c, x, y, rgb, alpha * (cover > 1 ? 1 : cover));
        }
}

void canvas_outline(canvas *c, const double *xy, int n, double width, unsigned rgb)
{
    for (int i = 0; i < n; i++) {
        int j = (i + 1) % n;
        canvas_line(c, xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1], width, rgb, 1);
    }
}

static int inside_polygon(const double *xy, int n, double px, double py)
{
    int in = 0;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        double yi = xy[2 * i + 1], yj = xy[2 * j + 1];
        if ((yi > py) != (yj > py) &&
            px < (xy[2 * j] - xy[2 * i]) * (py - yi) / (yj - yi) + xy[2 * i])
            in = !in;
    }
    return in;
}

void canvas_fill_polygon(canvas *c, const double *xy, int n, unsigned rgb, double alpha, int hatch)
{
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++) {
            if (hatch > 0 && (x + y) % hatch >= 2)
                continue;
            if (inside_polygon(xy, n, x + 0.5, y + 0.5))
                canvas_blend(c, x, y, rgb, alpha);
        }
}

int canvas_text_width(const char *text, int scale)
{
    return (int)strlen(text) * CANVAS_GLYPH_W * scale;
}

int canvas_text(canvas *c, int x, int y, const char *text, int scale, unsigned rgb)
{
    int x0 = x;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        const uint8_t *g = font5x7[*p >= 32 && *p < 127 ? *p - 32 : '?' - 32];
        for (int col = 0; col < 5; col++)
            for (int row = 0; row < 8; row++)
                if (g[col] >> row & 1)
                    canvas_fill_rect(c, x + col * scale, y + row * scale, x + (col + 1) * scale,
                                     y + (row + 1) * scale, rgb, 1);
        x += CANVAS_GLYPH_W * scale;
    }
    return x - x0;
}

/* ------------------------------------------------------------------------------------------
 * PNG through libavcodec's encoder: the same FFmpeg the library already needs
 * ---------------------------------------------------------------------------------------- */

static AVFrame *canvas_frame(const canvas *c)
{
    AVFrame *f = av_frame_alloc();
    if (!f)
        return NULL;
    f->format = AV_PIX_FMT_RGB24;
    f->width = c->w;
    f->height = c->h;
    if (av_frame_get_buffer(f, 0) < 0) {
        av_frame_free(&f);
        return NULL;
    }
    for (int y = 0; y < c->h; y++)
        memcpy(f->data[0] + (size_t)y * (size_t)f->linesize[0], c->rgb + (size_t)y * c->w * 3,
               (size_t)c->w * 3);
    return f;
}

/* The PNG file's bytes, in a packet of the encoder. */
static AVPacket *encode_png(const canvas *c)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
    AVCodecContext *ctx = codec ? avcodec_alloc_context3(codec) : NULL;
    AVFrame *frame = canvas_frame(c);
    AVPacket *pkt = av_packet_alloc();
    int ok = ctx && frame && pkt;
    if (ok) {
        ctx->width = c->w;
        ctx->height = c->h;
        ctx->pix_fmt = AV_PIX_FMT_RGB24;
        ctx->time_base = (AVRational){ 1, 1 };
        ok = avcodec_open2(ctx, codec, NULL) >= 0 && avcodec_send_frame(ctx, frame) >= 0 &&
             avcodec_send_frame(ctx, NULL) >= 0 && avcodec_receive_packet(ctx, pkt) >= 0;
    }
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    if (!ok)
        av_packet_free(&pkt);
    return pkt;
}

int canvas_write_png(const canvas *c, const char *path, int overwrite)
{
    AVPacket *pkt = encode_png(c);
    if (!pkt) {
        cli_error("%s: the PNG encoder of FFmpeg is not available or failed", path);
        return -1;
    }
    cli_outfile out;
    int rc = cli_outfile_open(&out, path, overwrite);
    if (rc == CLI_OK) {
        int ok = fwrite(pkt->data, 1, (size_t)pkt->size, out.f) == (size_t)pkt->size;
        rc = cli_outfile_close(&out, ok);
    }
    av_packet_free(&pkt);
    return rc == CLI_OK ? 0 : -1;
}
