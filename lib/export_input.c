/* Export inputs: a source read through an AVIOContext of our own over its file descriptor,
 * so that the bytes the demuxer reads are counted (an export seeks to the span it needs; a
 * test holds it to that), and clip seconds <-> the video stream's timestamps. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_job.h"

static int src_read(void *opaque, uint8_t *buf, int size)
{
    ex_input *in = opaque;
    ssize_t n;
    do
        n = read(in->fd, buf, (size_t)size);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return AVERROR(errno);
    if (n == 0)
        return AVERROR_EOF;
    *in->counter += (uint64_t)n;
    return (int)n;
}

static int64_t src_seek(void *opaque, int64_t offset, int whence)
{
    ex_input *in = opaque;
    if (whence & AVSEEK_SIZE) {
        struct stat st;
        return fstat(in->fd, &st) == 0 ? (int64_t)st.st_size : AVERROR(errno);
    }
    off_t r = lseek(in->fd, (off_t)offset, whence & ~AVSEEK_FORCE);
    return r < 0 ? AVERROR(errno) : (int64_t)r;
}

void vmo_exin_close(ex_input *in)
{
    avformat_close_input(&in->fmt);
    if (in->io) {
        av_freep(&in->io->buffer);
        avio_context_free(&in->io);
    }
    if (in->fd >= 0)
        close(in->fd);
    in->fd = -1;
}

static void input_timing(ex_input *in)
{
    AVStream *st = in->vst;
    in->origin = st->start_time;
    if (in->origin == AV_NOPTS_VALUE && in->fmt->start_time != AV_NOPTS_VALUE)
        in->origin = av_rescale_q(in->fmt->start_time, AV_TIME_BASE_Q, st->time_base);
    if (in->origin == AV_NOPTS_VALUE)
        in->origin = 0;
    AVRational fr = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    if (fr.num <= 0 || fr.den <= 0)
        fr = (AVRational){ 25, 1 };
    in->fdur = VMO_MAX(1, av_rescale_q(1, av_inv_q(fr), st->time_base));
}

int vmo_exin_open(ex_input *in, const char *path, uint64_t *counter, vmo_errbuf *err)
{
    memset(in, 0, sizeof(*in));
    in->counter = counter;
    in->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0) {
        int e = errno;
        return vmo_err_set(err, e == ENOENT ? VMO_ERR_NOT_FOUND : VMO_ERR_IO,
                           "cannot open source %s: %s", path, strerror(e));
    }
    uint8_t *buf = av_malloc(EX_IO_BUFFER);
    in->io = buf ? avio_alloc_context(buf, EX_IO_BUFFER, 0, in, src_read, NULL, src_seek) : NULL;
    in->fmt = avformat_alloc_context();
    if (!in->io || !in->fmt) {
        if (!in->io)
            av_free(buf);
        vmo_exin_close(in);
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    in->fmt->pb = in->io;
    int ret = avformat_open_input(&in->fmt, path, NULL, NULL);
    if (ret >= 0)
        ret = avformat_find_stream_info(in->fmt, NULL);
    if (ret < 0) {
        vmo_exin_close(in);
        return vmo_av_err(err, VMO_ERR_CORRUPT, ret, "cannot read source", path);
    }
    in->vidx = av_find_best_stream(in->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (in->vidx < 0) {
        vmo_exin_close(in);
        return vmo_err_set(err, VMO_ERR_NO_VIDEO, "source %s has no video stream", path);
    }
    in->vst = in->fmt->streams[in->vidx];
    input_timing(in);
    return VMO_OK;
}

/* Clip seconds -> the video stream's time base. */
int64_t vmo_exin_ts(const ex_input *in, double seconds)
{
    return in->origin + av_rescale_q(llround(seconds * 1e6), EX_US_Q, in->vst->time_base);
}

double vmo_exin_sec(const ex_input *in, int64_t ts)
{
    return (double)(ts - in->origin) * av_q2d(in->vst->time_base);
}
