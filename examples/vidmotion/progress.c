/* The progress line on stderr: files done, frames, speed and time left, redrawn in place
 * (\r, cleared at the end). Only when stderr is a terminal, so logs and pipes stay clean. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct cli_progress {
    int nclips;
    int64_t *done, *total; /* per clip, frames */
    double *seen;          /* time of the clip's last report, 0 = none yet */
    double start, last_draw;
    int drawn;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

cli_progress *cli_progress_create(int quiet, int clip_count)
{
    if (quiet || !isatty(STDERR_FILENO) || clip_count <= 0)
        return NULL;
    cli_progress *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->nclips = clip_count;
    p->done = calloc((size_t)clip_count, sizeof(int64_t));
    p->total = calloc((size_t)clip_count, sizeof(int64_t));
    p->seen = calloc((size_t)clip_count, sizeof(double));
    if (!p->done || !p->total || !p->seen) {
        cli_progress_finish(&p);
        return NULL;
    }
    p->start = now_s();
    return p;
}

/* Progress reports come about every 0.25 s per clip in flight and none after a clip ends,
 * so a clip that has reached its frame count or gone quiet for a second is done. */
static int files_done(const cli_progress *p, double now)
{
    int n = 0;
    for (int i = 0; i < p->nclips; i++)
        n += (p->total[i] > 0 && p->done[i] >= p->total[i]) ||
             (p->seen[i] > 0 && now - p->seen[i] > 1.0);
    return n;
}

/* Frames done and expected; clips not started yet count as the mean of those seen. */
static void frame_totals(const cli_progress *p, int64_t *done, int64_t *total)
{
    int64_t d = 0, t = 0;
    int known = 0;
    for (int i = 0; i < p->nclips; i++) {
        d += p->done[i];
        if (p->total[i] > 0 || p->seen[i] > 0) {
            t += p->total[i] > p->done[i] ? p->total[i] : p->done[i];
            known++;
        }
    }
    if (known > 0 && known < p->nclips)
        t += t / known * (p->nclips - known);
    *done = d;
    *total = t;
}

static void draw(cli_progress *p, double now)
{
    int64_t done, total;
    frame_totals(p, &done, &total);
    double elapsed = now - p->start;
    double fps = elapsed > 0 ? (double)done / elapsed : 0;
    double frac = total > 0 ? (double)done / (double)total : 0;
    frac = frac > 1 ? 1 : frac;
    char bar[21];
    int filled = (int)(frac * 20 + 0.5);
    for (int i = 0; i < 20; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[20] = '\0';
    char left[32] = "";
    if (fps > 0 && total > done) {
        long s = (long)((double)(total - done) / fps + 0.5);
        snprintf(left, sizeof(left), "  %ld:%02ld left", s / 60, s % 60);
    }
    fprintf(stderr, "\r\033[K[%s] %3d%%  %d/%d files  %lld frames  %.0f fps%s", bar,
            (int)(frac * 100), files_done(p, now), p->nclips, (long long)done, fps, left);
    fflush(stderr);
    p->drawn = 1;
    p->last_draw = now;
}

int cli_progress_update(void *user, int clip, int clip_count, int64_t done, int64_t total)
{
    (void)clip_count;
    cli_progress *p = user;
    if (clip < 0 || clip >= p->nclips)
        return 0;
    double now = now_s();
    p->done[clip] = done;
    p->total[clip] = total;
    p->seen[clip] = now;
    /* Short runs finish before a line would help; then at most 5 redraws a second. */
    if (now - p->start >= 0.5 && now - p->last_draw >= 0.2)
        draw(p, now);
    return 0;
}

void cli_progress_finish(cli_progress **pp)
{
    cli_progress *p = *pp;
    if (!p)
        return;
    if (p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    free(p->done);
    free(p->total);
    free(p->seen);
    free(p);
    *pp = NULL;
}
