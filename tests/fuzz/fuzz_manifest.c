/* Fuzz target: the manifest reader (vmo_verify_manifest) with tampered and hostile
 * manifests. The manifest is written into a temporary folder that also holds two files,
 * "clip.mp4" and "segment_001.mp4", so that entries naming them (with the right or a wrong
 * size and hash) reach every branch of the verification.
 *
 * A hostile manifest may name any path. Kernel pseudo-files under /proc and /sys are
 * regular files of any size (/proc/kcore), so inputs naming them are skipped here: whether a
 * manifest may reach outside its folder at all is a policy question (see the report in
 * docs/fuzzing.md), not something a fuzzer should wander into. Device files, FIFOs and
 * directories are fair game: verification must refuse them, not hash /dev/zero forever. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz.h"

static char dir[64], manifest[128], clip[128], segment[128];

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fputs(text, f) >= 0);
    FUZZ_CHECK(fclose(f) == 0);
}

static void cleanup(void)
{
    unlink(manifest);
    unlink(clip);
    unlink(segment);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "/tmp/vmo_fuzz_manifest.XXXXXX");
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    snprintf(manifest, sizeof(manifest), "%s/manifest.json", dir);
    snprintf(clip, sizeof(clip), "%s/clip.mp4", dir);
    snprintf(segment, sizeof(segment), "%s/segment_001.mp4", dir);
    /* sha256("source clip\n") and sha256("segment\n"), as the seeds list them */
    put(clip, "source clip\n");
    put(segment, "segment\n");
    atexit(cleanup);
    return 0;
}

/* 1 when any string in the document names a kernel pseudo-file system. */
static int names_pseudo_files(const json_t *v)
{
    const char *key;
    json_t *item;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return strstr(json_string_value(v), "proc") || strstr(json_string_value(v), "sys");
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, key, item)
        {
            if (names_pseudo_files(item))
                return 1;
        }
        return 0;
    case JSON_ARRAY:
        json_array_foreach(v, i, item)
        {
            if (names_pseudo_files(item))
                return 1;
        }
        return 0;
    default:
        return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    const int skip = doc && names_pseudo_files(doc);
    json_decref(doc);
    if (skip)
        return 0;
    FILE *f = fopen(manifest, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(fclose(f) == 0);
    char *report = (char *)&report; /* must be overwritten */
    const int rc = vmo_verify_manifest(manifest, &report);
    FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_MISMATCH || rc == VMO_ERR_BAD_MANIFEST ||
               rc == VMO_ERR_IO || rc == VMO_ERR_NO_MEMORY);
    FUZZ_CHECK(report != (char *)&report);
    if (report && rc == VMO_OK) /* one "ok PATH" line per file, nothing else */
        for (const char *line = report; *line; line = strchr(line, '\n') + 1) {
            FUZZ_CHECK(!strncmp(line, "ok ", 3));
            FUZZ_CHECK(strchr(line, '\n') != NULL);
        }
    vmo_free(report);
    FUZZ_CHECK(vmo_verify_manifest(manifest, NULL) == rc);
    return 0;
}
