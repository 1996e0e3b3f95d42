/* Helpers shared by the Check test programs: fixture clips made with FFmpeg, seeds, files. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "tutil.h"

static const char *fixture_dir(void)
{
    const char *d = getenv("VMO_FIXTURES");
    if (!d || !*d)
        d = "fixtures";
    mkdir(d, 0777);
    return d;
}

typedef struct clip_entry {
    char name[128];
    char path[1024];
} clip_entry;

static clip_entry clip_cache[128];
static int clip_cache_n;

const char *tu_clip(const char *name, const char *ffmpeg_args)
{
    for (int i = 0; i < clip_cache_n; i++)
        if (!strcmp(clip_cache[i].name, name))
            return clip_cache[i].path;
    ck_assert_msg(clip_cache_n < (int)(sizeof(clip_cache) / sizeof(clip_cache[0])),
                  "too many fixture clips");
    clip_entry *e = &clip_cache[clip_cache_n];
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->path, sizeof(e->path), "%s/%s", fixture_dir(), name);
    struct stat st;
    if (stat(e->path, &st) != 0 || st.st_size == 0) {
        /* Keep the extension last: FFmpeg picks the muxer from it. */
        char tmp[1100];
        snprintf(tmp, sizeof(tmp), "%s/.tmp%ld_%s", fixture_dir(), (long)getpid(), name);
        int rc = tu_run("ffmpeg -nostdin -v error -y %s '%s'", ffmpeg_args, tmp);
        ck_assert_msg(rc == 0, "ffmpeg failed (%d) making fixture %s: ffmpeg %s", rc, name,
                      ffmpeg_args);
        ck_assert_msg(rename(tmp, e->path) == 0, "rename %s: %s", tmp, strerror(errno));
    }
    clip_cache_n++;
    return e->path;
}

const char *tu_tmpdir(void)
{
    static char dir[1024];
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "%s/tmp.%ld", fixture_dir(), (long)getpid());
        mkdir(dir, 0777);
    }
    return dir;
}

uint32_t tu_seed(void)
{
    static uint32_t seed;
    if (!seed) {
        const char *s = getenv("VMO_TEST_SEED");
        seed = s ? (uint32_t)strtoul(s, NULL, 0) : (uint32_t)time(NULL) ^ (uint32_t)getpid();
        if (!seed)
            seed = 1;
        fprintf(stderr, "test seed: VMO_TEST_SEED=%u\n", seed);
    }
    return seed;
}

uint32_t tu_rand(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

int tu_run(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = vformat(fmt, ap);
    va_end(ap);
    if (!cmd)
        return -1;
    int rc = system(cmd);
    free(cmd);
    if (rc == -1 || !WIFEXITED(rc))
        return -1;
    return WEXITSTATUS(rc);
}

char *tu_capture(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = vformat(fmt, ap);
    va_end(ap);
    if (!cmd)
        return NULL;
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (!p)
        return NULL;
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    size_t n;
    while (out && (n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *grown = realloc(out, cap * 2);
            if (!grown) {
                free(out);
                out = NULL;
                break;
            }
            out = grown;
            cap *= 2;
        }
    }
    pclose(p);
    if (out)
        out[len] = '\0';
    return out;
}

void *tu_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n > 0 ? n : 0] = '\0';
        if (size)
            *size = n > 0 ? (size_t)n : 0;
    }
    return buf;
}

int tu_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, size, f);
    return (fclose(f) == 0 && w == size) ? 0 : -1;
}
