/* Concurrency: what the header promises about threads, exercised hard enough for
 * ThreadSanitizer to see a race if there is one (scripts/ci-sanitize.sh runs this program in
 * a clang -fsanitize=thread build; it also runs in every normal build).
 *
 *  - 8 analyzers scanning at once in 8 threads (files, memory I/O and pushed frames, with
 *    callbacks and decoder threads), each result equal to the same scan done alone;
 *  - a request over many clips analysed in parallel (OpenMP workers), whose callbacks the
 *    library promises never to call concurrently: they count with plain integers;
 *  - two such requests at once from two threads, and a cancel from another thread;
 *  - the log callback, which may be called from any thread at once. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <vidmotion/vidmotion.h>

#include "tutil.h"

#define NTHREADS 8
#define NCLIPS   12
#define FRAMES   50 /* of every clip: 2 s at 25 fps */

/* A box crossing a noisy background, entering at a different place in each clip. */
static const char *clip(int k)
{
    static const char *path[NCLIPS];
    if (path[k])
        return path[k];
    char name[64], args[1024];
    snprintf(name, sizeof(name), "thr_%02d.mp4", k);
    snprintf(args, sizeof(args),
             "-f lavfi -i color=c=0x707070:s=160x120:r=25:d=2,noise=alls=20:allf=u "
             "-f lavfi -i color=c=white:s=16x16:r=25:d=2 "
             "-filter_complex \"[0][1]overlay=x='10+t*40':y=%d\" "
             "-c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p",
             5 + 8 * k);
    return path[k] = tu_clip(name, args);
}

static void make_clips(void)
{
    for (int k = 0; k < NCLIPS; k++)
        clip(k);
}

static vmo_analyzer *new_analyzer(int decoder_threads, int jobs)
{
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "threads", decoder_threads), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "jobs", jobs), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "width", 160), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "frames", 1), VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "top", VMO_ZONE_INCLUDE, "0,0,1,0.5"), VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "tri", VMO_ZONE_INCLUDE, "poly:0,1;1,1;0.5,0.3"),
                     VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "mask", VMO_ZONE_EXCLUDE, "0.8,0,1,1"), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_config_destroy(&cfg);
    return an;
}

static char *to_json(const vmo_result *res)
{
    char *json = NULL;
    ck_assert_int_eq(vmo_result_to_json(res, VMO_JSON_FRAMES, &json), VMO_OK);
    return json;
}

/* ---- 8 analyzers in 8 threads ----------------------------------------------------------- */

typedef struct mem {
    uint8_t *data;
    int64_t size, pos;
} mem;

static int mem_read(void *opaque, uint8_t *buf, int size)
{
    mem *m = opaque;
    int64_t n = m->size - m->pos < size ? m->size - m->pos : size;
    memcpy(buf, m->data + m->pos, (size_t)n);
    m->pos += n;
    return (int)n;
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence)
{
    mem *m = opaque;
    const int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
    if (whence == VMO_SEEK_SIZE)
        return m->size;
    if (base + offset < 0 || base + offset > m->size)
        return -1;
    return m->pos = base + offset;
}

typedef struct job {
    int k;            /* thread number: picks the clip and the way in */
    char *json;       /* the result, for comparison with the serial scan */
    int64_t frames;   /* frame callbacks seen (this thread's analyzer only) */
    int64_t events;   /* event callbacks */
} job;

static int on_frame(void *user, const vmo_frame_report *r)
{
    job *j = user;
    j->frames++;
    return r->zone_count == 2 ? 0 : 1;
}

static int on_event(void *user, int what, const vmo_event *ev)
{
    (void)what;
    (void)ev;
    ((job *)user)->events++;
    return 0;
}

static vmo_result *scan_memory(vmo_analyzer *an, const char *path)
{
    size_t n;
    mem m = { tu_read_file(path, &n), 0, 0 };
    ck_assert_ptr_nonnull(m.data);
    m.size = (int64_t)n;
    const vmo_io io = { sizeof(io), &m, mem_read, mem_seek };
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_analyzer_scan_io(an, &io, path, &res), VMO_OK);
    free(m.data);
    return res;
}

/* Every third job scans from memory, the others from the file; half of the analyzers have
 * FFmpeg's own frame threads as well. */
static void *scan_thread(void *arg)
{
    job *j = arg;
    vmo_analyzer *an = new_analyzer(j->k % 2 ? 2 : 1, 1);
    ck_assert_int_eq(vmo_analyzer_set_frame_callback(an, on_frame, j), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_set_event_callback(an, on_event, j), VMO_OK);
    const char *path = clip(j->k);
    vmo_result *res = NULL;
    if (j->k % 3 == 2)
        res = scan_memory(an, path);
    else
        ck_assert_int_eq(vmo_analyzer_scan_file(an, path, &res), VMO_OK);
    j->json = to_json(res);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
    return NULL;
}

START_TEST(eight_analyzers_at_once)
{
    make_clips();
    char *want[NTHREADS];
    for (int k = 0; k < NTHREADS; k++) {
        vmo_analyzer *an = new_analyzer(1, 1);
        vmo_result *res = NULL;
        if (k % 3 == 2)
            res = scan_memory(an, clip(k));
        else
            ck_assert_int_eq(vmo_analyzer_scan_file(an, clip(k), &res), VMO_OK);
        want[k] = to_json(res);
        vmo_result_destroy(&res);
        vmo_analyzer_destroy(&an);
    }
    pthread_t th[NTHREADS];
    job jobs[NTHREADS];
    for (int k = 0; k < NTHREADS; k++) {
        jobs[k] = (job){ .k = k };
        ck_assert_int_eq(pthread_create(&th[k], NULL, scan_thread, &jobs[k]), 0);
    }
    for (int k = 0; k < NTHREADS; k++) {
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
        ck_assert_msg(!strcmp(jobs[k].json, want[k]), "thread %d: result differs from the "
                      "same scan alone", k);
        ck_assert_int_eq(jobs[k].frames, FRAMES);
        ck_assert_int_gt(jobs[k].events, 0);
        free(jobs[k].json);
        free(want[k]);
    }
}
END_TEST

/* ---- the push API in threads ------------------------------------------------------------ */

static void *push_thread(void *arg)
{
    job *j = arg;
    vmo_analyzer *an = new_analyzer(1, 1);
    ck_assert_int_eq(vmo_analyzer_set_frame_callback(an, on_frame, j), VMO_OK);
    enum { W = 160, H = 120 };
    uint8_t *luma = malloc(W * H);
    ck_assert_ptr_nonnull(luma);
    for (int i = 0; i < FRAMES; i++) {
        memset(luma, 60, W * H);
        for (int y = 40; y < 56; y++) /* a bar moving right */
            memset(luma + y * W + (i * 2 + j->k) % (W - 16), 220, 16);
        const vmo_frame f = { sizeof(f), W, H, W, luma, i * 40000, 0, 0, 0, 0 };
        ck_assert_int_eq(vmo_analyzer_push_frame(an, &f), VMO_OK);
    }
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_analyzer_push_finish(an, "pushed", NAN, &res), VMO_OK);
    j->json = to_json(res);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
    free(luma);
    return NULL;
}

START_TEST(push_in_threads)
{
    pthread_t th[NTHREADS];
    job jobs[NTHREADS];
    for (int k = 0; k < NTHREADS; k++) {
        jobs[k] = (job){ .k = k % 2 };
        ck_assert_int_eq(pthread_create(&th[k], NULL, push_thread, &jobs[k]), 0);
    }
    for (int k = 0; k < NTHREADS; k++)
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
    for (int k = 0; k < NTHREADS; k++) {
        ck_assert_int_eq(jobs[k].frames, FRAMES);
        ck_assert_str_eq(jobs[k].json, jobs[k % 2].json); /* same frames, same answer */
    }
    for (int k = 0; k < NTHREADS; k++)
        free(jobs[k].json);
}
END_TEST

/* ---- parallel requests ------------------------------------------------------------------ */

/* Plain counters: the library serializes request callbacks, so TSan would see a race here
 * if it did not. */
typedef struct counts {
    int64_t frames, progress, events;
    int last_clip;
} counts;

static int count_frame(void *user, const vmo_frame_report *r)
{
    counts *c = user;
    c->frames++;
    c->last_clip = r->clip;
    return 0;
}

static int count_progress(void *user, int clip_index, int clip_count, int64_t done,
                          int64_t total)
{
    (void)clip_index;
    (void)done;
    (void)total;
    counts *c = user;
    c->progress += clip_count == NCLIPS;
    return 0;
}

static int count_event(void *user, int what, const vmo_event *ev)
{
    (void)what;
    (void)ev;
    ((counts *)user)->events++;
    return 0;
}

static char *run_request(int jobs, counts *c)
{
    vmo_analyzer *an = new_analyzer(1, jobs);
    if (c) {
        ck_assert_int_eq(vmo_analyzer_set_frame_callback(an, count_frame, c), VMO_OK);
        ck_assert_int_eq(vmo_analyzer_set_progress_callback(an, count_progress, c), VMO_OK);
        ck_assert_int_eq(vmo_analyzer_set_event_callback(an, count_event, c), VMO_OK);
    }
    vmo_request *rq = NULL;
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    for (int k = 0; k < NCLIPS; k++)
        ck_assert_int_eq(vmo_request_add_clip(rq, clip(k), 1783173600.0 + 10.0 * k), VMO_OK);
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_analyzer_run_request(an, rq, &res), VMO_OK);
    ck_assert_int_eq(vmo_result_clip_count(res), NCLIPS);
    char *json = to_json(res);
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
    return json;
}

START_TEST(request_in_parallel)
{
    make_clips();
    char *serial = run_request(1, NULL);
    counts c = { 0 };
    char *parallel = run_request(4, &c);
    ck_assert_str_eq(parallel, serial);
    ck_assert_int_eq(c.frames, (int64_t)NCLIPS * FRAMES);
    ck_assert_int_gt(c.events, 0);
    free(serial);
    free(parallel);
}
END_TEST

typedef struct request_job {
    char *json;
    counts c;
} request_job;

static void *request_thread(void *arg)
{
    request_job *j = arg;
    j->json = run_request(3, &j->c);
    return NULL;
}

START_TEST(two_requests_at_once)
{
    make_clips();
    request_job a = { 0 }, b = { 0 };
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, request_thread, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, request_thread, &b), 0);
    ck_assert_int_eq(pthread_join(ta, NULL), 0);
    ck_assert_int_eq(pthread_join(tb, NULL), 0);
    ck_assert_str_eq(a.json, b.json);
    ck_assert_int_eq(a.c.frames, (int64_t)NCLIPS * FRAMES);
    ck_assert_int_eq(b.c.frames, (int64_t)NCLIPS * FRAMES);
    free(a.json);
    free(b.json);
}
END_TEST

/* ---- cancelling from another thread ----------------------------------------------------- */

typedef struct cancel_job {
    vmo_analyzer *an;
    atomic_int frames;
    int rc;
    vmo_result *res;
} cancel_job;

static int slow_frame(void *user, const vmo_frame_report *r)
{
    (void)r;
    atomic_fetch_add(&((cancel_job *)user)->frames, 1);
    return 0;
}

static void *cancel_scan_thread(void *arg)
{
    cancel_job *j = arg;
    vmo_request *rq = NULL;
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    for (int k = 0; k < NCLIPS; k++)
        ck_assert_int_eq(vmo_request_add_clip(rq, clip(k), NAN), VMO_OK);
    j->rc = vmo_analyzer_run_request(j->an, rq, &j->res);
    vmo_request_destroy(&rq);
    return NULL;
}

START_TEST(cancel_from_another_thread)
{
    make_clips();
    cancel_job j = { .an = new_analyzer(1, 2) };
    ck_assert_int_eq(vmo_analyzer_set_frame_callback(j.an, slow_frame, &j), VMO_OK);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, cancel_scan_thread, &j), 0);
    while (atomic_load(&j.frames) < 20)
        sched_yield();
    vmo_analyzer_cancel(j.an);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    /* a request this short may finish before the flag is seen */
    ck_assert(j.rc == VMO_ERR_CANCELLED || j.rc == VMO_OK);
    ck_assert_ptr_nonnull(j.res);
    if (j.rc == VMO_ERR_CANCELLED)
        ck_assert_int_lt(atomic_load(&j.frames), NCLIPS * FRAMES);
    vmo_result_destroy(&j.res);
    vmo_analyzer_destroy(&j.an);
}
END_TEST

/* ---- the log callback ------------------------------------------------------------------- */

static atomic_long log_lines;

static void count_log(void *user, int level, const char *message)
{
    (void)user;
    (void)level;
    ck_assert_ptr_nonnull(message);
    atomic_fetch_add(&log_lines, 1);
}

static void *bad_scan_thread(void *arg)
{
    (void)arg;
    vmo_analyzer *an = new_analyzer(2, 1);
    static const char junk[] = "\x00\x00\x00\x18" "ftypisom" "\x00\x00\x02\x00" "isomiso2"
                               "\x00\x00\x00\x10" "moov" "garbage!";
    char path[1200];
    snprintf(path, sizeof(path), "%s/junk_%p.mp4", tu_tmpdir(), (void *)an);
    ck_assert_int_eq(tu_write_file(path, junk, sizeof(junk) - 1), 0);
    for (int i = 0; i < 10; i++) {
        vmo_result *res = NULL;
        ck_assert_int_lt(vmo_analyzer_scan_file(an, path, &res), 0);
        ck_assert_ptr_null(res);
    }
    vmo_analyzer_destroy(&an);
    return NULL;
}

START_TEST(log_callback_from_many_threads)
{
    tu_tmpdir(); /* made here: the helper is not thread-safe */
    vmo_set_log_callback(count_log, NULL, VMO_LOG_DEBUG);
    pthread_t th[NTHREADS];
    for (int k = 0; k < NTHREADS; k++)
        ck_assert_int_eq(pthread_create(&th[k], NULL, bad_scan_thread, NULL), 0);
    for (int k = 0; k < NTHREADS; k++)
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
    vmo_set_log_callback(NULL, NULL, VMO_LOG_ERROR);
    ck_assert_int_gt(atomic_load(&log_lines), 0);
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, eight_analyzers_at_once);
    tcase_add_test(tc, push_in_threads);
    tcase_add_test(tc, request_in_parallel);
    tcase_add_test(tc, two_requests_at_once);
    tcase_add_test(tc, cancel_from_another_thread);
    tcase_add_test(tc, log_callback_from_many_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(threads_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
