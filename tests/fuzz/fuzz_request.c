/* Fuzz target: requests built from hostile text: window strings (vmo_request_set_window),
 * numeric windows, request zones and masks, zone selection and request options by name,
 * then run over two contiguous tiny clips and a missing one, so that planning, partial
 * decoding, the joining of events across clips and their cutting to the window all see
 * what the parsers let through.
 *
 * Input: one command per line.
 *   from: TEXT / to: TEXT     the window's ends as strings (both given in one call)
 *   wall: A,B / clip: A,B     numeric windows (strtod: "nan", "inf", "1e308" welcome)
 *   zone: NAME=SPEC / mask: SPEC / select: NAME / set: NAME=VALUE
 * The index options are left off: an index written by one input would change the next. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define MAX_TEXT 16384
/* 2026-07-04T14:05:00Z, the first clip's wall-clock start; the second follows it. */
#define WALL0 1783173900.0

static char clip_a[1024], clip_b[1024], clip_missing[1024];
#define CLIP_LEN 0.6 /* the seed clip: 6 frames at 10 fps */

static void remove_clips(void)
{
    unlink(clip_a);
    unlink(clip_b);
    *strrchr(clip_a, '/') = '\0';
    rmdir(clip_a);
}

/* Two copies of the seed clip (two files, as two recordings would be). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/vmo_fuzz_request.XXXXXX";
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    snprintf(clip_a, sizeof(clip_a), "%s/a.mp4", dir);
    snprintf(clip_b, sizeof(clip_b), "%s/b.mp4", dir);
    snprintf(clip_missing, sizeof(clip_missing), "%s/missing.mp4", dir);
    fuzz_copy_file(VMO_FUZZ_CLIP, clip_a);
    fuzz_copy_file(VMO_FUZZ_CLIP, clip_b);
    atexit(remove_clips);
    return 0;
}

/* "A,B" as two doubles (missing parts are NaN: an open end). */
static void two_numbers(const char *s, double *a, double *b)
{
    char *end;
    *a = strtod(s, &end);
    if (end == s)
        *a = NAN;
    const char *comma = strchr(s, ',');
    *b = comma ? strtod(comma + 1, NULL) : NAN;
}

static int known_request_status(int rc)
{
    return fuzz_known_status(rc) && rc != VMO_ERR_UNKNOWN_OPTION && rc != VMO_ERR_NOT_FOUND;
}

static void command(vmo_request *rq, char *line, const char **from, const char **to)
{
    char *arg = strstr(line, ": ");
    if (!arg)
        return;
    *arg = '\0';
    arg += 2;
    char *eq = strchr(arg, '=');
    double a, b;
    int rc = VMO_OK;
    if (!strcmp(line, "from")) {
        *from = arg;
    } else if (!strcmp(line, "to")) {
        *to = arg;
    } else if (!strcmp(line, "wall") || !strcmp(line, "clip")) {
        two_numbers(arg, &a, &b);
        rc = line[0] == 'w' ? vmo_request_set_window_wall(rq, a, b)
                            : vmo_request_set_window_clip(rq, a, b);
        FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_BAD_WINDOW);
    } else if (!strcmp(line, "zone") && eq) {
        *eq = '\0';
        rc = vmo_request_add_zone(rq, arg, VMO_ZONE_INCLUDE, eq + 1);
        FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_BAD_ZONE || rc == VMO_ERR_INVALID_ARG);
    } else if (!strcmp(line, "mask")) {
        rc = vmo_request_add_zone(rq, "mask", VMO_ZONE_EXCLUDE, arg);
        FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_BAD_ZONE);
    } else if (!strcmp(line, "select")) {
        rc = vmo_request_select_zone(rq, arg);
        FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_INVALID_ARG);
    } else if (!strcmp(line, "set") && eq && !strstr(arg, "index")) {
        *eq = '\0';
        rc = vmo_request_set_double(rq, arg, strtod(eq + 1, NULL));
        FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_INVALID_ARG || rc == VMO_ERR_UNKNOWN_OPTION);
    }
    FUZZ_CHECK(rc == VMO_OK || vmo_request_last_error(rq)[0] != '\0');
}

static void run(vmo_request *rq)
{
    vmo_analyzer *an = fuzz_small_analyzer("0,0,0.5,1");
    vmo_result *res = NULL;
    const int rc = vmo_analyzer_run_request(an, rq, &res);
    FUZZ_CHECK(known_request_status(rc));
    FUZZ_CHECK((rc == VMO_OK || rc == VMO_ERR_CANCELLED) == (res != NULL));
    if (res) {
        FUZZ_CHECK(vmo_result_clip_count(res) == 3);
        fuzz_walk_result(res);
        vmo_result_destroy(&res);
    }
    vmo_analyzer_destroy(&an);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size, MAX_TEXT);
    vmo_request *rq = NULL;
    FUZZ_CHECK(vmo_request_create(&rq) == VMO_OK);
    FUZZ_CHECK(vmo_request_set_double(rq, "use_index", 0) == VMO_OK);
    FUZZ_CHECK(vmo_request_add_clip(rq, clip_a, WALL0) == VMO_OK);
    FUZZ_CHECK(vmo_request_add_clip(rq, clip_missing, WALL0 + CLIP_LEN) == VMO_OK);
    FUZZ_CHECK(vmo_request_add_clip(rq, clip_b, WALL0 + CLIP_LEN) == VMO_OK);
    const char *from = NULL, *to = NULL;
    for (char *line = text, *next; line; line = next) {
        if ((next = strchr(line, '\n')) != NULL)
            *next++ = '\0';
        command(rq, line, &from, &to);
    }
    if (from || to) {
        const int rc = vmo_request_set_window(rq, from, to);
        FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_BAD_TIME || rc == VMO_ERR_BAD_WINDOW);
        FUZZ_CHECK(rc == VMO_OK || vmo_request_last_error(rq)[0] != '\0');
    }
    run(rq);
    vmo_request_destroy(&rq);
    free(text);
    return 0;
}
