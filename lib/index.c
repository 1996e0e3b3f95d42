/* Motion index: writing during a scan, checking, and replaying without decoding.
 *
 * The file is a fixed little-endian header (with its own CRC-32) followed by one zlib
 * stream of records (CRC-32 of the compressed bytes in the header). Records are small
 * varint-coded frames holding only their non-zero grid cells; a run of idle frames is one
 * record, so an idle hour costs a few hundred bytes. docs/index-format.md has the layout. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/mem.h>
#include <libavutil/sha.h>
#include <zlib.h>

#include "atomic.h"
#include "index.h"

#define HEADER_SIZE 256
#define CHUNK 65536
#define IDENTITY_SPAN 65536
#define MAX_INDEX_BYTES (1ull << 31)

static const char magic[8] = { 'V', 'M', 'O', 'I', 'N', 'D', 'E', 'X' };

enum { REC_END = 0, REC_FRAME = 1, REC_IDLE = 2, REC_KEY = 3, REC_SIZE = 4, REC_MASK = 5 };

/* ------------------------------------------------------------------------------------------
 * Little-endian fields and varints
 * ---------------------------------------------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_f64(uint8_t *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(p, u);
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static double get_f64(const uint8_t *p)
{
    uint64_t u = get_u64(p);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int64_t to_us(double t)
{
    return (int64_t)llround(t * 1e6);
}

/* ------------------------------------------------------------------------------------------
 * Clip identity
 * ---------------------------------------------------------------------------------------- */

static int read_full(int fd, uint8_t *buf, size_t n, off_t at)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, buf + done, n - done, at + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

int vmo_clip_identity_of(const char *path, vmo_clip_identity *id, vmo_errbuf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vmo_err_set(err, errno == ENOENT ? VMO_ERR_NOT_FOUND : VMO_ERR_IO,
                           "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    uint8_t *buf = malloc(IDENTITY_SPAN);
    struct AVSHA *sha = av_sha_alloc();
    int rc = VMO_OK;
    if (!buf || !sha || av_sha_init(sha, 256) < 0)
        rc = vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    else if (fstat(fd, &st) != 0)
        rc = vmo_err_set(err, VMO_ERR_IO, "cannot stat %s", path);
    if (rc == VMO_OK) {
        uint8_t size_le[8];
        id->size = (uint64_t)st.st_size;
        put_u64(size_le, id->size);
        av_sha_update(sha, size_le, 8);
        size_t head = (size_t)VMO_MIN((uint64_t)IDENTITY_SPAN, id->size);
        size_t tail = (size_t)VMO_MIN((uint64_t)IDENTITY_SPAN, id->size);
        if (read_full(fd, buf, head, 0) != 0)
            rc = vmo_err_set(err, VMO_ERR_IO, "cannot read %s", path);
        else
            av_sha_update(sha, buf, head);
        if (rc == VMO_OK && read_full(fd, buf, tail, (off_t)(id->size - tail)) != 0)
            rc = vmo_err_set(err, VMO_ERR_IO, "cannot read %s", path);
        else if (rc == VMO_OK)
            av_sha_update(sha, buf, tail);
        if (rc == VMO_OK)
            av_sha_final(sha, id->hash);
    }
    av_free(sha);
    free(buf);
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Header
 * ---------------------------------------------------------------------------------------- */

static void header_pack(const vmo_index_header *h, uint8_t *b)
{
    memset(b, 0, HEADER_SIZE);
    memcpy(b, magic, 8);
    put_u32(b + 8, h->version);
    put_u32(b + 12, HEADER_SIZE);
    put_u64(b + 16, h->clip.size);
    memcpy(b + 24, h->clip.hash, 32);
    put_u32(b + 56, (uint32_t)h->grid_w);
    put_u32(b + 60, (uint32_t)h->grid_h);
    put_u32(b + 64, (uint32_t)h->analysis_w);
    put_u32(b + 68, (uint32_t)h->analysis_h);
    put_u32(b + 72, (uint32_t)h->K);
    put_u32(b + 76, h->flags);
    put_u64(b + 80, (uint64_t)h->frames);
    put_u64(b + 88, (uint64_t)h->analysed);
    put_f64(b + 96, h->duration);
    put_f64(b + 104, h->fps);
    put_u32(b + 112, (uint32_t)h->width);
    put_u32(b + 116, (uint32_t)h->height);
    put_u32(b + 120, (uint32_t)h->rotation);
    memcpy(b + 124, h->codec, 16);
    put_u32(b + 140, (uint32_t)h->s_width);
    put_u32(b + 144, (uint32_t)h->s_threshold);
    put_u32(b + 148, (uint32_t)h->s_blur);
    put_u32(b + 152, (uint32_t)h->s_adaptive);
    put_u32(b + 156, (uint32_t)h->s_lighting);
    put_u32(b + 160, (uint32_t)h->s_stream);
    put_f64(b + 164, h->s_long_baseline);
    put_f64(b + 172, h->s_fps);
    put_u64(b + 180, h->payload_size);
    put_u64(b + 188, h->payload_raw);
    put_u32(b + 196, h->payload_crc);
    put_f64(b + 200, h->wall_start);
    put_u32(b + 208, (uint32_t)h->wall_source);
    put_u32(b + HEADER_SIZE - 4, (uint32_t)crc32(0, b, HEADER_SIZE - 4));
}

static int header_unpack(const uint8_t *b, vmo_index_header *h, vmo_errbuf *err)
{
    if (memcmp(b, magic, 8) != 0)
        return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "not a vidmotion index (magic)");
    if (get_u32(b + HEADER_SIZE - 4) != (uint32_t)crc32(0, b, HEADER_SIZE - 4))
        return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index header checksum mismatch");
    memset(h, 0, sizeof(*h));
    h->version = get_u32(b + 8);
    if (h->version != VMO_INDEX_VERSION || get_u32(b + 12) != HEADER_SIZE)
        return vmo_err_set(err, VMO_ERR_UNSUPPORTED, "index format version %u (this library "
                           "reads %d)", h->version, VMO_INDEX_VERSION);
    h->clip.size = get_u64(b + 16);
    memcpy(h->clip.hash, b + 24, 32);
    h->grid_w = (int32_t)get_u32(b + 56);
    h->grid_h = (int32_t)get_u32(b + 60);
    h->analysis_w = (int32_t)get_u32(b + 64);
    h->analysis_h = (int32_t)get_u32(b + 68);
    h->K = (int32_t)get_u32(b + 72);
    h->flags = get_u32(b + 76);
    h->frames = (int64_t)get_u64(b + 80);
    h->analysed = (int64_t)get_u64(b + 88);
    h->duration = get_f64(b + 96);
    h->fps = get_f64(b + 104);
    h->width = (int32_t)get_u32(b + 112);
    h->height = (int32_t)get_u32(b + 116);
    h->rotation = (int32_t)get_u32(b + 120);
    memcpy(h->codec, b + 124, 16);
    h->codec[15] = '\0';
    h->s_width = (int32_t)get_u32(b + 140);
    h->s_threshold = (int32_t)get_u32(b + 144);
    h->s_blur = (int32_t)get_u32(b + 148);
    h->s_adaptive = (int32_t)get_u32(b + 152);
    h->s_lighting = (int32_t)get_u32(b + 156);
    h->s_stream = (int32_t)get_u32(b + 160);
    h->s_long_baseline = get_f64(b + 164);
    h->s_fps = get_f64(b + 172);
    h->payload_size = get_u64(b + 180);
    h->payload_raw = get_u64(b + 188);
    h->payload_crc = get_u32(b + 196);
    h->wall_start = get_f64(b + 200);
    h->wall_source = (int32_t)get_u32(b + 208);
    if (h->grid_w != VMO_GRID_W || h->grid_h != VMO_GRID_H || h->analysis_w <= 0 ||
        h->analysis_h <= 0 || h->analysis_w > 32768 || h->analysis_h > 32768 || h->frames < 0 ||
        h->analysed < 0 || h->analysed > h->frames || (uint64_t)h->frames > h->clip.size ||
        !(h->duration >= 0) || h->payload_size > MAX_INDEX_BYTES)
        return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index header out of range");
    return VMO_OK;
}

static void header_settings(vmo_index_header *h, const vmo_settings *s)
{
    h->s_width = (int32_t)s->width;
    h->s_threshold = (int32_t)s->threshold;
    h->s_blur = (int32_t)s->blur;
    h->s_adaptive = (int32_t)s->adaptive_threshold;
    h->s_lighting = (int32_t)s->lighting;
    h->s_stream = (int32_t)s->stream;
    h->s_long_baseline = s->long_baseline;
    h->s_fps = s->fps;
}

/* ------------------------------------------------------------------------------------------
 * Writer
 * ---------------------------------------------------------------------------------------- */

struct vmo_index_writer {
    vmo_afile file; /* under its temporary name until committed (atomic.h) */
    z_stream z;
    int z_ready;
    uint8_t raw[CHUNK];
    size_t raw_len;
    uint8_t out[CHUNK];
    uint32_t crc;
    vmo_index_header h;
    int64_t prev_index, prev_us, prev_key_us;
    int aw, ah;
    int64_t idle_n, idle_step; /* a pending run of idle frames */
    int failed;                /* VMO_ERR_* of the first failure */
};

/* The first failure is kept: a scan goes on without its index rather than failing. */
static int write_all(vmo_index_writer *w, const uint8_t *p, size_t n)
{
    int rc = vmo_afile_write(&w->file, p, n, NULL);
    if (rc != VMO_OK)
        w->failed = rc;
    return rc;
}

/* Feeds the raw records to zlib and writes what comes out. */
static int deflate_raw(vmo_index_writer *w, int flush)
{
    w->z.next_in = w->raw;
    w->z.avail_in = (uInt)w->raw_len;
    w->h.payload_raw += w->raw_len;
    do {
        w->z.next_out = w->out;
        w->z.avail_out = CHUNK;
        if (deflate(&w->z, flush) == Z_STREAM_ERROR)
            return w->failed = VMO_ERR_NO_MEMORY;
        size_t n = CHUNK - w->z.avail_out;
        w->crc = (uint32_t)crc32(w->crc, w->out, (uInt)n);
        w->h.payload_size += n;
        if (n && write_all(w, w->out, n) != VMO_OK)
            return w->failed;
    } while (w->z.avail_out == 0);
    w->raw_len = 0;
    return VMO_OK;
}

static int room(vmo_index_writer *w, size_t need)
{
    if (w->failed)
        return w->failed;
    return (w->raw_len + need > CHUNK) ? deflate_raw(w, Z_NO_FLUSH) : VMO_OK;
}

static void put_byte(vmo_index_writer *w, uint8_t b)
{
    w->raw[w->raw_len++] = b;
}

static void put_varint(vmo_index_writer *w, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put_byte(w, (uint8_t)v);
}

static void put_double(vmo_index_writer *w, double v)
{
    put_f64(w->raw + w->raw_len, v);
    w->raw_len += 8;
}

/* The privacy masks the counts leave out, so a replay can leave them out too. */
static int write_masks(vmo_index_writer *w, const vmo_zone_set *zones)
{
    for (int i = 0; zones && i < zones->count; i++) {
        const vmo_zone *z = &zones->zones[i];
        if (z->kind != VMO_ZONE_EXCLUDE)
            continue;
        if (room(w, 16 + 16 * (size_t)z->npoints) != VMO_OK)
            return w->failed;
        put_byte(w, REC_MASK);
        put_varint(w, z->npoints);
        for (uint32_t k = 0; k < 2 * z->npoints; k++)
            put_double(w, z->xy[k]);
    }
    return VMO_OK;
}

static char *index_path_of(const char *clip_path)
{
    size_t n = strlen(clip_path) + sizeof(VMO_INDEX_SUFFIX);
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s", clip_path, VMO_INDEX_SUFFIX);
    return p;
}

/* The header is written blank first and for real at the commit, once its sizes and CRC
 * are known. */
static int writer_start(vmo_index_writer *w, const vmo_settings *s, const vmo_zone_set *zones,
                        vmo_errbuf *err)
{
    if (deflateInit(&w->z, 6) != Z_OK)
        return VMO_ERR_NO_MEMORY;
    uint8_t blank[HEADER_SIZE] = { 0 };
    w->z_ready = 1;
    w->h.version = VMO_INDEX_VERSION;
    w->h.grid_w = VMO_GRID_W;
    w->h.grid_h = VMO_GRID_H;
    header_settings(&w->h, s);
    w->prev_index = -1;
    if (write_all(w, blank, sizeof(blank)) != VMO_OK || write_masks(w, zones) != VMO_OK)
        return vmo_err_set(err, w->failed, "cannot write the index %s", w->file.tmp_path);
    return VMO_OK;
}

int vmo_index_writer_open(vmo_index_writer **out, const char *clip_path, const vmo_settings *s,
                          const vmo_zone_set *zones, vmo_errbuf *err)
{
    *out = NULL;
    vmo_index_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    vmo_afile_init(&w->file);
    char *final_path = index_path_of(clip_path);
    int rc = final_path ? vmo_clip_identity_of(clip_path, &w->h.clip, err) : VMO_ERR_NO_MEMORY;
    if (rc == VMO_OK)
        rc = vmo_afile_open(&w->file, final_path, err);
    free(final_path);
    if (rc == VMO_OK)
        rc = writer_start(w, s, zones, err);
    if (rc != VMO_OK) {
        if (rc == VMO_ERR_NO_MEMORY)
            vmo_err_set(err, rc, "out of memory");
        vmo_index_writer_close(&w, NULL, 0, 0, NULL);
        return rc;
    }
    *out = w;
    return VMO_OK;
}

static int flush_idle(vmo_index_writer *w)
{
    if (w->idle_n == 0)
        return VMO_OK;
    if (room(w, 32) != VMO_OK)
        return w->failed;
    put_byte(w, REC_IDLE);
    put_varint(w, (uint64_t)w->idle_n);
    put_varint(w, zigzag(w->idle_step));
    w->idle_n = 0;
    return VMO_OK;
}

static int cells_empty(const uint32_t *g)
{
    for (int i = 0; i < VMO_GRID_CELLS; i++)
        if (g[i])
            return 0;
    return 1;
}

static void put_cells(vmo_index_writer *w, const uint32_t *g)
{
    int n = 0;
    for (int i = 0; i < VMO_GRID_CELLS; i++)
        n += g[i] != 0;
    put_varint(w, (uint64_t)n);
    for (int i = 0, last = -1; i < VMO_GRID_CELLS; i++)
        if (g[i]) {
            put_varint(w, (uint64_t)(i - last - 1));
            put_varint(w, g[i]);
            last = i;
        }
}

int vmo_index_writer_frame(vmo_index_writer *w, const vmo_scored_frame *f, int analysis_w,
                           int analysis_h)
{
    if (w->failed)
        return w->failed;
    if (!f->grid_near || !f->grid_far)
        return w->failed = VMO_ERR_STATE;
    if (analysis_w != w->aw || analysis_h != w->ah) {
        if (flush_idle(w) != VMO_OK || room(w, 32) != VMO_OK)
            return w->failed;
        put_byte(w, REC_SIZE);
        put_varint(w, (uint64_t)analysis_w);
        put_varint(w, (uint64_t)analysis_h);
        if (!w->aw) {
            w->h.analysis_w = analysis_w;
            w->h.analysis_h = analysis_h;
        }
        w->aw = analysis_w;
        w->ah = analysis_h;
    }
    const int64_t us = to_us(f->t), step = us - w->prev_us;
    const int64_t index_gap = f->index - w->prev_index - 1;
    const int idle = f->flags == 0 && f->light == 0 && index_gap == 0 &&
                     cells_empty(f->grid_near) && cells_empty(f->grid_far);
    if (idle && (w->idle_n == 0 || step == w->idle_step)) {
        w->idle_n++;
        w->idle_step = step;
    } else {
        if (flush_idle(w) != VMO_OK)
            return w->failed;
        if (idle) {
            w->idle_n = 1;
            w->idle_step = step;
        } else {
            if (room(w, 32 + 2 * 2 * 10 * VMO_GRID_CELLS) != VMO_OK)
                return w->failed;
            put_byte(w, REC_FRAME);
            put_varint(w, zigzag(index_gap));
            put_varint(w, zigzag(step));
            put_byte(w, (uint8_t)f->flags);
            put_byte(w, (uint8_t)lrintf(VMO_CLAMP(f->light, 0.0f, 1.0f) * 255.0f));
            put_cells(w, f->grid_near);
            put_cells(w, f->grid_far);
        }
    }
    w->prev_us = us;
    w->prev_index = f->index;
    w->h.analysed++;
    return VMO_OK;
}

int vmo_index_writer_keyframe(vmo_index_writer *w, double t)
{
    if (w->failed || flush_idle(w) != VMO_OK || room(w, 16) != VMO_OK)
        return w->failed;
    const int64_t us = to_us(t);
    put_byte(w, REC_KEY);
    put_varint(w, zigzag(us - w->prev_key_us));
    w->prev_key_us = us;
    return VMO_OK;
}

static int commit(vmo_index_writer *w, const vmo_clip_info *clip, int K, vmo_errbuf *err)
{
    if (flush_idle(w) != VMO_OK || room(w, 1) != VMO_OK)
        return vmo_err_set(err, w->failed, "cannot write the index %s", w->file.final_path);
    put_byte(w, REC_END);
    if (deflate_raw(w, Z_FINISH) != VMO_OK)
        return vmo_err_set(err, w->failed, "cannot write the index %s", w->file.final_path);
    vmo_index_header *h = &w->h;
    h->K = K;
    h->flags = clip->flags & (VMO_CLIP_TRUNCATED | VMO_CLIP_DAMAGED | VMO_CLIP_RESIZED);
    h->frames = clip->frames;
    h->duration = clip->duration;
    h->fps = clip->fps;
    h->width = clip->width;
    h->height = clip->height;
    h->rotation = clip->rotation;
    h->wall_start = clip->wall_start;
    h->wall_source = clip->wall_source;
    snprintf(h->codec, sizeof(h->codec), "%s", clip->codec ? clip->codec : "");
    h->payload_crc = w->crc;
    uint8_t b[HEADER_SIZE];
    header_pack(h, b);
    /* The header goes last: a file without it is never mistaken for a valid index. */
    int rc = vmo_afile_write_at(&w->file, b, HEADER_SIZE, 0, err);
    if (rc == VMO_OK)
        rc = vmo_afile_finish(&w->file, err);
    if (rc == VMO_OK)
        rc = vmo_afile_commit(&w->file, 1, err); /* a stale index is replaced */
    return rc;
}

int vmo_index_writer_close(vmo_index_writer **pw, const vmo_clip_info *clip, int K, int do_commit,
                           vmo_errbuf *err)
{
    if (!pw || !*pw)
        return VMO_OK;
    vmo_index_writer *w = *pw;
    int rc = VMO_OK;
    if (do_commit && clip)
        rc = w->failed
                 ? vmo_err_set(err, w->failed, "cannot write the index %s", w->file.final_path)
                 : commit(w, clip, K, err);
    if (w->z_ready)
        deflateEnd(&w->z);
    /* Whatever did not reach its final name is removed. */
    vmo_afile_discard(&w->file, 0);
    free(w);
    *pw = NULL;
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------------------------- */

int vmo_index_read_header(const char *index_path, vmo_index_header *h, vmo_errbuf *err)
{
    int fd = open(index_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vmo_err_set(err, errno == ENOENT ? VMO_ERR_NOT_FOUND : VMO_ERR_IO,
                           "cannot open the index %s: %s", index_path, strerror(errno));
    uint8_t b[HEADER_SIZE];
    struct stat st;
    int rc = VMO_OK;
    if (fstat(fd, &st) != 0 || st.st_size < HEADER_SIZE ||
        read_full(fd, b, HEADER_SIZE, 0) != 0)
        rc = vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index %s is too short", index_path);
    if (rc == VMO_OK)
        rc = header_unpack(b, h, err);
    if (rc == VMO_OK && (uint64_t)st.st_size != HEADER_SIZE + h->payload_size)
        rc = vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index %s has %lld bytes, its header "
                         "says %llu", index_path, (long long)st.st_size,
                         (unsigned long long)(HEADER_SIZE + h->payload_size));
    /* The whole payload is checked before any of it is trusted. */
    uint8_t *buf = rc == VMO_OK ? malloc(CHUNK) : NULL;
    if (rc == VMO_OK && !buf)
        rc = vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    uint32_t crc = 0;
    for (uint64_t at = 0; rc == VMO_OK && at < h->payload_size;) {
        size_t n = (size_t)VMO_MIN((uint64_t)CHUNK, h->payload_size - at);
        if (read_full(fd, buf, n, (off_t)(HEADER_SIZE + at)) != 0)
            rc = vmo_err_set(err, VMO_ERR_IO, "cannot read the index %s", index_path);
        crc = (uint32_t)crc32(crc, buf, (uInt)n);
        at += n;
    }
    if (rc == VMO_OK && crc != h->payload_crc)
        rc = vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index %s: payload checksum mismatch",
                         index_path);
    free(buf);
    close(fd);
    return rc;
}

int vmo_index_matches(const vmo_index_header *h, const char *clip_path, const vmo_settings *s,
                      vmo_errbuf *err)
{
    vmo_clip_identity id;
    int rc = vmo_clip_identity_of(clip_path, &id, err);
    if (rc != VMO_OK)
        return rc;
    if (id.size != h->clip.size || memcmp(id.hash, h->clip.hash, 32) != 0)
        return vmo_err_set(err, VMO_ERR_INDEX_STALE,
                           "the index of %s describes another version of the clip", clip_path);
    vmo_index_header want = *h;
    header_settings(&want, s);
    if (want.s_width != h->s_width || want.s_threshold != h->s_threshold ||
        want.s_blur != h->s_blur || want.s_adaptive != h->s_adaptive ||
        want.s_lighting != h->s_lighting || want.s_stream != h->s_stream ||
        want.s_long_baseline != h->s_long_baseline || want.s_fps != h->s_fps)
        return vmo_err_set(err, VMO_ERR_INDEX_STALE,
                           "the index of %s was made with other analysis settings", clip_path);
    return VMO_OK;
}

/* ---- replay ---- */

typedef struct reader {
    int fd;
    uint64_t left;      /* compressed bytes not read yet */
    off_t at;
    z_stream z;
    int z_ready;
    uint8_t in[CHUNK], out[CHUNK];
    size_t pos, len;
    int bad;            /* the stream broke: corrupt */
} reader;

static int refill(reader *r)
{
    r->pos = r->len = 0;
    while (r->len == 0) {
        if (r->z.avail_in == 0 && r->left > 0) {
            size_t n = (size_t)VMO_MIN((uint64_t)CHUNK, r->left);
            if (read_full(r->fd, r->in, n, r->at) != 0)
                return r->bad = 1, -1;
            r->at += (off_t)n;
            r->left -= n;
            r->z.next_in = r->in;
            r->z.avail_in = (uInt)n;
        }
        r->z.next_out = r->out;
        r->z.avail_out = CHUNK;
        int zr = inflate(&r->z, Z_NO_FLUSH);
        r->len = CHUNK - r->z.avail_out;
        if (zr == Z_STREAM_END && r->len == 0)
            return r->bad = 1, -1; /* records end without REC_END */
        if (zr != Z_OK && zr != Z_STREAM_END)
            return r->bad = 1, -1;
        if (r->len == 0 && r->z.avail_in == 0 && r->left == 0)
            return r->bad = 1, -1;
    }
    return 0;
}

static int rd_byte(reader *r)
{
    if (r->pos == r->len && refill(r) != 0)
        return -1;
    return r->out[r->pos++];
}

static uint64_t rd_varint(reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        int b = rd_byte(r);
        if (b < 0)
            return 0;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static double rd_double(reader *r)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) {
        int c = rd_byte(r);
        if (c < 0)
            return NAN;
        b[i] = (uint8_t)c;
    }
    return get_f64(b);
}

/* Zone weights over the grid for one analysis size: weight[z][cell] = pixels of zone z in
 * the cell / pixels of the cell the counts cover (outside the index's masks). */
typedef struct replay {
    const vmo_index_sink *sink;
    vmo_zone_set zones;        /* the query's zones plus the index's masks */
    vmo_zone_map map;
    int zone_count;
    float *weight;             /* zone_count * VMO_GRID_CELLS */
    uint32_t near[VMO_GRID_CELLS], far[VMO_GRID_CELLS];
    vmo_raw_frame raw;
    vmo_combined combined;
    int64_t index, us, key_us;
    int64_t left;   /* frames the header says are still to come: a record claiming more
                       (a run of a billion idle frames) is corrupt, not a long replay */
    int64_t frames; /* the clip's frames: every frame index is below */
} replay;

/* Times in an index stay within about 35 years of the clip's start (in microseconds), so
 * that no sum of hostile deltas overflows. */
#define MAX_TIME_US ((int64_t)1 << 50)

static int time_add(int64_t *t, int64_t d)
{
    if (d > MAX_TIME_US || d < -MAX_TIME_US || *t + d > MAX_TIME_US || *t + d < -MAX_TIME_US)
        return -1;
    *t += d;
    return 0;
}

static int replay_size(replay *rp, int w, int h, vmo_errbuf *err)
{
    int rc = vmo_zone_map_build(&rp->map, &rp->zones, w, h, err);
    if (rc != VMO_OK)
        return rc;
    rp->zone_count = rp->map.zone_count;
    free(rp->weight);
    rp->weight = calloc((size_t)rp->zone_count * VMO_GRID_CELLS, sizeof(float));
    uint32_t *cell_px = calloc(VMO_GRID_CELLS, sizeof(uint32_t));
    uint32_t *zone_px = calloc((size_t)rp->zone_count * VMO_GRID_CELLS, sizeof(uint32_t));
    if (!rp->weight || !cell_px || !zone_px) {
        free(cell_px);
        free(zone_px);
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    for (int y = 0; y < h; y++) {
        const int row = (int)((int64_t)y * VMO_GRID_H / h) * VMO_GRID_W;
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t)y * (size_t)w + (size_t)x;
            if (rp->map.excluded && rp->map.excluded[i])
                continue;
            const int cell = row + (int)((int64_t)x * VMO_GRID_W / w);
            cell_px[cell]++;
            for (uint64_t bits = rp->map.class_zones[rp->map.labels[i]]; bits;
                 bits &= bits - 1)
                zone_px[__builtin_ctzll(bits) * VMO_GRID_CELLS + cell]++;
        }
    }
    for (int z = 0; z < rp->zone_count; z++)
        for (int c = 0; c < VMO_GRID_CELLS; c++)
            if (cell_px[c])
                rp->weight[z * VMO_GRID_CELLS + c] =
                    (float)zone_px[z * VMO_GRID_CELLS + c] / (float)cell_px[c];
    free(cell_px);
    free(zone_px);
    if (rp->sink->zones)
        rp->sink->zones(rp->sink->user, rp->zone_count, rp->map.zone_area);
    return VMO_OK;
}

static void rd_cells(reader *r, uint32_t *g)
{
    memset(g, 0, sizeof(uint32_t) * VMO_GRID_CELLS);
    uint64_t n = rd_varint(r);
    int64_t cell = -1;
    for (uint64_t k = 0; k < n && !r->bad; k++) {
        const uint64_t skip = rd_varint(r), v = rd_varint(r);
        if (skip >= VMO_GRID_CELLS || (cell += (int64_t)skip + 1) >= VMO_GRID_CELLS ||
            v > UINT32_MAX) {
            r->bad = 1;
            return;
        }
        g[cell] = (uint32_t)v;
    }
}

/* Zone counts ~ sum over cells of weight x count, for the cells that hold any. */
static void cells_to_zones(const replay *rp, const uint32_t *g, uint32_t *zones)
{
    for (int z = 0; z < rp->zone_count; z++) {
        const float *w = rp->weight + z * VMO_GRID_CELLS;
        double sum = 0;
        for (int c = 0; c < VMO_GRID_CELLS; c++)
            if (g[c])
                sum += w[c] * (double)g[c];
        zones[z] = (uint32_t)lround(sum);
    }
}

static int emit_frame(replay *rp, uint32_t flags, float light, int empty)
{
    vmo_raw_frame *f = &rp->raw;
    f->index = rp->index;
    f->t = (double)rp->us / 1e6;
    f->flags = flags;
    f->light = light;
    if (empty) {
        memset(f->near, 0, sizeof(uint32_t) * (size_t)rp->zone_count);
        memset(f->far, 0, sizeof(uint32_t) * (size_t)rp->zone_count);
    } else {
        cells_to_zones(rp, rp->near, f->near);
        cells_to_zones(rp, rp->far, f->far);
    }
    vmo_scored_frame out;
    vmo_combine_frame(f, rp->zone_count, rp->map.zone_area, &rp->combined, &out);
    out.grid_near = rp->near;
    out.grid_far = rp->far;
    return rp->sink->frame(rp->sink->user, &out);
}

static int replay_records(reader *r, replay *rp, vmo_errbuf *err)
{
    rp->index = -1;
    for (;;) {
        const int type = rd_byte(r);
        if (type < 0 || r->bad)
            break;
        int stop = 0, rc;
        switch (type) {
        case REC_END:
            return VMO_OK;
        case REC_MASK:
            return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: mask after frames");
        case REC_SIZE: {
            uint64_t w = rd_varint(r), h = rd_varint(r);
            if (r->bad || w == 0 || h == 0 || w > 32768 || h > 32768)
                return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: bad analysis size");
            if ((rc = replay_size(rp, (int)w, (int)h, err)) != VMO_OK)
                return rc;
            break;
        }
        case REC_KEY:
            if (time_add(&rp->key_us, unzigzag(rd_varint(r))) != 0)
                return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: keyframe time out of "
                                   "range");
            if (rp->sink->keyframe && !r->bad)
                rp->sink->keyframe(rp->sink->user, (double)rp->key_us / 1e6);
            break;
        case REC_IDLE: {
            uint64_t n = rd_varint(r);
            int64_t step = unzigzag(rd_varint(r));
            if (!rp->weight || r->bad)
                return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: frames before a size");
            if (n > (uint64_t)rp->left || (int64_t)n > rp->frames - 1 - rp->index)
                return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: more frames than its "
                                   "header counts");
            int64_t end_us = rp->us;
            if (step > MAX_TIME_US || step < -MAX_TIME_US ||
                (step && n > (uint64_t)(MAX_TIME_US / (step < 0 ? -step : step))) ||
                time_add(&end_us, (int64_t)n * step) != 0)
                return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: frame time out of range");
            rp->left -= (int64_t)n;
            memset(rp->near, 0, sizeof(rp->near));
            memset(rp->far, 0, sizeof(rp->far));
            for (uint64_t k = 0; k < n && !stop; k++) {
                rp->index++;
                rp->us += step;
                stop = emit_frame(rp, 0, 0.0f, 1);
            }
            break;
        }
        case REC_FRAME: {
            int64_t gap = unzigzag(rd_varint(r));
            int64_t step = unzigzag(rd_varint(r));
            int flags = rd_byte(r), light = rd_byte(r);
            rd_cells(r, rp->near);
            rd_cells(r, rp->far);
            if (!rp->weight || r->bad || flags < 0 || light < 0 || gap < 0 || rp->left < 1 ||
                gap > rp->frames - 2 - rp->index || time_add(&rp->us, step) != 0)
                return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: bad frame record");
            rp->left--;
            rp->index += gap + 1;
            stop = emit_frame(rp, (uint32_t)flags & 0xff, (float)light / 255.0f, 0);
            break;
        }
        default:
            return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: unknown record %d", type);
        }
        if (stop)
            return VMO_ERR_CANCELLED;
    }
    return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: records end too early");
}

/* Mask records come first: they join the query's zones as exclude zones. */
static int read_masks(reader *r, replay *rp, const vmo_zone_set *zones, vmo_errbuf *err)
{
    if (vmo_zone_set_copy(&rp->zones, zones) != VMO_OK)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    for (int k = 0;; k++) {
        if (r->pos == r->len && refill(r) != 0)
            return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: no records");
        if (r->out[r->pos] != REC_MASK)
            return VMO_OK;
        r->pos++;
        uint64_t n = rd_varint(r);
        if (r->bad || n < 3 || n > VMO_ZONE_MAX_POINTS)
            return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: bad mask");
        double xy[2 * VMO_ZONE_MAX_POINTS];
        for (uint64_t i = 0; i < 2 * n; i++)
            xy[i] = rd_double(r);
        char name[32];
        snprintf(name, sizeof(name), "_index_mask.%d", k);
        vmo_errbuf zerr;
        if (r->bad || vmo_zone_set_add_polygon(&rp->zones, name, VMO_ZONE_EXCLUDE, xy,
                                               (uint32_t)n, &zerr) != VMO_OK)
            return vmo_err_set(err, VMO_ERR_INDEX_CORRUPT, "index: bad mask");
    }
}

int vmo_index_replay(const char *index_path, const vmo_index_header *h,
                     const vmo_zone_set *zones, const vmo_index_sink *sink, vmo_errbuf *err)
{
    reader *r = calloc(1, sizeof(*r));
    replay *rp = calloc(1, sizeof(*rp));
    if (!r || !rp) {
        free(r);
        free(rp);
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    rp->sink = sink;
    rp->left = h->analysed;
    rp->frames = h->frames;
    r->fd = open(index_path, O_RDONLY | O_CLOEXEC);
    r->left = h->payload_size;
    r->at = HEADER_SIZE;
    int rc = VMO_OK;
    if (r->fd < 0)
        rc = vmo_err_set(err, VMO_ERR_IO, "cannot open the index %s", index_path);
    else if (inflateInit(&r->z) != Z_OK)
        rc = vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    else
        r->z_ready = 1;
    if (rc == VMO_OK)
        rc = read_masks(r, rp, zones, err);
    if (rc == VMO_OK)
        rc = replay_records(r, rp, err);
    if (r->z_ready)
        inflateEnd(&r->z);
    if (r->fd >= 0)
        close(r->fd);
    vmo_zone_map_free(&rp->map);
    vmo_zone_set_clear(&rp->zones);
    free(rp->weight);
    free(rp);
    free(r);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Public check
 * ---------------------------------------------------------------------------------------- */

int vmo_index_check(const char *clip_path, const char *index_path, vmo_index_info *info)
{
    if (!clip_path || !info)
        return VMO_ERR_INVALID_ARG;
    char buf[4096];
    if (!index_path) {
        snprintf(buf, sizeof(buf), "%s%s", clip_path, VMO_INDEX_SUFFIX);
        index_path = buf;
    }
    vmo_index_header h;
    vmo_errbuf err;
    vmo_settings s;
    memset(&h, 0, sizeof(h));
    int rc = vmo_index_read_header(index_path, &h, &err);
    if (rc == VMO_OK) {
        /* Identity only: compare the index's own settings with themselves. */
        vmo_settings_default(&s);
        s.width = h.s_width;
        s.threshold = h.s_threshold;
        s.blur = h.s_blur;
        s.adaptive_threshold = h.s_adaptive;
        s.lighting = h.s_lighting;
        s.stream = h.s_stream;
        s.long_baseline = h.s_long_baseline;
        s.fps = h.s_fps;
        rc = vmo_index_matches(&h, clip_path, &s, &err);
    }
    struct stat st;
    vmo_index_info mine = {
        .struct_size = sizeof(mine),
        .status = rc,
        .version = (int32_t)h.version,
        .grid_width = h.grid_w,
        .grid_height = h.grid_h,
        .analysis_width = h.analysis_w,
        .analysis_height = h.analysis_h,
        .frames = h.analysed,
        .clip_size = (int64_t)h.clip.size,
        .index_size = stat(index_path, &st) == 0 ? (int64_t)st.st_size : -1,
        .duration = h.duration,
        .wall_start = rc == VMO_OK ? h.wall_start : NAN,
    };
    int crc = vmo_copy_sized(info, &mine, sizeof(mine));
    return crc != VMO_OK ? crc : rc;
}
