/* Resource bounds: memory does not grow with a clip's length, and no error path keeps a
 * file descriptor or a thread.
 *
 *  - Peak RSS of a 1080p scan, measured in a forked child (wait4's ru_maxrss), for a
 *    10 s and a 60 s clip of the same content: the long one may not need more than the
 *    short one plus a small margin. (Skipped under AddressSanitizer, whose quarantine holds
 *    freed memory on purpose.)
 *  - Open descriptors (/proc/self/fd) and threads (/proc/self/task) before and after every
 *    failure path of the public API: bad inputs of each kind, failing caller I/O, a
 *    cancelled scan, failing requests, an index that cannot be written, an export into a
 *    missing folder, broken indexes and manifests, an abandoned pushed stream. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include <vidmotion/vidmotion.h>

#include "tutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- memory against duration ------------------------------------------------------------ */

/* 2 s of 1080p: a box crossing a plain background (cheap to encode, real motion). */
static const char *hd_unit(void)
{
    return tu_clip("res_hd_2s.mp4",
                   "-f lavfi -i color=c=0x506070:s=1920x1080:r=25:d=2 "
                   "-f lavfi -i color=c=white:s=160x160:r=25:d=2 "
                   "-filter_complex \"[0][1]overlay=x='100+t*800':y=400\" "
                   "-c:v libx264 -preset ultrafast -g 50 -pix_fmt yuv420p");
}

/* `copies` times the unit, joined without re-encoding (FFmpeg's concat demuxer). */
static const char *hd_clip(int copies)
{
    const char *unit = hd_unit();
    char list[1200], name[64], args[1400];
    snprintf(list, sizeof(list), "%s/res_list_%d.txt", tu_tmpdir(), copies);
    FILE *f = fopen(list, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < copies; i++)
        fprintf(f, "file '%s'\n", unit);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(name, sizeof(name), "res_hd_%ds.mp4", 2 * copies);
    snprintf(args, sizeof(args), "-f concat -safe 0 -i '%s' -c copy", list);
    return tu_clip(name, args);
}

/* Peak RSS (KB) of a child process that scans `path` once with one decoder thread (frame
 * threads would add noise, not a trend). */
static long scan_peak_rss_kb(const char *path)
{
    fflush(NULL);
    const pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        vmo_config *cfg = NULL;
        vmo_analyzer *an = NULL;
        vmo_result *res = NULL;
        int ok = vmo_config_create(&cfg) == VMO_OK &&
                 vmo_config_set_int(cfg, "threads", 1) == VMO_OK &&
                 vmo_config_add_zone(cfg, "middle", VMO_ZONE_INCLUDE, "0,0.3,1,0.7") == VMO_OK &&
                 vmo_analyzer_create(cfg, &an) == VMO_OK &&
                 vmo_analyzer_scan_file(an, path, &res) == VMO_OK;
        ok = ok && vmo_result_event_count(res) > 0;
        vmo_result_destroy(&res);
        vmo_analyzer_destroy(&an);
        vmo_config_destroy(&cfg);
        _exit(ok ? 0 : 1);
    }
    int status;
    struct rusage ru;
    ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "scan of %s failed", path);
    return ru.ru_maxrss;
}

START_TEST(memory_does_not_grow_with_duration)
{
    if (UNDER_ASAN) {
        fprintf(stderr, "skipped: AddressSanitizer's quarantine keeps freed memory\n");
        return;
    }
    /* 10 s already holds everything a scan keeps (decoder pictures, the frames about a
     * second around the current one, per-zone state); 60 s must not add to it. */
    const char *short_clip = hd_clip(5), *long_clip = hd_clip(30);
    const long a = scan_peak_rss_kb(short_clip), b = scan_peak_rss_kb(long_clip);
    fprintf(stderr, "peak RSS of a 1080p scan: 10 s %ld KB, 60 s %ld KB\n", a, b);
    ck_assert_msg(b <= a + a / 10, "60 s needs %ld KB, 10 s %ld KB: memory grows with "
                  "duration", b, a);
}
END_TEST

/* ---- descriptors and threads on error paths --------------------------------------------- */

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - (!strcmp(dir, "/proc/self/fd")); /* the DIR's own descriptor */
}

static int count_fds(void)
{
    return count_entries("/proc/self/fd");
}

static int count_threads(void)
{
    return count_entries("/proc/self/task");
}

static const char *scratch(const char *name, const void *data, size_t size)
{
    static char path[16][1200];
    static int next;
    char *p = path[next++ % 16];
    snprintf(p, sizeof(path[0]), "%s/%s", tu_tmpdir(), name);
    if (data)
        ck_assert_int_eq(tu_write_file(p, data, size), 0);
    return p;
}

static const char *good_clip(void)
{
    return tu_clip("res_small.mp4", "-f lavfi -i testsrc2=s=160x120:r=25:d=2 "
                                    "-c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p");
}

/* The first 60 % of the good clip. */
static const char *cut_clip(void)
{
    size_t n;
    uint8_t *data = tu_read_file(good_clip(), &n);
    ck_assert_ptr_nonnull(data);
    const char *p = scratch("res_cut.mp4", data, n * 6 / 10);
    free(data);
    return p;
}

static const char *bad_inputs[16];
static int nbad;

static void make_bad_inputs(void)
{
    if (nbad)
        return;
    static const char text[] = "just text\n";
    uint8_t noise[2048];
    uint32_t s = 4242;
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (uint8_t)tu_rand(&s);
    static const char huge[] = "YUV4MPEG2 W16000 H16000 F25:1 C420jpeg\nFRAME\n";
    bad_inputs[nbad++] = scratch("missing.mp4", NULL, 0);
    bad_inputs[nbad++] = scratch("empty.mp4", "", 0);
    bad_inputs[nbad++] = scratch("text.mkv", text, strlen(text));
    bad_inputs[nbad++] = scratch("noise.mp4", noise, sizeof(noise));
    bad_inputs[nbad++] = scratch("huge.y4m", huge, strlen(huge));
    bad_inputs[nbad++] = tu_clip("res_audio.m4a", "-f lavfi -i sine=d=1 -c:a aac");
    bad_inputs[nbad++] = cut_clip();
    bad_inputs[nbad++] = tu_tmpdir(); /* a directory */
    for (int i = 0; i < nbad; i++) /* scratch() reuses its buffers */
        ck_assert_ptr_nonnull(bad_inputs[i] = strdup(bad_inputs[i]));
}

static vmo_analyzer *new_analyzer(int jobs)
{
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "threads", 2), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "jobs", jobs), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_config_destroy(&cfg);
    return an;
}

static void scan_bad_inputs(void)
{
    vmo_analyzer *an = new_analyzer(1);
    for (int i = 0; i < nbad; i++) {
        vmo_result *res = NULL;
        const int rc = vmo_analyzer_scan_file(an, bad_inputs[i], &res);
        ck_assert_msg(rc != VMO_OK || res, "%s", bad_inputs[i]);
        vmo_result_destroy(&res);
    }
    vmo_analyzer_destroy(&an);
}

static int failing_read(void *opaque, uint8_t *buf, int size)
{
    int *calls = opaque;
    if (++*calls > 3)
        return -1; /* the "network" dies after a few reads */
    memset(buf, 0x47, (size_t)size);
    return size;
}

static void scan_failing_io(void)
{
    vmo_analyzer *an = new_analyzer(1);
    int calls = 0;
    const vmo_io io = { sizeof(io), &calls, failing_read, NULL };
    vmo_result *res = NULL;
    ck_assert_int_lt(vmo_analyzer_scan_io(an, &io, "dying stream", &res), 0);
    ck_assert_ptr_null(res);
    vmo_analyzer_destroy(&an);
}

static int stop_at_5(void *user, const vmo_frame_report *r)
{
    (void)user;
    return r->index >= 5;
}

static void scan_cancelled(void)
{
    vmo_analyzer *an = new_analyzer(1);
    ck_assert_int_eq(vmo_analyzer_set_frame_callback(an, stop_at_5, NULL), VMO_OK);
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, good_clip(), &res), VMO_ERR_CANCELLED);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}

static void run_requests(void)
{
    vmo_analyzer *an = new_analyzer(2);
    vmo_request *rq = NULL;
    vmo_result *res = NULL;
    /* every clip fails on its own: the request succeeds */
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    for (int i = 0; i < nbad; i++)
        ck_assert_int_eq(vmo_request_add_clip(rq, bad_inputs[i], NAN), VMO_OK);
    ck_assert_msg(vmo_analyzer_run_request(an, rq, &res) == VMO_OK, "%s",
                  vmo_analyzer_last_error(an));
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    /* errors found while planning */
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, good_clip(), NAN), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, good_clip(), NAN), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_run_request(an, rq, &res), VMO_ERR_OVERLAP);
    ck_assert_ptr_null(res);
    vmo_request_destroy(&rq);
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, good_clip(), NAN), VMO_OK);
    ck_assert_int_eq(vmo_request_set_window(rq, "2026-07-04T14:00:00Z", NULL), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_run_request(an, rq, &res), VMO_ERR_NO_TIME_SOURCE);
    vmo_request_destroy(&rq);
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, good_clip(), NAN), VMO_OK);
    ck_assert_int_eq(vmo_request_select_zone(rq, "nowhere"), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_run_request(an, rq, &res), VMO_ERR_UNKNOWN_ZONE);
    vmo_request_destroy(&rq);
    /* cancelled by a callback inside the parallel loop */
    ck_assert_int_eq(vmo_analyzer_set_frame_callback(an, stop_at_5, NULL), VMO_OK);
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, good_clip(), NAN), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, cut_clip(), NAN), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_run_request(an, rq, &res), VMO_ERR_CANCELLED);
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
}

/* The index cannot be written: its path is taken by a directory. */
static void index_write_fails(void)
{
    size_t n;
    uint8_t *data = tu_read_file(good_clip(), &n);
    ck_assert_ptr_nonnull(data);
    const char *clip = scratch("res_noindex.mp4", data, n);
    free(data);
    char blocker[1300];
    snprintf(blocker, sizeof(blocker), "%s.vmoidx", clip);
    mkdir(blocker, 0777);
    vmo_analyzer *an = new_analyzer(1);
    vmo_result *res = NULL;
    ck_assert_int_lt(vmo_analyzer_index_file(an, clip, &res), 0);
    vmo_result_destroy(&res);
    ck_assert_int_lt(vmo_analyzer_index_file(an, bad_inputs[0], NULL), 0);
    vmo_analyzer_destroy(&an);
}

static void broken_index_and_manifest(void)
{
    static const char junk[] = "VMOIDX\0\0 not really an index";
    const char *idx = scratch("res_junk.vmoidx", junk, sizeof(junk));
    vmo_index_info info = { .struct_size = sizeof(info) };
    ck_assert_int_lt(vmo_index_check(good_clip(), idx, &info), 0);
    ck_assert_int_lt(vmo_index_check(bad_inputs[0], NULL, &info), 0);
    static const char manifest[] = "{\"outputs\": [{\"path\": 3}]}";
    char *report = NULL;
    ck_assert_int_lt(vmo_verify_manifest(scratch("res_manifest.json", manifest,
                                                 strlen(manifest)),
                                         &report),
                     0);
    vmo_free(report);
    report = NULL;
    ck_assert_int_lt(vmo_verify_manifest(bad_inputs[0], &report), 0);
    vmo_free(report);
}

static void export_fails(void)
{
    vmo_analyzer *an = new_analyzer(1);
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, good_clip(), &res), VMO_OK);
    vmo_export *ex = NULL;
    ck_assert_int_eq(vmo_export_create(&ex), VMO_OK);
    ck_assert_int_eq(vmo_export_set_string(ex, "dir", scratch("no/such/folder", NULL, 0)),
                     VMO_OK);
    ck_assert_int_lt(vmo_export_run(ex, res), 0);
    vmo_export_destroy(&ex);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}

static void abandoned_push(void)
{
    vmo_analyzer *an = new_analyzer(1);
    static uint8_t luma[64 * 48];
    for (int i = 0; i < 10; i++) {
        const vmo_frame f = { sizeof(f), 64, 48, 64, luma, i * 40000, 0, 0, 0, 0 };
        ck_assert_int_eq(vmo_analyzer_push_frame(an, &f), VMO_OK);
    }
    const vmo_frame bad = { sizeof(bad), 64, 48, 10, luma, 10 * 40000, 0, 0, 0, 0 };
    ck_assert_int_lt(vmo_analyzer_push_frame(an, &bad), 0); /* stride < width */
    vmo_analyzer_destroy(&an);                                /* never finished */
}

static void all_error_paths(void)
{
    scan_bad_inputs();
    scan_failing_io();
    scan_cancelled();
    run_requests();
    index_write_fails();
    broken_index_and_manifest();
    export_fails();
    abandoned_push();
}

START_TEST(error_paths_release_files_and_threads)
{
    make_bad_inputs();
    /* The first round starts what lives for the whole process (OpenMP's thread pool,
     * FFmpeg's tables): count after it. */
    all_error_paths();
    const int fds = count_fds(), threads = count_threads();
    for (int round = 0; round < 3; round++)
        all_error_paths();
    ck_assert_msg(count_fds() == fds, "descriptors: %d, then %d", fds, count_fds());
    ck_assert_msg(count_threads() == threads, "threads: %d, then %d", threads, count_threads());
}
END_TEST

static Suite *resources_suite(void)
{
    Suite *s = suite_create("resources");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, memory_does_not_grow_with_duration);
    tcase_add_test(tc, error_paths_release_files_and_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(resources_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
