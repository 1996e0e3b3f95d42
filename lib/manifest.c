/* The export manifest: a JSON record of what was exported, from what, how and why, with the
 * SHA-256 of every file, and its verification (docs/export.md shows the format). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/sha.h>

#include "atomic.h"
#include "export.h"
#include "jsonutil.h"
#include "timefmt.h"

#define MANIFEST_KIND    "vidmotion-export-manifest"
#define MANIFEST_VERSION 1
#define HASH_BLOCK       (1 << 20)

/* ------------------------------------------------------------------------------------------
 * SHA-256
 * ---------------------------------------------------------------------------------------- */

static void hex_digest(const uint8_t *d, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

static int hash_fd(int fd, struct AVSHA *sha, uint8_t *buf, int64_t *size)
{
    *size = 0;
    for (;;) {
        ssize_t n = read(fd, buf, HASH_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return 0;
        av_sha_update(sha, buf, (size_t)n);
        *size += n;
    }
}

int vmo_sha256_file(const char *path, char hex[65], int64_t *size, vmo_errbuf *err)
{
    /* Regular files only: a tampered manifest naming /dev/zero, a FIFO or a terminal would
     * otherwise hash forever or block in open() (O_NONBLOCK) or read(). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return vmo_err_set(err, e == ENOENT ? VMO_ERR_NOT_FOUND : VMO_ERR_IO, "cannot open %s: %s",
                           path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return vmo_err_set(err, VMO_ERR_IO, "%s is not a regular file", path);
    }
    struct AVSHA *sha = av_sha_alloc();
    uint8_t *buf = malloc(HASH_BLOCK);
    int rc = VMO_OK;
    if (!sha || !buf || av_sha_init(sha, 256) < 0) {
        rc = vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    } else {
        int e = hash_fd(fd, sha, buf, size);
        if (e)
            rc = vmo_err_set(err, VMO_ERR_IO, "cannot read %s: %s", path, strerror(e));
    }
    if (rc == VMO_OK) {
        uint8_t digest[32];
        av_sha_final(sha, digest);
        hex_digest(digest, hex);
    }
    free(buf);
    av_free(sha);
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------------------------- */

static json_t *jstr(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *software_json(void)
{
    char v[3][32];
    unsigned vers[3] = { avformat_version(), avcodec_version(), avutil_version() };
    for (int i = 0; i < 3; i++)
        snprintf(v[i], sizeof(v[i]), "%u.%u.%u", vers[i] >> 16, (vers[i] >> 8) & 255,
                 vers[i] & 255);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "library", "vidmotion", "version",
                     vmo_version_string(), "libavformat", v[0], "libavcodec", v[1], "libavutil",
                     v[2]);
}

static json_t *zones_json(const vmo_zone_set *zones)
{
    json_t *a = json_array();
    for (int z = 0; a && z < zones->count; z++) {
        const vmo_zone *zn = &zones->zones[z];
        json_t *poly = json_array();
        for (uint32_t i = 0; poly && i < zn->npoints; i++)
            json_array_append_new(poly, json_pack("[f, f]", zn->xy[2 * i], zn->xy[2 * i + 1]));
        json_array_append_new(a, json_pack("{s:s, s:s, s:o*}", "name", zn->name, "kind",
                                           zn->kind == VMO_ZONE_EXCLUDE ? "exclude" : "include",
                                           "polygon", poly));
    }
    return a;
}

static json_t *window_json(const vmo_window *w)
{
    if (isnan(w->from) && isnan(w->to))
        return json_null();
    json_t *o = json_object();
    int wall = w->wall != 0;
    json_object_set_new(o, "clock", json_string(wall ? "wall" : "clip"));
    json_object_set_new(o, "from", wall ? vmo_json_wall(w->from) : vmo_json_seconds(w->from));
    json_object_set_new(o, "to", wall ? vmo_json_wall(w->to) : vmo_json_seconds(w->to));
    return o;
}

/* Every analysis option by name, read through the public option table. */
static json_t *settings_json(const vmo_settings *s)
{
    vmo_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.settings = *s;
    json_t *o = json_object();
    for (int i = 0; o && i < vmo_config_option_count(); i++) {
        vmo_option_info oi = { .struct_size = sizeof(oi) };
        double v;
        if (vmo_config_option_info(i, &oi) != VMO_OK ||
            vmo_config_get_double(&cfg, oi.name, &v) != VMO_OK)
            continue;
        json_object_set_new(o, oi.name,
                            oi.type == VMO_OPTION_DOUBLE ? json_real(v)
                            : oi.type == VMO_OPTION_BOOL ? json_boolean(v != 0)
                                                         : json_integer((json_int_t)v));
    }
    return o;
}

static json_t *request_json(const vmo_export *ex, const vmo_result *res)
{
    json_t *files = json_array();
    for (int c = 0; files && c < res->nclips; c++)
        json_array_append_new(files, json_string(res->clips[c].path));
    json_t *exp =
        json_pack("{s:s, s:s, s:s, s:b, s:b}", "mode", vmo_export_mode_name(ex->mode), "format",
                  vmo_export_format_name(ex->format), "redact", vmo_export_redact_name(ex->redact),
                  "thumbnails", ex->thumbnails, "overwrite", ex->overwrite);
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "case", jstr(ex->case_ref), "window",
                     window_json(&res->window), "zones", zones_json(&res->zones), "files", files,
                     "export", exp);
}

static json_t *sources_json(const vmo_export *ex, const vmo_result *res)
{
    json_t *a = json_array();
    for (int i = 0; a && i < ex->nsources; i++) {
        const vmo_export_source *s = &ex->sources[i];
        const vmo_clip_data *c = &res->clips[s->clip];
        json_array_append_new(
            a, json_pack("{s:i, s:s, s:I, s:s, s:o, s:s, s:o}", "id", i, "path", s->path, "size",
                         (json_int_t)s->size_bytes, "sha256", s->sha256, "wall_start",
                         vmo_json_wall(c->info.wall_start), "codec", c->codec ? c->codec : "",
                         "duration", vmo_json_seconds(c->info.duration)));
    }
    return a;
}

static int source_id(const vmo_export *ex, int clip)
{
    for (int i = 0; i < ex->nsources; i++)
        if (ex->sources[i].clip == clip)
            return i;
    return -1;
}

/* Output paths relative to the manifest's folder when they are in it, so the folder can be
 * moved or shared as a whole. */
static const char *rel_path(const char *path, const char *mdir)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    char *dir = slash ? strndup(path, n) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL;
    int same = real && mdir && !strcmp(real, mdir);
    free(dir);
    free(real);
    return same ? (slash ? slash + 1 : path) : path;
}

static json_t *event_json(const vmo_result *res, int e)
{
    vmo_event ev = { .struct_size = sizeof(ev) };
    vmo_result_event(res, e, &ev);
    const char *zone = vmo_result_zone_name(res, ev.zone);
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i}", "zone", zone ? zone : "",
                     "start", vmo_json_seconds(ev.start), "end", vmo_json_seconds(ev.end),
                     "clip_start", vmo_json_seconds(ev.clip_start), "clip_end",
                     vmo_json_seconds(ev.clip_end), "wall_start", vmo_json_wall(ev.wall_start),
                     "wall_end", vmo_json_wall(ev.wall_end), "peak", vmo_json_seconds(ev.peak),
                     "peak_time", vmo_json_seconds(ev.peak_time), "peak_clip", ev.peak_clip);
}

static json_t *parts_json(const vmo_export *ex, const vmo_export_item *it)
{
    json_t *a = json_array();
    for (int p = 0; a && p < it->nparts; p++)
        json_array_append_new(a, json_pack("{s:i, s:o, s:o}", "source",
                                           source_id(ex, it->parts[p].clip), "start",
                                           vmo_json_seconds(it->parts[p].start), "end",
                                           vmo_json_seconds(it->parts[p].end)));
    return a;
}

static json_t *thumb_json(const vmo_export_item *it, const char *mdir)
{
    if (!it->thumb)
        return json_null();
    return json_pack("{s:s, s:I, s:s}", "file", rel_path(it->thumb, mdir), "size",
                     (json_int_t)it->thumb_size, "sha256", it->thumb_sha256);
}

static const char *reenc_word(int r)
{
    return r == VMO_REENC_ALL ? "all" : r == VMO_REENC_PARTIAL ? "partial" : "none";
}

static json_t *output_json(const vmo_export *ex, const vmo_result *res, const vmo_export_item *it,
                           const char *mdir)
{
    json_t *o = json_pack("{s:i, s:s, s:I, s:s, s:o, s:o, s:o}", "event", it->event, "file",
                          rel_path(it->path, mdir), "size", (json_int_t)it->size_bytes, "sha256",
                          it->sha256, "duration", vmo_json_seconds(it->duration), "wall_start",
                          vmo_json_wall(it->wall_start), "wall_end", vmo_json_wall(it->wall_end));
    if (!o)
        return NULL;
    json_object_set_new(o, "sources", parts_json(ex, it));
    json_object_set_new(o, "segment", event_json(res, it->event));
    json_object_set_new(o, "reencoded", json_string(reenc_word(it->reencoded)));
    json_object_set_new(o, "reencode_reason", jstr(it->reason));
    json_object_set_new(o, "frames_copied", json_integer(it->frames_copied));
    json_object_set_new(o, "frames_encoded", json_integer(it->frames_encoded));
    json_object_set_new(o, "notes", jstr(it->notes));
    json_object_set_new(o, "thumbnail", thumb_json(it, mdir));
    return o;
}

static json_t *manifest_json(const vmo_export *ex, const vmo_result *res, const char *mdir)
{
    char now[40];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    vmo_time_format_iso((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9, now, sizeof(now));
    json_t *outputs = json_array();
    for (int i = 0; outputs && i < ex->nitems; i++)
        json_array_append_new(outputs, output_json(ex, res, &ex->items[i], mdir));
    return json_pack("{s:s, s:i, s:s, s:o, s:o, s:o, s:o, s:o}", "manifest", MANIFEST_KIND,
                     "manifest_version", MANIFEST_VERSION, "created", now, "software",
                     software_json(), "request", request_json(ex, res), "settings",
                     settings_json(&res->settings), "sources", sources_json(ex, res), "outputs",
                     outputs);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    return real;
}

int vmo_manifest_write(const vmo_export *ex, const vmo_result *res, vmo_afile *f, vmo_errbuf *err)
{
    char *mdir = dir_of(f->final_path);
    json_t *root = manifest_json(ex, res, mdir);
    free(mdir);
    char *text =
        root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
             : NULL;
    json_decref(root);
    if (!text)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "cannot build the manifest");
    int rc = vmo_afile_write(f, text, strlen(text), err);
    if (rc == VMO_OK)
        rc = vmo_afile_write(f, "\n", 1, err);
    free(text);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Verification
 * ---------------------------------------------------------------------------------------- */

typedef struct report {
    char *text;
    size_t len, cap;
    int oom;
} report;

static void report_add(report *r, const char *fmt, const char *path, const char *detail)
{
    int n = snprintf(NULL, 0, fmt, path, detail);
    if (n < 0 || r->oom)
        return;
    if (r->len + (size_t)n + 2 > r->cap) {
        size_t cap = (r->cap + (size_t)n + 2) * 2;
        char *grown = realloc(r->text, cap);
        if (!grown) {
            r->oom = 1;
            return;
        }
        r->text = grown;
        r->cap = cap;
    }
    snprintf(r->text + r->len, r->cap - r->len, fmt, path, detail);
    r->len += (size_t)n;
    r->text[r->len++] = '\n';
    r->text[r->len] = '\0';
}

/* A manifest's path relative to its folder, as a path to open. */
static char *resolve(const char *mdir, const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    size_t n = strlen(mdir) + strlen(path) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", mdir, path);
    return p;
}

/* Checks one file entry ({"file"|"path", "size", "sha256"}). Returns 1 when it matches,
 * 0 on a mismatch, -1 when the entry is malformed. */
static int verify_entry(const json_t *entry, const char *key, const char *mdir, report *r)
{
    const char *name = json_string_value(json_object_get(entry, key));
    const char *want = json_string_value(json_object_get(entry, "sha256"));
    const json_t *size = json_object_get(entry, "size");
    if (!name || !want || strlen(want) != 64 || !json_is_integer(size))
        return -1;
    char *path = resolve(mdir, name);
    if (!path)
        return -1;
    char hex[65], detail[sizeof(((vmo_errbuf *)0)->msg) + 64];
    int64_t got = 0;
    vmo_errbuf err;
    int rc = vmo_sha256_file(path, hex, &got, &err);
    int ok = 0;
    if (rc != VMO_OK)
        snprintf(detail, sizeof(detail), "%s", rc == VMO_ERR_NOT_FOUND ? "missing" : err.msg);
    else if (got != json_integer_value(size))
        snprintf(detail, sizeof(detail), "size %lld, expected %lld", (long long)got,
                 (long long)json_integer_value(size));
    else if (strcmp(hex, want))
        snprintf(detail, sizeof(detail), "sha256 %s, expected %s", hex, want);
    else
        ok = 1;
    if (ok)
        report_add(r, "ok %s%s", name, "");
    else
        report_add(r, "MISMATCH %s: %s", name, detail);
    free(path);
    return ok;
}

/* Verifies the sources, outputs and thumbnails; *bad counts mismatches. */
static int verify_all(const json_t *root, const char *mdir, report *r, int *bad)
{
    const json_t *sources = json_object_get(root, "sources");
    const json_t *outputs = json_object_get(root, "outputs");
    if (!json_is_array(sources) || !json_is_array(outputs))
        return VMO_ERR_BAD_MANIFEST;
    for (size_t i = 0; i < json_array_size(sources); i++) {
        int ok = verify_entry(json_array_get(sources, i), "path", mdir, r);
        if (ok < 0)
            return VMO_ERR_BAD_MANIFEST;
        *bad += !ok;
    }
    for (size_t i = 0; i < json_array_size(outputs); i++) {
        const json_t *e = json_array_get(outputs, i);
        int ok = verify_entry(e, "file", mdir, r);
        const json_t *thumb = json_object_get(e, "thumbnail");
        int tok = json_is_object(thumb) ? verify_entry(thumb, "file", mdir, r) : 1;
        if (ok < 0 || tok < 0)
            return VMO_ERR_BAD_MANIFEST;
        *bad += !ok + !tok;
    }
    return VMO_OK;
}

static int load_manifest(const char *path, json_t **root)
{
    json_error_t jerr;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? VMO_ERR_NOT_FOUND : VMO_ERR_IO;
    *root = json_loadf(f, 0, &jerr);
    fclose(f);
    const char *kind = *root ? json_string_value(json_object_get(*root, "manifest")) : NULL;
    if (!kind || strcmp(kind, MANIFEST_KIND)) {
        json_decref(*root);
        *root = NULL;
        return VMO_ERR_BAD_MANIFEST;
    }
    return VMO_OK;
}

int vmo_verify_manifest(const char *path, char **out)
{
    if (out)
        *out = NULL;
    if (!path)
        return VMO_ERR_INVALID_ARG;
    json_t *root = NULL;
    int rc = load_manifest(path, &root);
    report r = { 0 };
    if (rc != VMO_OK) {
        report_add(&r, "ERROR %s: %s", path, vmo_strerror(rc));
    } else {
        char *mdir = dir_of(path);
        int bad = 0;
        rc = mdir ? verify_all(root, mdir, &r, &bad) : VMO_ERR_NO_MEMORY;
        if (rc == VMO_ERR_BAD_MANIFEST)
            report_add(&r, "ERROR %s: %s", path, "an entry lacks its path, size or sha256");
        if (rc == VMO_OK && bad)
            rc = VMO_ERR_MISMATCH;
        free(mdir);
        json_decref(root);
    }
    if (r.oom && rc == VMO_OK)
        rc = VMO_ERR_NO_MEMORY;
    if (out && !r.oom)
        *out = r.text ? r.text : strdup("");
    else
        free(r.text);
    return rc;
}
