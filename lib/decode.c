/* Decoding with FFmpeg: open a path or caller I/O, classify what cannot be opened, pick the
 * video stream, decode it with frame threads, and turn timestamps into seconds from the
 * stream's origin. Damaged packets are skipped and counted; truncated files deliver the
 * frames before the cut and say so. Nothing here prints: FFmpeg's log goes through
 * vmo_log_init_ffmpeg()'s bridge and failures through vmo_err_set(). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/cpu.h>
#include <libavutil/display.h>
#include <libavutil/parseutils.h>

#include "decode.h"

/* Hard limits on frame dimensions: larger pictures are either hostile or useless for motion
 * analysis, and refusing them early keeps a crafted header from allocating gigabytes. */
#define MAX_SIDE   16384
#define MAX_PIXELS ((int64_t)1 << 27)

#define HEAD_SIZE        512 /* first bytes kept to tell text from damaged media */
#define IO_BUFFER_SIZE   (64 * 1024)
#define MAX_AUTO_THREADS 16 /* FFmpeg's own cap for automatic frame threads */
#define MAX_THREADS      64

/* Bounds that keep hostile input from spinning forever. A damaged stretch of a real file
 * costs a few dozen failed packets; a stream that fails this often has nothing left. */
#define MAX_CONSECUTIVE_ERRORS    100
#define MAX_PACKETS_WITHOUT_FRAME 4096
/* With skip_frame=NONKEY the decoder legitimately eats a whole GOP per frame, and camera
 * "smart codec" GOPs can last a minute. */
#define MAX_PACKETS_WITHOUT_FRAME_SKIP (1 << 17)
/* After a seek, frames before the first keyframe are dropped, but not without end: streams
 * with intra refresh have no keyframe after the first one. */
#define MAX_SEEK_DROP    1024
#define MAX_SEEK_RETRIES 7
/* A jump larger than this between frames of a format with timestamp discontinuities
 * (MPEG-TS) is a discontinuity, as in FFmpeg's dts_delta_threshold. */
#define DISCONT_THRESHOLD_S 10.0

struct vmo_decoder {
    AVFormatContext *fmt;
    AVIOContext *avio; /* custom I/O only; FFmpeg does not free it */
    vmo_io io;
    int io_failed; /* the caller's read or seek reported an error */
    int64_t io_pos;
    int64_t io_bytes;
    const char *path; /* during open only: the file, for the MP4 box walk */
    int64_t file_size;

    uint8_t head[HEAD_SIZE]; /* the first bytes of the input, for classification */
    int head_len;

    AVStream *st;
    AVCodecContext *codec;
    AVPacket *pkt;
    int pkt_pending; /* pkt was refused with EAGAIN and must be sent again */
    AVFrame *frame;
    vmo_media_info info;
    int skip;
    vmo_packet_fn packet_fn; /* observer of every video packet (fast scan), or NULL */
    void *packet_user;
    char *src_path;        /* the file, to open it again (vmo_decoder_rewind) */
    vmo_decoder_opts opts; /* as opened */

    /* Timestamps, in the stream time base. */
    int64_t origin;    /* t = 0: start_time, else the first frame; AV_NOPTS_VALUE until known */
    int64_t ts_offset; /* added to correct discontinuities */
    int64_t last_ts;   /* last delivered frame (corrected), AV_NOPTS_VALUE after a seek */
    int discont;       /* the format may have timestamp discontinuities */

    int64_t next_index;
    int64_t frames_decoded; /* since open, including frames dropped after a seek */
    int64_t errors;
    int consecutive_errors;
    int64_t packets_since_frame;
    char last_error[128];

    /* End of stream and truncation evidence. */
    int demux_done;
    int flushed;
    int finished;
    int fatal;
    char fatal_msg[256];
    int demux_error; /* av_read_frame()'s error other than EOF, or 0 */
    int64_t packets;
    int64_t packet_end; /* largest pts + duration of the video packets read */
    int seeked;
    int index_past_eof; /* the container's index points past the end of the data */
    int truncated;
    char truncated_why[160];

    /* Seek in progress: drop frames until a keyframe at or before the target. */
    int want_key;
    int64_t dropped;
    double seek_target;
    int seek_retries;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static const char *av_err_text(int averr, char *buf, size_t size)
{
    if (av_strerror(averr, buf, size) < 0)
        snprintf(buf, size, "error %d", averr);
    return buf;
}

#define AVERR(e) av_err_text((e), (char[AV_ERROR_MAX_STRING_SIZE]){ 0 }, AV_ERROR_MAX_STRING_SIZE)

static double tb_seconds(const vmo_decoder *d, int64_t ticks)
{
    return (double)ticks * d->st->time_base.num / d->st->time_base.den;
}

static int64_t seconds_to_tb(const vmo_decoder *d, double s)
{
    return llround(s * d->st->time_base.den / d->st->time_base.num);
}

/* Timestamps and durations come from the file: hostile ones sit anywhere in int64_t, so
 * sums and differences saturate instead of overflowing (undefined behaviour). */
static int64_t ts_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN + 1) : r;
}

static int64_t ts_sub(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_sub_overflow(a, b, &r) ? (b < 0 ? INT64_MAX : INT64_MIN + 1) : r;
}

/* ---- classification of inputs that do not open ------------------------------------------ */

/* Text: valid UTF-8 without NUL or control characters other than white space and ESC. Random
 * or damaged binary data practically never passes; a text file renamed .mkv does. */
static int utf8_length(uint8_t c)
{
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0;
}

static int looks_like_text(const uint8_t *p, int n)
{
    int i = 0;
    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        i = 3;
    if (i >= n)
        return 0;
    while (i < n) {
        const uint8_t c = p[i];
        if (c < 0x80) {
            const int space = c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
            if ((c < 0x20 && !space && c != 0x1b) || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        const int len = utf8_length(c);
        if (!len)
            return 0;
        for (int k = 1; k < len && i + k < n; k++) /* a sequence cut by HEAD_SIZE is fine */
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

/* Common non-media files, so that "this is a PDF" is not reported as a damaged video. */
static const char *non_media_kind(const uint8_t *p, int n)
{
    static const struct {
        const char *magic;
        int len;
        const char *name;
    } kinds[] = {
        { "%PDF-", 5, "PDF" },
        { "PK\x03\x04", 4, "ZIP" },
        { "\x7f"
          "ELF",
          4, "ELF executable" },
        { "MZ", 2, "Windows executable" },
        { "\x1f\x8b", 2, "gzip" },
        { "BZh", 3, "bzip2" },
        { "\xfd"
          "7zXZ",
          5, "xz" },
        { "7z\xbc\xaf\x27\x1c", 6, "7-Zip" },
        { "Rar!", 4, "RAR" },
        { "SQLite format 3", 15, "SQLite" },
        { "\xd0\xcf\x11\xe0", 4, "OLE (Office)" },
    };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(kinds); i++)
        if (n >= kinds[i].len && !memcmp(p, kinds[i].magic, (size_t)kinds[i].len))
            return kinds[i].name;
    return NULL;
}

/* MP4/MOV files cut inside their header (moov), or recorded with the index at the end and
 * interrupted before it was written, are truncated rather than damaged: FFmpeg reports them
 * as anything from "no video stream" to "unknown codec". The top-level boxes tell, for a few
 * reads. Fragmented files have many boxes; their cut shows later, while demuxing. */
#define MAX_TOP_BOXES 64

static int is_bmff(const uint8_t *head, int n)
{
    static const char types[][5] = { "ftyp", "moov", "mdat", "free", "skip", "wide", "styp" };
    for (size_t i = 0; n >= 8 && i < VMO_ARRAY_SIZE(types); i++)
        if (!memcmp(head + 4, types[i], 4))
            return 1;
    return 0;
}

static int read_at(vmo_decoder *d, int fd, int64_t pos, uint8_t *buf, int n)
{
    if (fd >= 0)
        return (int)pread(fd, buf, (size_t)n, (off_t)pos);
    if (avio_seek(d->avio, pos, SEEK_SET) != pos)
        return -1;
    return avio_read(d->avio, buf, n);
}

/* One top-level box at pos: its type and total length. 0 when it is not a box. */
static int read_box(vmo_decoder *d, int fd, int64_t pos, int64_t size, char type[4], int64_t *len)
{
    uint8_t h[16];
    if (read_at(d, fd, pos, h, 8) != 8)
        return 0;
    int header = 8;
    *len = (int64_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
    memcpy(type, h + 4, 4);
    if (*len == 1) {
        if (read_at(d, fd, pos + 8, h + 8, 8) != 8)
            return 0;
        /* unsigned: a hostile 64-bit size must not overflow a signed shift */
        uint64_t big = 0;
        for (int i = 8; i < 16; i++)
            big = big << 8 | h[i];
        if (big > INT64_MAX)
            return 0;
        *len = (int64_t)big;
        header = 16;
    } else if (*len == 0) {
        *len = size - pos; /* "to the end of the file": what recorders write until they stop */
    }
    return *len >= header;
}

static int mp4_walk(vmo_decoder *d, int fd, int64_t size, char *why, size_t why_size)
{
    int64_t pos = 0, len;
    int moov = 0;
    char type[4];
    for (int i = 0; i < MAX_TOP_BOXES && pos + 8 <= size; i++, pos += len) {
        if (!read_box(d, fd, pos, size, type, &len) || len < 0)
            return 0;
        const int is_moov = !memcmp(type, "moov", 4), is_mdat = !memcmp(type, "mdat", 4);
        moov |= is_moov;
        if (is_moov && len > size - pos) {
            snprintf(why, why_size,
                     "the file ends inside its MP4 header (the moov box needs "
                     "%lld bytes from %lld, the file has %lld)",
                     (long long)len, (long long)pos, (long long)size);
            return 1;
        }
        if (is_mdat && !moov && len >= size - pos) {
            snprintf(why, why_size,
                     "the MP4 index (moov box) is missing after the media data: "
                     "the recording or copy was interrupted");
            return 1;
        }
        if (len > size - pos) /* past the end: nothing follows, and pos + len may overflow */
            break;
    }
    return 0;
}

/* 1 (and a reason) when an MP4/MOV input is cut in its header. Leaves the input where it was. */
static int mp4_truncated(vmo_decoder *d, char *why, size_t why_size)
{
    if (!is_bmff(d->head, d->head_len))
        return 0;
    if (d->path) {
        const int fd = open(d->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return 0;
        const int cut = mp4_walk(d, fd, d->file_size, why, why_size);
        close(fd);
        return cut;
    }
    if (!d->avio || !(d->avio->seekable & AVIO_SEEKABLE_NORMAL))
        return 0;
    const int64_t size = avio_size(d->avio), here = avio_tell(d->avio);
    if (size <= 0)
        return 0;
    const int cut = mp4_walk(d, -1, size, why, why_size);
    avio_seek(d->avio, here, SEEK_SET);
    return cut;
}

/* Maps a failure of avformat_open_input()/find_stream_info() to a status. The order matters:
 * errno-style failures first (they are about the file, not its content), then what the
 * first bytes say. */
static int classify_open_error(vmo_decoder *d, int averr, const char *name, vmo_errbuf *err)
{
    const char *text = AVERR(averr);
    if (averr == AVERROR(ENOMEM))
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "%s: out of memory while opening", name);
    if (averr == AVERROR(ENOENT) || averr == AVERROR(ENOTDIR))
        return vmo_err_set(err, VMO_ERR_NOT_FOUND, "%s: %s", name, text);
    if (d->io_failed || averr == AVERROR(EIO) || averr == AVERROR(EACCES) ||
        averr == AVERROR(EPERM) || averr == AVERROR(EISDIR))
        return vmo_err_set(err, VMO_ERR_IO, "%s: cannot read: %s", name, text);
    if (d->avio && d->io_bytes == 0)
        return vmo_err_set(err, VMO_ERR_EMPTY, "%s: the input has no data", name);
    char why[192];
    if (mp4_truncated(d, why, sizeof(why)))
        return vmo_err_set(err, VMO_ERR_TRUNCATED, "%s: truncated: %s", name, why);
    if (looks_like_text(d->head, d->head_len))
        return vmo_err_set(err, VMO_ERR_NOT_MEDIA, "%s: not a media file (it is text): %s", name,
                           text);
    const char *kind = non_media_kind(d->head, d->head_len);
    if (kind)
        return vmo_err_set(err, VMO_ERR_NOT_MEDIA, "%s: not a media file (a %s file)", name, kind);
    return vmo_err_set(err, VMO_ERR_CORRUPT, "%s: no readable container: %s", name, text);
}

/* Checks a path before FFmpeg sees it: existence, type, size, readability, and keeps the
 * first bytes. Cheap, and gives each of these failures its own code. */
static int check_file(vmo_decoder *d, const char *path, vmo_errbuf *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        const int e = errno;
        const int code = (e == ENOENT || e == ENOTDIR) ? VMO_ERR_NOT_FOUND : VMO_ERR_IO;
        return vmo_err_set(err, code, "%s: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode))
        return vmo_err_set(err, VMO_ERR_IO, "%s: is a directory", path);
    if (!S_ISREG(st.st_mode))
        return VMO_OK; /* a FIFO or device: reading ahead would consume it */
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vmo_err_set(err, VMO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    ssize_t n;
    do {
        n = read(fd, d->head, sizeof(d->head));
    } while (n < 0 && errno == EINTR);
    const int e = errno;
    close(fd);
    if (n < 0)
        return vmo_err_set(err, VMO_ERR_IO, "%s: cannot read: %s", path, strerror(e));
    if (n == 0)
        return vmo_err_set(err, VMO_ERR_EMPTY, "%s: the file is empty (0 bytes)", path);
    d->head_len = (int)n;
    d->file_size = st.st_size;
    return VMO_OK;
}

/* ---- custom I/O ------------------------------------------------------------------------- */

static int io_read(void *opaque, uint8_t *buf, int size)
{
    vmo_decoder *d = opaque;
    const int n = d->io.read(d->io.opaque, buf, size);
    if (n < 0 || n > size) {
        d->io_failed = 1;
        return AVERROR(EIO);
    }
    if (n == 0)
        return AVERROR_EOF;
    if (d->io_pos >= 0 && d->io_pos < HEAD_SIZE) {
        const int at = (int)d->io_pos;
        const int keep = VMO_MIN(n, HEAD_SIZE - at);
        memcpy(d->head + at, buf, (size_t)keep);
        d->head_len = VMO_MAX(d->head_len, at + keep);
    }
    d->io_pos += n;
    d->io_bytes += n;
    return n;
}

static int64_t io_seek(void *opaque, int64_t offset, int whence)
{
    vmo_decoder *d = opaque;
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) {
        const int64_t size = d->io.seek(d->io.opaque, 0, VMO_SEEK_SIZE);
        return size < 0 ? AVERROR(ENOSYS) : size;
    }
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return AVERROR(EINVAL);
    const int64_t pos = d->io.seek(d->io.opaque, offset, whence);
    if (pos < 0)
        return AVERROR(EIO); /* not sticky: FFmpeg probes seeking and copes with refusal */
    d->io_pos = pos;
    return pos;
}

/* Copies the caller's vmo_io (struct_size tells which fields it has) and wraps it. */
static int setup_io(vmo_decoder *d, const vmo_io *io, vmo_errbuf *err)
{
    const size_t need = offsetof(vmo_io, read) + sizeof(io->read);
    if (io->struct_size < need || !io->read)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "vmo_io needs struct_size and read");
    d->io.struct_size = io->struct_size;
    d->io.opaque = io->opaque;
    d->io.read = io->read;
    if (io->struct_size >= offsetof(vmo_io, seek) + sizeof(io->seek))
        d->io.seek = io->seek;
    if (d->io.seek && d->io.seek(d->io.opaque, 0, VMO_SEEK_SIZE) == 0)
        return vmo_err_set(err, VMO_ERR_EMPTY, "the input is empty (0 bytes)");

    uint8_t *buf = av_malloc(IO_BUFFER_SIZE);
    if (!buf)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    d->avio =
        avio_alloc_context(buf, IO_BUFFER_SIZE, 0, d, io_read, NULL, d->io.seek ? io_seek : NULL);
    if (!d->avio) {
        av_free(buf);
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    d->fmt = avformat_alloc_context();
    if (!d->fmt)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    d->fmt->pb = d->avio;
    /* Set now, not by avformat_open_input(): a context closed before that must not close
     * our AVIOContext. */
    d->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    return VMO_OK;
}

/* ---- opening ---------------------------------------------------------------------------- */

static int open_input(vmo_decoder *d, const char *url, const char *name, vmo_errbuf *err)
{
    AVDictionary *opts = NULL;
    /* Paths only ever read local files; caller I/O may not reach anything else at all (an
     * HLS playlist in memory must not make us fetch URLs or read /etc). */
    av_dict_set(&opts, "protocol_whitelist", d->avio ? "none" : "file", 0);
    int ret = avformat_open_input(&d->fmt, url, NULL, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return classify_open_error(d, ret, name, err);

    char why[192];
    if (mp4_truncated(d, why, sizeof(why)))
        return vmo_err_set(err, VMO_ERR_TRUNCATED, "%s: truncated: %s", name, why);

    ret = avformat_find_stream_info(d->fmt, NULL);
    if (ret < 0 && d->fmt->nb_streams == 0)
        return classify_open_error(d, ret, name, err);
    if (ret < 0)
        vmo_log(VMO_LOG_WARNING, "%s: stream info incomplete: %s", name, AVERR(ret));

    const int text = looks_like_text(d->head, d->head_len);
    /* FFmpeg's "tty" demuxer shows any text file as ANSI art, and a weak probe on text is a
     * misdetection: neither is a video. */
    if (text &&
        (!strcmp(d->fmt->iformat->name, "tty") || d->fmt->probe_score <= AVPROBE_SCORE_RETRY))
        return vmo_err_set(err, VMO_ERR_NOT_MEDIA, "%s: not a media file (it is text)", name);
    if (d->fmt->nb_streams == 0) {
        if (text)
            return vmo_err_set(err, VMO_ERR_NOT_MEDIA, "%s: not a media file (it is text)", name);
        return vmo_err_set(err, VMO_ERR_CORRUPT, "%s: no stream found in the %s container", name,
                           d->fmt->iformat->name);
    }
    return VMO_OK;
}

static int is_video(const AVStream *st)
{
    return st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
           !(st->disposition & AV_DISPOSITION_ATTACHED_PIC);
}

/* av_find_best_stream() does not skip cover art, so fall back to the largest real video
 * stream when it picks one. */
static int best_video_stream(AVFormatContext *fmt)
{
    const int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (best >= 0 && is_video(fmt->streams[best]))
        return best;
    int pick = -1;
    int64_t pick_area = -1;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVCodecParameters *par = fmt->streams[i]->codecpar;
        const int64_t area = (int64_t)par->width * par->height;
        if (is_video(fmt->streams[i]) && area > pick_area) {
            pick = (int)i;
            pick_area = area;
        }
    }
    return pick;
}

static int has_stream_of(const AVFormatContext *fmt, enum AVMediaType type)
{
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if (fmt->streams[i]->codecpar->codec_type == type)
            return 1;
    return 0;
}

static int select_stream(vmo_decoder *d, int wanted, const char *name, vmo_errbuf *err)
{
    AVFormatContext *fmt = d->fmt;
    int index = wanted;
    if (wanted >= (int)fmt->nb_streams)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "%s: no stream %d (the file has %u)", name,
                           wanted, fmt->nb_streams);
    if (wanted >= 0 && !is_video(fmt->streams[wanted]))
        return vmo_err_set(err, VMO_ERR_NO_VIDEO, "%s: stream %d is not a video stream", name,
                           wanted);
    if (wanted < 0)
        index = best_video_stream(fmt);
    if (index < 0) {
        if (!has_stream_of(fmt, AVMEDIA_TYPE_AUDIO) && looks_like_text(d->head, d->head_len))
            return vmo_err_set(err, VMO_ERR_NOT_MEDIA, "%s: not a media file (text %s)", name,
                               fmt->iformat->name);
        if (has_stream_of(fmt, AVMEDIA_TYPE_VIDEO))
            return vmo_err_set(err, VMO_ERR_NO_VIDEO, "%s: no video stream (cover art only)", name);
        return vmo_err_set(err, VMO_ERR_NO_VIDEO, "%s: no video stream (%u other streams)", name,
                           fmt->nb_streams);
    }
    d->st = fmt->streams[index];
    /* Only the chosen stream is demuxed: audio never reaches a decoder or our loop. */
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if ((int)i != index)
            fmt->streams[i]->discard = AVDISCARD_ALL;
    return VMO_OK;
}

static int check_size(int w, int h, const char *name, vmo_errbuf *err)
{
    if (w > MAX_SIDE || h > MAX_SIDE || (int64_t)w * h > MAX_PIXELS)
        return vmo_err_set(err, VMO_ERR_LIMIT,
                           "%s: frame size %dx%d exceeds the limit (%d per "
                           "side, %lld pixels)",
                           name, w, h, MAX_SIDE, (long long)MAX_PIXELS);
    return VMO_OK;
}

static int thread_count(int wanted)
{
    if (wanted > 0)
        return VMO_MIN(wanted, MAX_THREADS);
    return VMO_CLAMP(av_cpu_count(), 1, MAX_AUTO_THREADS);
}

/* VMO_SKIP_* -> skip_frame. */
static const enum AVDiscard skip_map[] = { AVDISCARD_DEFAULT, AVDISCARD_NONREF, AVDISCARD_BIDIR,
                                           AVDISCARD_NONKEY };

static int open_codec(vmo_decoder *d, const vmo_decoder_opts *opts, const char *name,
                      vmo_errbuf *err)
{
    const AVCodecParameters *par = d->st->codecpar;
    if (par->codec_id == AV_CODEC_ID_NONE) {
        char tag[AV_FOURCC_MAX_STRING_SIZE];
        av_fourcc_make_string(tag, par->codec_tag);
        return vmo_err_set(err, VMO_ERR_UNSUPPORTED, "%s: unknown video codec (tag %s)", name, tag);
    }
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec)
        return vmo_err_set(err, VMO_ERR_UNSUPPORTED, "%s: no decoder for %s video", name,
                           avcodec_get_name(par->codec_id));
    d->codec = avcodec_alloc_context3(codec);
    if (!d->codec)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    int ret = avcodec_parameters_to_context(d->codec, par);
    if (ret < 0)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "%s: %s", name, AVERR(ret));
    d->codec->pkt_timebase = d->st->time_base;
    d->codec->thread_count = thread_count(opts->threads);
    d->codec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    d->codec->skip_frame = skip_map[opts->skip];
    d->codec->max_pixels = MAX_PIXELS; /* a mid-stream SPS cannot make frames huge either */
    ret = avcodec_open2(d->codec, codec, NULL);
    if (ret == AVERROR(ENOMEM))
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    if (ret == AVERROR_INVALIDDATA)
        return vmo_err_set(err, VMO_ERR_CORRUPT, "%s: damaged %s stream header: %s", name,
                           codec->name, AVERR(ret));
    if (ret < 0)
        return vmo_err_set(err, VMO_ERR_UNSUPPORTED, "%s: cannot open the %s decoder: %s", name,
                           codec->name, AVERR(ret));
    d->pkt = av_packet_alloc();
    d->frame = av_frame_alloc();
    if (!d->pkt || !d->frame)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    return VMO_OK;
}

/* ---- media information ------------------------------------------------------------------ */

static double parse_utc(const char *s)
{
    /* av_parse_time() reads a time without zone as local time; tags without one are UTC in
     * practice (and in our CLI's convention). */
    char buf[64];
    const size_t n = strlen(s);
    const int has_zone =
        n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z' || (n > 10 && strpbrk(s + 10, "+-") != NULL));
    snprintf(buf, sizeof(buf), "%s%s", s, has_zone ? "" : "Z");
    int64_t us;
    if (av_parse_time(&us, buf, 0) < 0)
        return NAN;
    return (double)us / 1e6;
}

static double creation_time(const AVFormatContext *fmt, const AVStream *st)
{
    const AVDictionaryEntry *e = av_dict_get(fmt->metadata, "creation_time", NULL, 0);
    if (!e)
        e = av_dict_get(st->metadata, "creation_time", NULL, 0);
    return e ? parse_utc(e->value) : NAN;
}

/* The display matrix's rotation as ffprobe reports it ("rotation", from
 * av_display_rotation_get()), normalised to 0/90/180/270. FFmpeg 5.1 reads 90 from a stream
 * it tagged with rotate=90, so the value also matches that tag. */
static int rotation(const AVStream *st)
{
    double theta = NAN;
    size_t size = 0;
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (m && size >= 9 * sizeof(int32_t))
        theta = av_display_rotation_get((const int32_t *)m);
    if (isnan(theta)) {
        const AVDictionaryEntry *e = av_dict_get(st->metadata, "rotate", NULL, 0);
        theta = e ? atof(e->value) : 0;
    }
    theta = fmod(theta, 360.0);
    if (theta < 0)
        theta += 360.0;
    return (int)(lround(theta / 90.0) % 4) * 90;
}

/* Declared duration of the video stream; *container says it is the whole file's (which
 * may include a longer audio track). */
static double declared_duration(const AVFormatContext *fmt, const AVStream *st, int *container)
{
    *container = 0;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        return (double)st->duration * av_q2d(st->time_base);
    /* Matroska keeps the per-track duration in a tag. */
    const AVDictionaryEntry *e = av_dict_get(st->metadata, "DURATION", NULL, 0);
    int64_t us;
    if (e && av_parse_time(&us, e->value, 1) == 0 && us > 0)
        return (double)us / 1e6;
    if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0) {
        *container = 1;
        return (double)fmt->duration / AV_TIME_BASE;
    }
    return 0;
}

static void fill_info(vmo_decoder *d)
{
    const AVStream *st = d->st;
    vmo_media_info *info = &d->info;
    AVRational fps = st->avg_frame_rate;
    if (fps.num <= 0 || fps.den <= 0)
        fps = st->r_frame_rate;
    int container;
    info->stream_index = st->index;
    info->width = st->codecpar->width;
    info->height = st->codecpar->height;
    info->rotation = rotation(st);
    info->fps = (fps.num > 0 && fps.den > 0) ? av_q2d(fps) : 0;
    info->duration = declared_duration(d->fmt, st, &container);
    info->nb_frames = st->nb_frames > 0 ? st->nb_frames : 0;
    info->creation_time = creation_time(d->fmt, st);
    const AVCodecDescriptor *desc = avcodec_descriptor_get(st->codecpar->codec_id);
    info->codec = d->codec ? d->codec->codec->name : desc ? desc->name : "";
    info->size_bytes = d->fmt->pb ? avio_size(d->fmt->pb) : -1;
    if (info->size_bytes < 0)
        info->size_bytes = -1;
    info->has_audio = has_stream_of(d->fmt, AVMEDIA_TYPE_AUDIO);
}

/* A complete file holds every byte its index points at. Checked once at open: cheap, and
 * the strongest evidence of truncation for MP4 with the index at the front. */
static void check_index(vmo_decoder *d)
{
    const int64_t size = d->info.size_bytes;
    if (size <= 0)
        return;
    int64_t end = 0;
    const int n = avformat_index_get_entries_count(d->st);
    for (int i = 0; i < n; i++) {
        const AVIndexEntry *e = avformat_index_get_entry(d->st, i);
        if (e && e->pos >= 0)
            end = VMO_MAX(end, e->pos + e->size);
    }
    if (end > size) {
        d->index_past_eof = 1;
        snprintf(d->truncated_why, sizeof(d->truncated_why),
                 "the index refers to %lld bytes, the input has %lld", (long long)end,
                 (long long)size);
    }
}

static int check_opts(const vmo_decoder_opts *opts, vmo_errbuf *err)
{
    if (opts->stream_index < -1 || opts->threads < 0 || opts->skip < VMO_SKIP_NONE ||
        opts->skip > VMO_SKIP_NONKEY)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "invalid decoder options");
    return VMO_OK;
}

static const vmo_decoder_opts default_opts = { -1, 0, VMO_SKIP_NONE };

static int decoder_new(vmo_decoder **out, const vmo_decoder_opts *opts, vmo_errbuf *err)
{
    *out = NULL;
    const int ret = check_opts(opts ? opts : &default_opts, err);
    if (ret < 0)
        return ret;
    vmo_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    d->origin = AV_NOPTS_VALUE;
    d->last_ts = AV_NOPTS_VALUE;
    d->packet_end = AV_NOPTS_VALUE;
    d->info.creation_time = NAN;
    d->info.size_bytes = -1;
    d->info.stream_index = -1;
    d->opts = opts ? *opts : default_opts;
    *out = d;
    vmo_log_init_ffmpeg();
    return VMO_OK;
}

/* Everything after avformat_open_input() is the same for paths and caller I/O. */
static int decoder_setup(vmo_decoder *d, const char *name, const vmo_decoder_opts *opts,
                         vmo_errbuf *err)
{
    if (!opts)
        opts = &default_opts;
    int ret = select_stream(d, opts->stream_index, name, err);
    if (ret == VMO_OK)
        ret = check_size(d->st->codecpar->width, d->st->codecpar->height, name, err);
    if (ret == VMO_OK)
        ret = open_codec(d, opts, name, err);
    if (ret < 0)
        return ret;
    d->skip = opts->skip;
    d->discont = !!(d->fmt->iformat->flags & AVFMT_TS_DISCONT);
    if (d->st->start_time != AV_NOPTS_VALUE)
        d->origin = d->st->start_time;
    fill_info(d);
    check_index(d);
    return VMO_OK;
}

/* Opens the container of a file. "file:" keeps a name with a colon ("cam:1.mp4") from being
 * read as a protocol. d->path is set during the open only (the MP4 box walk reads it). */
static int open_file_input(vmo_decoder *d, const char *path, vmo_errbuf *err)
{
    int ret = check_file(d, path, err);
    if (ret != VMO_OK)
        return ret;
    char *url = av_asprintf("file:%s", path);
    d->path = path;
    ret = url ? open_input(d, url, path, err)
              : vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    d->path = NULL;
    av_free(url);
    return ret;
}

int vmo_decoder_open_file(vmo_decoder **out, const char *path, const vmo_decoder_opts *opts,
                          vmo_errbuf *err)
{
    if (!out || !path)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "no output or path");
    vmo_decoder *d;
    int ret = decoder_new(&d, opts, err);
    if (ret < 0)
        return ret;
    ret = open_file_input(d, path, err);
    if (ret == VMO_OK) {
        d->path = path;
        ret = decoder_setup(d, path, opts, err);
        d->path = NULL;
    }
    if (ret == VMO_OK && !(d->src_path = vmo_strdup(path)))
        ret = vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    if (ret < 0) {
        vmo_decoder_close(&d);
        return ret;
    }
    *out = d;
    return VMO_OK;
}

int vmo_media_probe(const char *path, int stream_index, vmo_media_info *info, vmo_errbuf *err)
{
    if (!path || !info)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "no path or output");
    vmo_decoder *d;
    int ret = decoder_new(&d, NULL, err);
    if (ret < 0)
        return ret;
    ret = open_file_input(d, path, err);
    if (ret == VMO_OK)
        ret = select_stream(d, stream_index, path, err);
    if (ret == VMO_OK) {
        fill_info(d);
        *info = d->info;
    }
    vmo_decoder_close(&d);
    return ret;
}

int vmo_decoder_open_io(vmo_decoder **out, const vmo_io *io, const vmo_decoder_opts *opts,
                        vmo_errbuf *err)
{
    if (!out || !io)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "no output or I/O");
    vmo_decoder *d;
    int ret = decoder_new(&d, opts, err);
    if (ret < 0)
        return ret;
    ret = setup_io(d, io, err);
    if (ret == VMO_OK)
        ret = open_input(d, NULL, "input", err);
    if (ret == VMO_OK)
        ret = decoder_setup(d, "input", opts, err);
    if (ret < 0) {
        vmo_decoder_close(&d);
        return ret;
    }
    *out = d;
    return VMO_OK;
}

const vmo_media_info *vmo_decoder_info(const vmo_decoder *dec)
{
    return dec ? &dec->info : NULL;
}

/* ---- decoding --------------------------------------------------------------------------- */

static int fail(vmo_decoder *d, int code, vmo_errbuf *err, const char *fmt, ...) VMO_PRINTF(4, 5);

/* Fatal errors are sticky: the next call reports the same. */
static int fail(vmo_decoder *d, int code, vmo_errbuf *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->fatal_msg, sizeof(d->fatal_msg), fmt, ap);
    va_end(ap);
    d->fatal = code;
    return vmo_err_set(err, code, "%s", d->fatal_msg);
}

/* One packet or frame failed. Not fatal unless it keeps happening. */
static int count_error(vmo_decoder *d, int averr, vmo_errbuf *err)
{
    if (averr == AVERROR(ENOMEM))
        return fail(d, VMO_ERR_NO_MEMORY, err, "out of memory while decoding");
    d->errors++;
    d->consecutive_errors++;
    av_err_text(averr, d->last_error, sizeof(d->last_error));
    if (d->consecutive_errors < MAX_CONSECUTIVE_ERRORS)
        return VMO_OK;
    if (d->frames_decoded == 0)
        return fail(d, VMO_ERR_DECODE, err, "no frame of the %s stream decodes: %s", d->info.codec,
                    d->last_error);
    return fail(d, VMO_ERR_DECODE, err,
                "%d packets in a row failed to decode (%lld frames "
                "decoded before): %s",
                d->consecutive_errors, (long long)d->frames_decoded, d->last_error);
}

static int64_t packet_budget(const vmo_decoder *d)
{
    return d->skip != VMO_SKIP_NONE ? MAX_PACKETS_WITHOUT_FRAME_SKIP : MAX_PACKETS_WITHOUT_FRAME;
}

static int note_packet_read(vmo_decoder *d, vmo_errbuf *err)
{
    if (++d->packets_since_frame <= packet_budget(d))
        return VMO_OK;
    return fail(d, VMO_ERR_DECODE, err, "%lld packets without a decoded frame (%lld errors%s%s)",
                (long long)d->packets_since_frame, (long long)d->errors,
                d->last_error[0] ? ": " : "", d->last_error);
}

static void track_packet(vmo_decoder *d, const AVPacket *pkt)
{
    d->packets++;
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (ts == AV_NOPTS_VALUE)
        return;
    ts = ts_add(ts, VMO_MAX(pkt->duration, 0));
    if (d->packet_end == AV_NOPTS_VALUE || ts > d->packet_end)
        d->packet_end = ts;
}

/* Hands the packet's compressed-domain facts to the observer. Times are on the frames' clock
 * (accept_frame) with the discontinuity correction known so far: a jump corrected only when
 * its first frame comes out is not applied to the packets read before. */
static void observe_packet(const vmo_decoder *d, const AVPacket *pkt)
{
    vmo_packet_info info = { NAN, 0, pkt->pos, pkt->size, 0 };
    if (pkt->pts != AV_NOPTS_VALUE && d->origin != AV_NOPTS_VALUE)
        info.t = VMO_MAX(0.0, tb_seconds(d, ts_sub(ts_add(pkt->pts, d->ts_offset), d->origin)));
    if (pkt->duration > 0)
        info.duration = tb_seconds(d, pkt->duration);
    info.flags = ((pkt->flags & AV_PKT_FLAG_KEY) ? VMO_PACKET_KEY : 0) |
                 ((pkt->flags & AV_PKT_FLAG_DISPOSABLE) ? VMO_PACKET_DISPOSABLE : 0) |
                 ((pkt->flags & AV_PKT_FLAG_CORRUPT) ? VMO_PACKET_CORRUPT : 0);
    d->packet_fn(d->packet_user, &info);
}

static int send_pending(vmo_decoder *d, vmo_errbuf *err)
{
    const int ret = avcodec_send_packet(d->codec, d->pkt);
    if (ret == AVERROR(EAGAIN))
        return VMO_OK; /* keep it: the decoder wants frames taken out first */
    d->pkt_pending = 0;
    av_packet_unref(d->pkt);
    /* With frame threads a decoding error of an earlier packet surfaces here; the packet
     * itself was still consumed. */
    if (ret < 0 && ret != AVERROR_EOF)
        return count_error(d, ret, err);
    return VMO_OK;
}

/* The demuxer ended: EOF, or an error that means the data stops here (e.g. MP4's "partial
 * file"). Either way drain the decoder; an error is evidence of truncation. */
static int end_of_input(vmo_decoder *d, int averr, vmo_errbuf *err)
{
    if (averr == AVERROR(ENOMEM))
        return fail(d, VMO_ERR_NO_MEMORY, err, "out of memory while reading");
    if (averr != AVERROR_EOF && !d->demux_error) {
        d->demux_error = averr;
        snprintf(d->truncated_why, sizeof(d->truncated_why), "reading stopped at byte %lld: %s",
                 d->fmt->pb ? (long long)avio_tell(d->fmt->pb) : -1LL, AVERR(averr));
    }
    d->demux_done = 1;
    d->flushed = 1;
    avcodec_send_packet(d->codec, NULL);
    return VMO_OK;
}

/* Gives the decoder one more packet (or the flush). */
static int feed(vmo_decoder *d, vmo_errbuf *err)
{
    if (d->pkt_pending)
        return send_pending(d, err);
    if (d->flushed)
        return fail(d, VMO_ERR_DECODE, err, "the %s decoder stalled", d->info.codec);
    const int ret = av_read_frame(d->fmt, d->pkt);
    if (ret == AVERROR(EAGAIN))
        return note_packet_read(d, err);
    if (ret < 0)
        return end_of_input(d, ret, err);
    /* Empty packets would read as "flush" to the decoder; other streams are discarded and
     * should not come, but are bounded like anything else. */
    if (d->pkt->stream_index != d->st->index || d->pkt->size <= 0) {
        av_packet_unref(d->pkt);
        return note_packet_read(d, err);
    }
    track_packet(d, d->pkt);
    if (d->packet_fn)
        observe_packet(d, d->pkt);
    d->pkt_pending = 1;
    const int r = send_pending(d, err);
    return r < 0 ? r : note_packet_read(d, err);
}

static int64_t frame_duration(const vmo_decoder *d, const AVFrame *f)
{
    if (f->pkt_duration > 0)
        return f->pkt_duration;
    if (d->info.fps > 0)
        return VMO_MAX(seconds_to_tb(d, 1.0 / d->info.fps), 1);
    return 1;
}

/* Presentation time in the stream time base, continuous across the discontinuities of
 * formats that have them (two MPEG-TS recordings appended restart their clocks), and never
 * going back: a damaged or hostile stream may step back (by a frame or by hours), and
 * durations, events and exports all count on time going forward, so such a frame is placed
 * one frame after the previous one. A repeated timestamp stays (valid files have them,
 * e.g. VFR rounded to milliseconds). */
static int64_t frame_time(vmo_decoder *d, const AVFrame *f)
{
    int64_t ts = f->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE)
        ts = f->pts;
    if (ts == AV_NOPTS_VALUE)
        ts = f->pkt_dts;
    if (ts == AV_NOPTS_VALUE)
        return d->last_ts == AV_NOPTS_VALUE ? (d->origin != AV_NOPTS_VALUE ? d->origin : 0)
                                            : ts_add(d->last_ts, frame_duration(d, f));
    ts = ts_add(ts, d->ts_offset);
    if (d->discont && d->last_ts != AV_NOPTS_VALUE &&
        (ts < d->last_ts || ts > ts_add(d->last_ts, seconds_to_tb(d, DISCONT_THRESHOLD_S)))) {
        const int64_t want = ts_add(d->last_ts, frame_duration(d, f));
        d->ts_offset = ts_add(d->ts_offset, ts_sub(want, ts));
        ts = want;
    }
    if (d->last_ts != AV_NOPTS_VALUE && ts < d->last_ts)
        ts = ts_add(d->last_ts, frame_duration(d, f));
    return ts;
}

static int is_key(const AVFrame *f)
{
    return f->key_frame || f->pict_type == AV_PICTURE_TYPE_I;
}

static int seek_to(vmo_decoder *d, double t, vmo_errbuf *err);

/* The demuxer landed after the target, or on no keyframe at all. MPEG-TS has no index: FFmpeg
 * bisects on DTS, which lands past the keyframe whose DTS is just before the target. Go back
 * 1, 2, 4 ... 32 s, then to the start. Returns 1 when it seeked again, 0 when out of
 * retries. */
static int seek_back(vmo_decoder *d, vmo_errbuf *err)
{
    if (d->seek_retries >= MAX_SEEK_RETRIES)
        return 0;
    double to = d->seek_target - (double)(1 << d->seek_retries);
    d->seek_retries++;
    if (to <= 0 || d->seek_retries == MAX_SEEK_RETRIES) {
        to = 0;
        d->seek_retries = MAX_SEEK_RETRIES;
    }
    const int ret = seek_to(d, to, err);
    return ret < 0 ? ret : 1;
}

/* After a seek: drop frames up to the first keyframe at or before the target. Returns 1 to
 * deliver the frame, 0 to drop it, < 0 on error. */
static int settle_seek(vmo_decoder *d, double t, int key, vmo_errbuf *err)
{
    if (!key && d->dropped < MAX_SEEK_DROP) {
        d->dropped++;
        return 0;
    }
    const double slack = 0.5 * av_q2d(d->st->time_base) + 1e-9;
    if (key && t > d->seek_target + slack) {
        const int ret = seek_back(d, err);
        if (ret != 0)
            return ret < 0 ? ret : 0;
    }
    d->want_key = 0;
    if (d->info.fps > 0)
        d->next_index = VMO_MAX(0, llround(t * d->info.fps));
    return 1;
}

/* A frame came out of the decoder: time it, check it, hand it out or drop it. */
static int accept_frame(vmo_decoder *d, vmo_decoded_frame *out, vmo_errbuf *err)
{
    AVFrame *f = d->frame;
    d->frames_decoded++;
    d->consecutive_errors = 0;
    d->packets_since_frame = 0;
    if (check_size(f->width, f->height, "frame", NULL) < 0)
        return fail(d, VMO_ERR_LIMIT, err, "a frame of %dx%d exceeds the size limit", f->width,
                    f->height);
    const int64_t ts = frame_time(d, f);
    if (d->origin == AV_NOPTS_VALUE)
        d->origin = ts;
    /* never before the clip's start: a hostile frame may be stamped before start_time */
    const double t = VMO_MAX(0.0, tb_seconds(d, ts_sub(ts, d->origin)));
    const int key = is_key(f);
    if (d->want_key) {
        const int r = settle_seek(d, t, key, err);
        if (r <= 0) {
            av_frame_unref(f);
            return r;
        }
    }
    d->last_ts = ts;
    out->frame = f;
    out->t = t;
    out->index = d->next_index++;
    out->key = key;
    /* Decoders conceal most damage instead of failing (MPEG-4 part 2 always does): such a
     * frame is delivered, since dropping it would not remove what it passes on to the next
     * ones, but it counts as an error and the caller may treat it with care. */
    out->damaged = f->decode_error_flags != 0 || (f->flags & AV_FRAME_FLAG_CORRUPT);
    d->errors += out->damaged;
    return 1;
}

/* Evidence of truncation, from strongest to weakest. The duration and count tests use
 * packets (not frames) so that skip_frame does not look like missing data. */
static int detect_truncation(vmo_decoder *d)
{
    if (d->demux_error || d->index_past_eof)
        return 1;
    const int64_t declared = d->info.nb_frames;
    if (!d->seeked && declared > 0 && d->packets > 0 &&
        declared - d->packets > VMO_MAX(2, declared / 50)) {
        snprintf(d->truncated_why, sizeof(d->truncated_why), "%lld of %lld declared frames",
                 (long long)d->packets, (long long)declared);
        return 1;
    }
    int container;
    const double duration = declared_duration(d->fmt, d->st, &container);
    if (duration <= 0 || d->packet_end == AV_NOPTS_VALUE ||
        d->fmt->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE)
        return 0;
    const int64_t start = d->st->start_time != AV_NOPTS_VALUE ? d->st->start_time : d->origin;
    const double reached =
        tb_seconds(d, ts_sub(d->packet_end, start != AV_NOPTS_VALUE ? start : 0));
    const double frame = d->info.fps > 0 ? 1.0 / d->info.fps : 0.04;
    /* The container's duration covers every track (audio often runs longer): be lenient. */
    const double slack = container ? VMO_MAX(1.0, 0.1 * duration) : VMO_MAX(0.1, 2.5 * frame);
    if (duration - reached <= slack)
        return 0;
    snprintf(d->truncated_why, sizeof(d->truncated_why),
             "the data ends at %.3f s of a declared %.3f s", reached, duration);
    return 1;
}

static int finish(vmo_decoder *d, vmo_errbuf *err)
{
    if (!d->finished) {
        d->finished = 1;
        d->truncated = detect_truncation(d);
        if (d->frames_decoded == 0 && d->truncated)
            return fail(d, VMO_ERR_TRUNCATED, err, "truncated before the first frame: %s",
                        d->truncated_why);
        if (d->frames_decoded == 0 && !d->seeked)
            return fail(d, VMO_ERR_DECODE, err,
                        "no frame of the %s stream decodes (%lld "
                        "packets, %lld errors%s%s)",
                        d->info.codec, (long long)d->packets, (long long)d->errors,
                        d->last_error[0] ? ": " : "", d->last_error);
    }
    if (d->truncated)
        return vmo_err_set(err, 0, "truncated: %s", d->truncated_why);
    return 0;
}

int vmo_decoder_next(vmo_decoder *d, vmo_decoded_frame *out, vmo_errbuf *err)
{
    if (!d || !out)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "no decoder or output");
    memset(out, 0, sizeof(*out));
    av_frame_unref(d->frame);
    if (d->fatal)
        return vmo_err_set(err, d->fatal, "%s", d->fatal_msg);
    if (d->finished)
        return finish(d, err);
    for (;;) {
        int ret = avcodec_receive_frame(d->codec, d->frame);
        if (ret >= 0) {
            ret = accept_frame(d, out, err);
            if (ret != 0)
                return ret;
            continue;
        }
        if (ret == AVERROR_EOF) {
            /* a seek that found no keyframe before the end goes further back */
            const int again = d->want_key ? seek_back(d, err) : 0;
            if (again < 0)
                return again;
            if (again)
                continue;
            return finish(d, err);
        }
        ret = ret == AVERROR(EAGAIN) ? feed(d, err) : count_error(d, ret, err);
        if (ret < 0)
            return ret;
    }
}

/* ---- seeking ---------------------------------------------------------------------------- */

static void reset_after_seek(vmo_decoder *d)
{
    avcodec_flush_buffers(d->codec);
    av_packet_unref(d->pkt);
    d->pkt_pending = 0;
    d->demux_done = 0;
    d->flushed = 0;
    d->finished = 0;
    d->fatal = 0;
    d->consecutive_errors = 0;
    d->packets_since_frame = 0;
    d->last_ts = AV_NOPTS_VALUE;
    d->ts_offset = 0;
    d->want_key = 1;
    d->dropped = 0;
    d->seeked = 1;
}

/* To the start: MPEG-TS and PS resynchronise anywhere, so byte 0 is exact where their
 * timestamp bisection is not; indexed formats seek to their first timestamp. */
static int seek_start(vmo_decoder *d, int64_t origin)
{
    if (d->discont && av_seek_frame(d->fmt, d->st->index, 0, AVSEEK_FLAG_BYTE) >= 0)
        return 0;
    return avformat_seek_file(d->fmt, d->st->index, INT64_MIN, origin, origin, 0);
}

static int seek_to(vmo_decoder *d, double t, vmo_errbuf *err)
{
    int64_t origin = d->origin;
    if (origin == AV_NOPTS_VALUE && d->fmt->start_time != AV_NOPTS_VALUE)
        origin = av_rescale_q(d->fmt->start_time, AV_TIME_BASE_Q, d->st->time_base);
    if (origin == AV_NOPTS_VALUE)
        origin = 0;
    d->origin = origin;
    const int64_t ts = ts_add(origin, seconds_to_tb(d, t));
    int ret = t <= 0 ? seek_start(d, origin) : -1;
    if (ret < 0)
        ret = av_seek_frame(d->fmt, d->st->index, ts, AVSEEK_FLAG_BACKWARD);
    if (ret < 0)
        ret = avformat_seek_file(d->fmt, d->st->index, INT64_MIN, ts, ts, 0);
    if (ret < 0)
        return vmo_err_set(err, VMO_ERR_UNSUPPORTED, "cannot seek to %.3f s: %s", t, AVERR(ret));
    reset_after_seek(d);
    return VMO_OK;
}

int vmo_decoder_seek(vmo_decoder *dec, double t, vmo_errbuf *err)
{
    if (!dec || !isfinite(t))
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "no decoder or invalid time");
    if (dec->fatal == VMO_ERR_NO_MEMORY || dec->fatal == VMO_ERR_LIMIT)
        return vmo_err_set(err, dec->fatal, "%s", dec->fatal_msg);
    dec->seek_target = VMO_MAX(t, 0.0);
    dec->seek_retries = 0;
    return seek_to(dec, dec->seek_target, err);
}

/* ---- compressed-domain access ------------------------------------------------------------ */

void vmo_decoder_set_packet_fn(vmo_decoder *dec, vmo_packet_fn fn, void *user)
{
    if (!dec)
        return;
    dec->packet_fn = fn;
    dec->packet_user = user;
}

int vmo_decoder_set_skip(vmo_decoder *dec, int skip)
{
    if (!dec || skip < VMO_SKIP_NONE || skip > VMO_SKIP_NONKEY_ROUGH)
        return VMO_ERR_INVALID_ARG;
    const int rough = skip == VMO_SKIP_NONKEY_ROUGH;
    dec->skip = rough ? VMO_SKIP_NONKEY : skip;
    /* Frame threads copy these from this context with every packet they are given. */
    dec->codec->skip_frame = skip_map[dec->skip];
    dec->codec->skip_loop_filter = rough ? AVDISCARD_ALL : AVDISCARD_DEFAULT;
    return VMO_OK;
}

int vmo_decoder_can_seek(const vmo_decoder *dec)
{
    if (!dec || !dec->fmt || !dec->fmt->pb)
        return 0;
    return !dec->avio || (dec->io.seek && (dec->avio->seekable & AVIO_SEEKABLE_NORMAL));
}

int vmo_decoder_truncated(const vmo_decoder *dec)
{
    return dec ? dec->truncated : 0;
}

int64_t vmo_decoder_errors(const vmo_decoder *dec)
{
    return dec ? dec->errors : 0;
}

/* Everything a decoder holds, but the struct itself. */
static void release(vmo_decoder *d)
{
    av_frame_free(&d->frame);
    av_packet_free(&d->pkt);
    avcodec_free_context(&d->codec);
    avformat_close_input(&d->fmt); /* also frees a context that was never opened */
    if (d->avio) {
        av_freep(&d->avio->buffer); /* FFmpeg may have replaced the one we gave it */
        avio_context_free(&d->avio);
    }
    free(d->src_path);
    d->src_path = NULL;
}

int vmo_decoder_rewind(vmo_decoder *dec, vmo_errbuf *err)
{
    if (!dec)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "no decoder");
    vmo_decoder *fresh = NULL;
    int rc;
    if (dec->src_path)
        rc = vmo_decoder_open_file(&fresh, dec->src_path, &dec->opts, err);
    else if (dec->io.seek && dec->io.seek(dec->io.opaque, 0, SEEK_SET) == 0)
        rc = vmo_decoder_open_io(&fresh, &dec->io, &dec->opts, err);
    else
        rc = vmo_err_set(err, VMO_ERR_UNSUPPORTED, "the input cannot be read again");
    if (rc != VMO_OK)
        return rc;
    /* The caller keeps its pointer: the fresh state moves into the old struct. The custom
     * I/O callbacks receive the decoder as their opaque pointer. */
    release(dec);
    *dec = *fresh;
    if (dec->avio)
        dec->avio->opaque = dec;
    free(fresh);
    return VMO_OK;
}

void vmo_decoder_close(vmo_decoder **dec)
{
    if (!dec || !*dec)
        return;
    release(*dec);
    free(*dec);
    *dec = NULL;
}
