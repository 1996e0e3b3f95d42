/* Logging: the library's own messages and FFmpeg's av_log go to one caller callback, and
 * nowhere by default. A library must not write to stderr behind its host's back. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <pthread.h>

#include <libavutil/log.h>

#include "internal.h"

typedef struct vmo_log_sink {
    vmo_log_fn fn;
    void *user;
    int max_level;
} vmo_log_sink;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static vmo_log_sink log_sink = { NULL, NULL, VMO_LOG_ERROR };
static atomic_int log_enabled;

static vmo_log_sink log_sink_get(void)
{
    pthread_mutex_lock(&log_lock);
    vmo_log_sink s = log_sink;
    pthread_mutex_unlock(&log_lock);
    return s;
}

static void log_emit(int level, const char *fmt, va_list ap)
{
    if (!atomic_load_explicit(&log_enabled, memory_order_relaxed))
        return;
    vmo_log_sink s = log_sink_get();
    if (!s.fn || level > s.max_level)
        return;
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    s.fn(s.user, level, line);
}

void vmo_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_emit(level, fmt, ap);
    va_end(ap);
}

static int level_from_av(int av_level)
{
    if (av_level <= AV_LOG_ERROR)
        return VMO_LOG_ERROR;
    if (av_level <= AV_LOG_WARNING)
        return VMO_LOG_WARNING;
    if (av_level <= AV_LOG_INFO)
        return VMO_LOG_INFO;
    return VMO_LOG_DEBUG;
}

static void av_log_bridge(void *avcl, int av_level, const char *fmt, va_list ap)
{
    (void)avcl;
    if (av_level > AV_LOG_DEBUG)
        return; /* trace output is never useful to a host application */
    log_emit(level_from_av(av_level), fmt, ap);
}

static pthread_once_t ffmpeg_once = PTHREAD_ONCE_INIT;

static void install_bridge(void)
{
    av_log_set_callback(av_log_bridge);
}

void vmo_log_init_ffmpeg(void)
{
    pthread_once(&ffmpeg_once, install_bridge);
}

void vmo_set_log_callback(vmo_log_fn fn, void *user, int max_level)
{
    vmo_log_init_ffmpeg();
    pthread_mutex_lock(&log_lock);
    log_sink.fn = fn;
    log_sink.user = user;
    log_sink.max_level = max_level;
    pthread_mutex_unlock(&log_lock);
    atomic_store(&log_enabled, fn != NULL);
}
