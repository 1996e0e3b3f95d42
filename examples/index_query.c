/* index_query: index a camera's clips once, then answer many requests from the indexes
 * without decoding again.
 *
 *   usage: index_query CLIP... -- [ZONE FROM TO]...
 *
 * Each clip gets a motion index beside it (CLIP.vmoidx, a few KB: changed-pixel counts per
 * frame on a 32x18 grid) unless it already has a valid one. Each request (a zone as
 * NAME=x0,y0,x1,y1 or "-" for the whole frame, and a window: two ISO-8601 times, or two
 * clip-relative times such as 0 and 5.5, or "-" for an open end) is then answered from the
 * indexes: any zone, any window, in milliseconds. With no request after "--", a few
 * sample requests are asked.
 *
 * Build: cc index_query.c $(pkg-config --cflags --libs vidmotion)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vidmotion/vidmotion.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Indexes the clips that have no valid index; returns the number that failed. */
static int index_clips(vmo_analyzer *an, char **clips, int n)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        vmo_index_info ii = { .struct_size = sizeof(ii) };
        const char *what = "valid";
        double t0 = now_ms();
        if (vmo_index_check(clips[i], NULL, &ii) != VMO_OK) {
            if (vmo_analyzer_index_file(an, clips[i], NULL) != VMO_OK) {
                fprintf(stderr, "index_query: %s: %s\n", clips[i], vmo_analyzer_last_error(an));
                failed++;
                continue;
            }
            vmo_index_check(clips[i], NULL, &ii);
            what = "written";
        }
        printf("index %-7s %s.vmoidx: %lld frames, %.1f KB (%.0f ms)\n", what, clips[i],
               (long long)ii.frames, ii.index_size / 1024.0, now_ms() - t0);
    }
    return failed;
}

/* One request over all the clips, from their indexes. */
static int ask(vmo_analyzer *an, char **clips, int n, const char *zone, const char *from,
               const char *to)
{
    vmo_request *rq = NULL;
    vmo_result *res = NULL;
    int rc = vmo_request_create(&rq);
    for (int i = 0; rc == VMO_OK && i < n; i++)
        rc = vmo_request_add_clip(rq, clips[i], NAN);
    if (rc == VMO_OK)
        rc = vmo_request_set_double(rq, "use_index", 1);
    if (rc == VMO_OK && (strcmp(from, "-") || strcmp(to, "-")))
        rc = vmo_request_set_window(rq, strcmp(from, "-") ? from : NULL,
                                    strcmp(to, "-") ? to : NULL);
    const char *eq = strchr(zone, '=');
    char name[64] = "frame";
    if (rc == VMO_OK && eq && eq - zone < (long)sizeof(name)) {
        snprintf(name, sizeof(name), "%.*s", (int)(eq - zone), zone);
        rc = vmo_request_add_zone(rq, name, VMO_ZONE_INCLUDE, eq + 1);
    }
    double t0 = now_ms();
    if (rc == VMO_OK)
        rc = vmo_analyzer_run_request(an, rq, &res);
    printf("\nzone %s, %s .. %s:", name, from, to);
    if (rc != VMO_OK) {
        printf(" %s\n", *vmo_request_last_error(rq) ? vmo_request_last_error(rq)
                                                    : vmo_analyzer_last_error(an));
        vmo_request_destroy(&rq);
        return rc;
    }
    int indexed = 0;
    for (int i = 0; i < vmo_result_clip_count(res); i++) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        vmo_result_clip(res, i, &ci);
        indexed += (ci.flags & VMO_CLIP_INDEXED) != 0;
    }
    printf(" %d clip(s) answered from their index, %.1f ms\n", indexed, now_ms() - t0);
    for (int e = 0; e < vmo_result_event_count(res); e++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        vmo_result_event(res, e, &ev);
        char a[40] = "", b[40] = "";
        if (!isnan(ev.wall_start)) {
            vmo_format_time(ev.wall_start, a, sizeof(a));
            vmo_format_time(ev.wall_end, b, sizeof(b));
        }
        printf("  %-8s %s %7.2f .. %7.2f s  %s .. %s  peak %.2f%%\n",
               ev.kind == VMO_EVENT_LIGHTING ? "lighting" : "motion",
               ev.zone >= 0 ? vmo_result_zone_name(res, ev.zone) : "frame", ev.start, ev.end, a,
               b, ev.peak * 100);
    }
    if (vmo_result_event_count(res) == 0)
        printf("  no motion\n");
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    return VMO_OK;
}

int main(int argc, char **argv)
{
    int n = 0;
    while (1 + n < argc && strcmp(argv[1 + n], "--"))
        n++;
    char **clips = argv + 1, **reqs = argv + 2 + n;
    int nreq = argc - 2 - n;
    if (n == 0 || (nreq > 0 && nreq % 3)) {
        fputs("usage: index_query CLIP... [-- ZONE FROM TO ...]\n", stderr);
        return 2;
    }
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    vmo_config_create(&cfg);
    if (vmo_analyzer_create(cfg, &an) != VMO_OK)
        return 3;
    vmo_config_destroy(&cfg);
    int failed = index_clips(an, clips, n);
    static char *samples[] = { "-", "-", "-", "left=0,0,0.5,1", "-", "-", "right=0.5,0,1,1",
                               "0", "5" };
    if (nreq <= 0) {
        reqs = samples;
        nreq = 9;
    }
    for (int r = 0; r + 2 < nreq; r += 3)
        failed += ask(an, clips, n, reqs[r], reqs[r + 1], reqs[r + 2]) != VMO_OK;
    vmo_analyzer_destroy(&an);
    return failed ? 3 : 0;
}
