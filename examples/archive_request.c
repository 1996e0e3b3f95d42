/* archive_request: a server's answer to "motion in zone Z between T1 and T2?" over a folder
 * of one camera's clips, with the matching spans exported and a verifiable manifest.
 *
 *   usage: archive_request [-c PREFIX] DIR ZONE FROM TO OUTDIR
 *
 * DIR      the camera's folder: every .mp4/.mkv/.mov in it (with -c, only names starting
 *          with PREFIX, e.g. cam2_ when cameras share a folder)
 * ZONE     NAME=x0,y0,x1,y1 or NAME=poly:x,y;... (0..1 of the frame), or "-" for the frame
 * FROM TO  ISO-8601 wall clock, e.g. 2025-11-02T23:59:59Z 2025-11-03T00:00:12Z
 * OUTDIR   where the clips and manifest.json go (created if missing)
 *
 * Clips entirely outside the window are never decoded (only their header is read); each
 * clip's wall-clock start comes from its creation_time tag or from a timestamp in its name.
 * An event running across two files is one answer and one exported clip. Exit status:
 * 0 motion found and exported, 1 none, 2 bad arguments, 3 failure.
 *
 * Build: cc archive_request.c $(pkg-config --cflags --libs vidmotion)
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vidmotion/vidmotion.h>

static int is_video(const char *name, const char *prefix)
{
    const char *dot = strrchr(name, '.');
    if (prefix && strncmp(name, prefix, strlen(prefix)) != 0)
        return 0;
    return dot && (!strcmp(dot, ".mp4") || !strcmp(dot, ".mkv") || !strcmp(dot, ".mov"));
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder's clips, sorted by name; returns how many (paths malloc'd into *out). */
static int list_clips(const char *dir, const char *prefix, char ***out)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **paths = NULL;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_video(e->d_name, prefix))
            continue;
        char **grown = realloc(paths, sizeof(char *) * (size_t)(n + 1));
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!grown || !(grown[n] = malloc(len)))
            break;
        paths = grown;
        snprintf(paths[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(paths, (size_t)n, sizeof(char *), by_name);
    *out = paths;
    return n;
}

/* The request: clips, window, and the zone asked about. */
static int build_request(vmo_request *rq, char **clips, int n, const char *zone, const char *from,
                         const char *to)
{
    int rc = VMO_OK;
    for (int i = 0; rc == VMO_OK && i < n; i++)
        rc = vmo_request_add_clip(rq, clips[i], NAN);
    if (rc == VMO_OK)
        rc = vmo_request_set_window(rq, from, to);
    if (rc == VMO_OK && strcmp(zone, "-") != 0) {
        const char *eq = strchr(zone, '=');
        char name[64];
        if (!eq || eq - zone >= (long)sizeof(name))
            return VMO_ERR_BAD_ZONE;
        snprintf(name, sizeof(name), "%.*s", (int)(eq - zone), zone);
        rc = vmo_request_add_zone(rq, name, VMO_ZONE_INCLUDE, eq + 1);
        if (rc == VMO_OK)
            rc = vmo_request_select_zone(rq, name);
    }
    return rc;
}

static void print_answer(const vmo_result *res)
{
    int decoded = 0, skipped = 0;
    for (int i = 0; i < vmo_result_clip_count(res); i++) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        vmo_result_clip(res, i, &ci);
        if (ci.flags & VMO_CLIP_SKIPPED)
            skipped++;
        else
            decoded++;
    }
    printf("%d clip(s) looked at, %d outside the window and not decoded\n", decoded, skipped);
    for (int e = 0; e < vmo_result_event_count(res); e++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        vmo_result_event(res, e, &ev);
        if (ev.kind != VMO_EVENT_MOTION)
            continue;
        char a[40], b[40];
        vmo_format_time(ev.wall_start, a, sizeof(a));
        vmo_format_time(ev.wall_end, b, sizeof(b));
        printf("motion in %-8s %s .. %s  peak %5.2f%%%s%s\n", vmo_result_zone_name(res, ev.zone), a,
               b, ev.peak * 100, ev.flags & VMO_EVENT_CLIPPED ? "  (cut to the window)" : "",
               ev.source_count > 1 ? "  (spans two files)" : "");
        for (int s = 0; s < ev.source_count; s++) {
            vmo_event_source src = { .struct_size = sizeof(src) };
            vmo_clip_info ci = { .struct_size = sizeof(ci) };
            vmo_result_event_source(res, e, s, &src);
            vmo_result_clip(res, src.clip, &ci);
            printf("    from %s, %.2f .. %.2f s\n", ci.path, src.start, src.end);
        }
    }
}

/* Cuts the answer out of the clips (stream copy) and checks the manifest it wrote. */
static int export_answer(const vmo_result *res, const char *outdir, const char *case_ref)
{
    vmo_export *ex = NULL;
    mkdir(outdir, 0777);
    int rc = vmo_export_create(&ex);
    if (rc == VMO_OK)
        rc = vmo_export_set_string(ex, "dir", outdir);
    if (rc == VMO_OK)
        rc = vmo_export_set_string(ex, "case", case_ref);
    if (rc == VMO_OK)
        rc = vmo_export_set_int(ex, "overwrite", 1);
    if (rc == VMO_OK)
        rc = vmo_export_run(ex, res);
    if (rc != VMO_OK) {
        fprintf(stderr, "archive_request: export: %s\n", ex ? vmo_export_last_error(ex) : "");
        vmo_export_destroy(&ex);
        return rc;
    }
    for (int i = 0; i < vmo_export_output_count(ex); i++) {
        vmo_export_output_info o = { .struct_size = sizeof(o) };
        vmo_export_output(ex, i, &o);
        printf("exported %s (%.2f s, %lld bytes, sha256 %.16s...)\n", o.path, o.duration,
               (long long)o.size_bytes, o.sha256);
    }
    char *report = NULL;
    rc = vmo_verify_manifest(vmo_export_manifest_path(ex), &report);
    printf("manifest %s: %s\n", vmo_export_manifest_path(ex),
           rc == VMO_OK ? "verified" : vmo_strerror(rc));
    vmo_free(report);
    vmo_export_destroy(&ex);
    return rc;
}

static int answer(char **clips, int n, char **argv)
{
    const char *zone = argv[1], *from = argv[2], *to = argv[3], *outdir = argv[4];
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    vmo_request *rq = NULL;
    vmo_result *res = NULL;
    vmo_config_create(&cfg);
    int rc = vmo_analyzer_create(cfg, &an);
    vmo_config_destroy(&cfg);
    if (rc == VMO_OK)
        rc = vmo_request_create(&rq);
    if (rc == VMO_OK)
        rc = build_request(rq, clips, n, zone, from, to);
    if (rc != VMO_OK) {
        fprintf(stderr, "archive_request: %s\n", rq ? vmo_request_last_error(rq) : "");
        vmo_request_destroy(&rq);
        vmo_analyzer_destroy(&an);
        return 2;
    }
    rc = vmo_analyzer_run_request(an, rq, &res);
    int status = 3;
    if (rc != VMO_OK) {
        fprintf(stderr, "archive_request: %s\n", vmo_analyzer_last_error(an));
    } else {
        print_answer(res);
        char case_ref[160];
        snprintf(case_ref, sizeof(case_ref), "zone %s, %s .. %s", zone, from, to);
        status = vmo_result_event_count(res) == 0                 ? 1
                 : export_answer(res, outdir, case_ref) == VMO_OK ? 0
                                                                  : 3;
    }
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
    return status;
}

int main(int argc, char **argv)
{
    const char *prefix = NULL;
    if (argc > 2 && !strcmp(argv[1], "-c")) {
        prefix = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc != 6) {
        fputs("usage: archive_request [-c PREFIX] DIR ZONE|- FROM TO OUTDIR\n", stderr);
        return 2;
    }
    char **clips = NULL;
    int n = list_clips(argv[1], prefix, &clips);
    if (n <= 0) {
        fprintf(stderr, "archive_request: %s: no clips\n", argv[1]);
        return 3;
    }
    int status = answer(clips, n, argv + 1);
    for (int i = 0; i < n; i++)
        free(clips[i]);
    free(clips);
    return status;
}
