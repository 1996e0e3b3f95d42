/* Motion index: round trip (a query from the index gives the scan's events), corruption
 * and staleness detected and never trusted, settings mismatch, atomic writing, idle cost. */
#include <math.h>
#include <signal.h>
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

#define BOX_ARGS                                                                             \
    "-f lavfi -i color=c=0x707070:s=320x240:r=25:d=6,noise=alls=30:allf=u "                 \
    "-f lavfi -i color=c=white:s=32x32:r=25:d=6 "                                            \
    "-filter_complex \"[0][1]overlay=x='if(lt(t,1),20,if(lt(t,3),20+(t-1)*100,220))':y=40\" " \
    "-c:v libx264 -crf 18 -g 50 -pix_fmt yuv420p"

/* A private copy of the clip, so each test owns its index. */
static const char *fresh_clip(const char *name)
{
    static char path[8][1200];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, sizeof(path[0]), "%s/%s", tu_tmpdir(), name);
    size_t size;
    void *data = tu_read_file(tu_clip("ix_box.mp4", BOX_ARGS), &size);
    ck_assert_ptr_nonnull(data);
    ck_assert_int_eq(tu_write_file(p, data, size), 0);
    free(data);
    char ix[1300];
    snprintf(ix, sizeof(ix), "%s.vmoidx", p);
    unlink(ix);
    return p;
}

static vmo_analyzer *analyzer(int threshold)
{
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "threshold", threshold), VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "band", VMO_ZONE_INCLUDE, "0,0.1,1,0.35"), VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "left", VMO_ZONE_INCLUDE, "0,0,0.4,1"), VMO_OK);
    vmo_analyzer *an;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_config_destroy(&cfg);
    return an;
}

static vmo_result *query(vmo_analyzer *an, const char *clip, int use_index)
{
    vmo_request *rq;
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, clip, 1.7e9), VMO_OK);
    ck_assert_int_eq(vmo_request_set_double(rq, "use_index", use_index), VMO_OK);
    vmo_result *res;
    int rc = vmo_analyzer_run_request(an, rq, &res);
    ck_assert_msg(rc == VMO_OK, "%s", vmo_analyzer_last_error(an));
    vmo_request_destroy(&rq);
    return res;
}

static uint32_t clip_flags(const vmo_result *res)
{
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(res, 0, &ci), VMO_OK);
    return ci.flags;
}

static void same_events(const vmo_result *a, const vmo_result *b)
{
    ck_assert_int_eq(vmo_result_event_count(a), vmo_result_event_count(b));
    for (int i = 0; i < vmo_result_event_count(a); i++) {
        vmo_event x = { .struct_size = sizeof(x) }, y = { .struct_size = sizeof(y) };
        ck_assert_int_eq(vmo_result_event(a, i, &x), VMO_OK);
        ck_assert_int_eq(vmo_result_event(b, i, &y), VMO_OK);
        ck_assert_int_eq(x.zone, y.zone);
        ck_assert_int_eq(x.kind, y.kind);
        /* Zone counts come from the grid: where a zone's border cuts cells, an edge may
         * move by a frame (docs/index-format.md). */
        ck_assert_double_eq_tol(x.start, y.start, 0.081);
        ck_assert_double_eq_tol(x.end, y.end, 0.081);
        ck_assert_double_eq_tol(x.peak, y.peak, 0.02 * x.peak + 1e-4);
        ck_assert_double_eq_tol(x.keyframe, y.keyframe, 1e-5);
    }
}

static void index_of(vmo_analyzer *an, const char *clip)
{
    vmo_result *res = NULL;
    int rc = vmo_analyzer_index_file(an, clip, &res);
    ck_assert_msg(rc == VMO_OK, "%s", vmo_analyzer_last_error(an));
    ck_assert_int_eq(vmo_result_clip_count(res), 1);
    vmo_result_destroy(&res);
}

START_TEST(query_from_the_index_equals_the_scan)
{
    const char *clip = fresh_clip("round.mp4");
    vmo_analyzer *an = analyzer(4);
    index_of(an, clip);
    vmo_index_info ii = { .struct_size = sizeof(ii) };
    ck_assert_int_eq(vmo_index_check(clip, NULL, &ii), VMO_OK);
    ck_assert_int_eq(ii.status, VMO_OK);
    ck_assert_int_eq(ii.frames, 150);
    ck_assert_int_eq(ii.grid_width, VMO_GRID_W);
    ck_assert_int_eq(ii.grid_height, VMO_GRID_H);
    ck_assert_double_eq_tol(ii.duration, 6.0, 1e-6);
    vmo_result *scan = query(an, clip, 0), *indexed = query(an, clip, 1);
    ck_assert_uint_eq(clip_flags(scan) & VMO_CLIP_INDEXED, 0);
    ck_assert(clip_flags(indexed) & VMO_CLIP_INDEXED);
    ck_assert_int_gt(vmo_result_event_count(scan), 0);
    same_events(scan, indexed);
    vmo_result_destroy(&scan);
    vmo_result_destroy(&indexed);
    vmo_analyzer_destroy(&an);
}
END_TEST

/* Corrupts the index and checks it is detected and a query decodes instead. */
static void expect_distrusted(const char *clip, int want)
{
    vmo_index_info ii = { .struct_size = sizeof(ii) };
    ck_assert_int_eq(vmo_index_check(clip, NULL, &ii), want);
    ck_assert_int_eq(ii.status, want);
    vmo_analyzer *an = analyzer(4);
    vmo_result *scan = query(an, clip, 0), *fallback = query(an, clip, 1);
    ck_assert_uint_eq(clip_flags(fallback) & VMO_CLIP_INDEXED, 0);
    same_events(scan, fallback);
    vmo_result_destroy(&scan);
    vmo_result_destroy(&fallback);
    vmo_analyzer_destroy(&an);
}

static void patch_file(const char *path, long offset, uint8_t xor_with)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    if (offset < 0) {
        fseek(f, 0, SEEK_END);
        offset += ftell(f);
    }
    fseek(f, offset, SEEK_SET);
    int c = fgetc(f);
    fseek(f, offset, SEEK_SET);
    fputc(c ^ xor_with, f);
    fclose(f);
}

START_TEST(corrupt_indexes_are_never_trusted)
{
    static const struct {
        long offset; /* negative: from the end */
        const char *what;
    } damage[] = { { 0, "magic" }, { 20, "header field" }, { 300, "payload" }, { -3, "end" } };
    for (size_t k = 0; k < sizeof(damage) / sizeof(damage[0]); k++) {
        const char *clip = fresh_clip("damaged.mp4");
        vmo_analyzer *an = analyzer(4);
        index_of(an, clip);
        vmo_analyzer_destroy(&an);
        char ix[1300];
        snprintf(ix, sizeof(ix), "%s.vmoidx", clip);
        patch_file(ix, damage[k].offset, 0x5a);
        expect_distrusted(clip, VMO_ERR_INDEX_CORRUPT);
    }
    /* Cut short. */
    const char *clip = fresh_clip("short.mp4");
    vmo_analyzer *an = analyzer(4);
    index_of(an, clip);
    vmo_analyzer_destroy(&an);
    char ix[1300];
    snprintf(ix, sizeof(ix), "%s.vmoidx", clip);
    ck_assert_int_eq(truncate(ix, 200), 0);
    expect_distrusted(clip, VMO_ERR_INDEX_CORRUPT);
    ck_assert_int_eq(truncate(ix, 0), 0);
    expect_distrusted(clip, VMO_ERR_INDEX_CORRUPT);
}
END_TEST

START_TEST(stale_indexes_are_never_trusted)
{
    const char *clip = fresh_clip("stale.mp4");
    vmo_analyzer *an = analyzer(4);
    index_of(an, clip);
    vmo_analyzer_destroy(&an);
    patch_file(clip, 100, 0x01); /* the clip changed after it was indexed */
    expect_distrusted(clip, VMO_ERR_INDEX_STALE);
    ck_assert_int_eq(vmo_index_check(clip, "/nonexistent/x.vmoidx",
                                     &(vmo_index_info){ .struct_size = sizeof(vmo_index_info) }),
                     VMO_ERR_NOT_FOUND);
}
END_TEST

START_TEST(other_analysis_settings_decode_instead)
{
    const char *clip = fresh_clip("settings.mp4");
    vmo_analyzer *an = analyzer(4);
    index_of(an, clip);
    vmo_analyzer_destroy(&an);
    an = analyzer(9); /* another pixel threshold: the recorded counts do not apply */
    vmo_result *res = query(an, clip, 1);
    ck_assert_uint_eq(clip_flags(res) & VMO_CLIP_INDEXED, 0);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(an_idle_minute_costs_little_and_nothing_is_left_behind)
{
    const char *idle = tu_clip("ix_idle.mp4", "-f lavfi -i color=c=0x505050:s=320x240:r=25:d=60 "
                                              "-c:v libx264 -preset ultrafast -crf 30");
    char clip[1200];
    snprintf(clip, sizeof(clip), "%s/idle.mp4", tu_tmpdir());
    size_t size;
    void *data = tu_read_file(idle, &size);
    ck_assert_int_eq(tu_write_file(clip, data, size), 0);
    free(data);
    vmo_analyzer *an = analyzer(4);
    index_of(an, clip);
    vmo_index_info ii = { .struct_size = sizeof(ii) };
    ck_assert_int_eq(vmo_index_check(clip, NULL, &ii), VMO_OK);
    ck_assert_int_eq(ii.frames, 1500);
    ck_assert_int_lt(ii.index_size, 2048); /* header + masks + a few idle runs */
    vmo_analyzer_destroy(&an);
    /* No temporary file remains next to the clip. */
    char *ls = tu_capture("ls -a '%s' | grep -c tmp || true", tu_tmpdir());
    ck_assert_ptr_nonnull(ls);
    ck_assert_int_eq(atoi(ls), 0);
    free(ls);
}
END_TEST

START_TEST(unwritable_folder_fails_the_index_not_the_process)
{
    if (geteuid() == 0) /* root writes anywhere: use a path that cannot exist instead */
        return;
    char dir[1200], clip[1300];
    snprintf(dir, sizeof(dir), "%s/ro", tu_tmpdir());
    mkdir(dir, 0755);
    snprintf(clip, sizeof(clip), "%s/c.mp4", dir);
    size_t size;
    void *data = tu_read_file(tu_clip("ix_box.mp4", BOX_ARGS), &size);
    ck_assert_int_eq(tu_write_file(clip, data, size), 0);
    free(data);
    chmod(dir, 0555);
    vmo_analyzer *an = analyzer(4);
    ck_assert_int_eq(vmo_analyzer_index_file(an, clip, NULL), VMO_ERR_IO);
    vmo_analyzer_destroy(&an);
    chmod(dir, 0755);
}
END_TEST

/* A folder of its own holding a copy of the box clip as c.mp4. */
static const char *clip_in_own_folder(const char *name, char *clip, size_t size)
{
    char dir[1200];
    snprintf(dir, sizeof(dir), "%s/%s", tu_tmpdir(), name);
    tu_run("rm -rf '%s'", dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(clip, size, "%s/c.mp4", dir);
    size_t n;
    void *data = tu_read_file(tu_clip("ix_box.mp4", BOX_ARGS), &n);
    ck_assert_ptr_nonnull(data);
    ck_assert_int_eq(tu_write_file(clip, data, n), 0);
    free(data);
    return clip;
}

/* Names in the folder of `clip`, hidden ones included (temporaries are hidden). */
static char *folder_listing(const char *clip)
{
    return tu_capture("ls -A \"$(dirname '%s')\"", clip);
}

START_TEST(an_index_leaves_nothing_else_even_when_replaced)
{
    char clip[1300];
    clip_in_own_folder("only", clip, sizeof(clip));
    vmo_analyzer *an = analyzer(4);
    index_of(an, clip);
    index_of(an, clip); /* replaces the first one */
    vmo_analyzer_destroy(&an);
    vmo_index_info ii = { .struct_size = sizeof(ii) };
    ck_assert_int_eq(vmo_index_check(clip, NULL, &ii), VMO_OK);
    char *names = folder_listing(clip);
    ck_assert_str_eq(names, "c.mp4\nc.mp4.vmoidx\n");
    free(names);
}
END_TEST

/* Indexes `clip` in a child process whose files may not grow past `limit` bytes; returns
 * the status of vmo_analyzer_index_file. */
static int index_with_size_limit(const char *clip, rlim_t limit)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit rl = { limit, limit };
        signal(SIGXFSZ, SIG_IGN); /* write() then fails with EFBIG instead of killing us */
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(99);
        vmo_analyzer *an = analyzer(4);
        int rc = vmo_analyzer_index_file(an, clip, NULL);
        vmo_analyzer_destroy(&an);
        _exit(-rc);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_ne(WEXITSTATUS(status), 99);
    return -WEXITSTATUS(status);
}

/* The same errno -> status mapping as the export's (atomic.h), and nothing left behind:
 * a file size limit hit while creating the index fails the call with VMO_ERR_NO_SPACE; hit
 * later, the scan still succeeds but the index is missing (VMO_ERR_IO). */
START_TEST(file_size_limit_leaves_no_index)
{
    char clip[1300];
    clip_in_own_folder("fsize", clip, sizeof(clip));
    ck_assert_int_eq(index_with_size_limit(clip, 100), VMO_ERR_NO_SPACE);
    char *names = folder_listing(clip);
    ck_assert_str_eq(names, "c.mp4\n");
    free(names);
    ck_assert_int_eq(index_with_size_limit(clip, 400), VMO_ERR_IO);
    names = folder_listing(clip);
    ck_assert_str_eq(names, "c.mp4\n");
    free(names);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("index");
    TCase *tc = tcase_create("index");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, query_from_the_index_equals_the_scan);
    tcase_add_test(tc, corrupt_indexes_are_never_trusted);
    tcase_add_test(tc, stale_indexes_are_never_trusted);
    tcase_add_test(tc, other_analysis_settings_decode_instead);
    tcase_add_test(tc, an_idle_minute_costs_little_and_nothing_is_left_behind);
    tcase_add_test(tc, unwritable_folder_fails_the_index_not_the_process);
    tcase_add_test(tc, an_index_leaves_nothing_else_even_when_replaced);
    tcase_add_test(tc, file_size_limit_leaves_no_index);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
