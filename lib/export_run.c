/* Export runs: every motion event of a result exported (or, for a preview, its thumbnail
 * only). Names every output and refuses before any work when one exists; hashes the
 * sources; runs one job per event; then commits: everything renamed into place, the
 * manifest last, so that a run leaves either all its files or none. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "export.h"

void vmo_export_items_free(vmo_export *ex, int rollback)
{
    for (int i = 0; i < ex->nitems; i++) {
        vmo_export_item *it = &ex->items[i];
        vmo_afile_discard(&it->file, rollback);
        vmo_afile_discard(&it->thumb_file, rollback);
        free(it->path);
        free(it->thumb);
        free(it->parts);
    }
    free(ex->items);
    ex->items = NULL;
    ex->nitems = 0;
    for (int i = 0; i < ex->nsources; i++)
        free(ex->sources[i].path);
    free(ex->sources);
    ex->sources = NULL;
    ex->nsources = 0;
    free(ex->manifest_written);
    ex->manifest_written = NULL;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return p;
}

/* "ev003-porch-20260704T140002.440Z": event index, zone, wall-clock start (else the clip
 * second), so names sort by time and never depend on the source file names. */
static void item_name(const vmo_result *res, int index, const vmo_event *ev, char *buf, size_t size)
{
    const char *zone = vmo_result_zone_name(res, ev->zone);
    char when[48];
    const vmo_clip_data *c = &res->clips[ev->clip];
    if (!isnan(c->info.wall_start)) {
        double w = c->info.wall_start + ev->clip_start;
        time_t secs = (time_t)floor(w);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(when, sizeof(when), "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 VMO_MIN(999, (int)lround((w - (double)secs) * 1000)));
    } else {
        snprintf(when, sizeof(when), "clip%d-t%.3f", ev->clip, ev->clip_start);
    }
    snprintf(buf, size, "ev%03d-%s-%s", index, zone ? zone : "zone", when);
}

static int item_parts(const vmo_result *res, int e, const vmo_event *ev, vmo_export_item *it)
{
    it->parts = calloc((size_t)VMO_MAX(1, ev->source_count), sizeof(vmo_export_part));
    if (!it->parts)
        return VMO_ERR_NO_MEMORY;
    for (int s = 0; s < ev->source_count; s++) {
        vmo_event_source src = { .struct_size = sizeof(src) };
        if (vmo_result_event_source(res, e, s, &src) != VMO_OK)
            return VMO_ERR_INVALID_ARG;
        it->parts[s] = (vmo_export_part){ src.clip, src.clip_start, src.clip_end };
    }
    it->nparts = ev->source_count;
    if (it->nparts == 0) {
        it->parts[0] = (vmo_export_part){ ev->clip, ev->clip_start, ev->clip_end };
        it->nparts = 1;
    }
    return VMO_OK;
}

static int plan_item(vmo_export *ex, const vmo_result *res, int e, int clips, int thumbs)
{
    vmo_event ev = { .struct_size = sizeof(ev) };
    vmo_result_event(res, e, &ev);
    vmo_export_item *it = &ex->items[ex->nitems++];
    memset(it, 0, sizeof(*it));
    vmo_afile_init(&it->file);
    vmo_afile_init(&it->thumb_file);
    it->event = e;
    it->wall_start = it->wall_end = NAN;
    char name[160], file[200];
    item_name(res, e, &ev, name, sizeof(name));
    if (clips) {
        snprintf(file, sizeof(file), "%s.%s", name, vmo_export_format_name(ex->format));
        if (!(it->path = path_join(ex->dir, file)))
            return VMO_ERR_NO_MEMORY;
    }
    if (thumbs) {
        snprintf(file, sizeof(file), "%s.png", name);
        if (!(it->thumb = path_join(ex->dir, file)))
            return VMO_ERR_NO_MEMORY;
    }
    return item_parts(res, e, &ev, it);
}

static int check_free(vmo_export *ex, const char *path)
{
    if (!path || ex->overwrite)
        return VMO_OK;
    struct stat st;
    if (lstat(path, &st) == 0)
        return vmo_err_set(&ex->err, VMO_ERR_EXISTS, "%s exists (set \"overwrite\" to replace it)",
                           path);
    return VMO_OK;
}

/* Names every output, and refuses before any work when one exists. */
static int plan_run(vmo_export *ex, const vmo_result *res, int clips, int thumbs)
{
    int n = vmo_result_event_count(res);
    ex->items = calloc((size_t)VMO_MAX(1, n), sizeof(vmo_export_item));
    if (!ex->items)
        return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
    for (int e = 0; e < n; e++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        vmo_result_event(res, e, &ev);
        if (ev.kind != VMO_EVENT_MOTION)
            continue;
        if (plan_item(ex, res, e, clips, thumbs) != VMO_OK)
            return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    for (int i = 0; i < ex->nitems; i++) {
        int rc = check_free(ex, ex->items[i].path);
        if (rc == VMO_OK)
            rc = check_free(ex, ex->items[i].thumb);
        if (rc != VMO_OK)
            return rc;
        for (int k = 0; k < i; k++)
            if (ex->items[i].path && !strcmp(ex->items[i].path, ex->items[k].path))
                return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG, "two outputs named %s",
                                   ex->items[i].path);
    }
    return VMO_OK;
}

static int check_dir(vmo_export *ex)
{
    if (!ex->dir)
        return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG, "export option \"dir\" is not set");
    struct stat st;
    if (stat(ex->dir, &st) != 0)
        return vmo_err_set(&ex->err, errno == ENOENT ? VMO_ERR_NOT_FOUND : VMO_ERR_IO,
                           "output folder %s: %s", ex->dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG, "output folder %s is not a folder",
                           ex->dir);
    return VMO_OK;
}

static int write_thumb(vmo_export *ex, const vmo_result *res, vmo_export_item *it)
{
    vmo_event ev = { .struct_size = sizeof(ev) };
    vmo_result_event(res, it->event, &ev);
    int clip = ev.peak_clip >= 0 && ev.peak_clip < res->nclips ? ev.peak_clip : ev.clip;
    if (!it->path) /* a preview: its one frame is the peak */
        it->wall_start = it->wall_end = res->clips[clip].info.wall_start + ev.peak_time;
    int rc = vmo_afile_open(&it->thumb_file, it->thumb, &ex->err);
    if (rc == VMO_OK)
        rc = vmo_thumbnail_write(res->clips[clip].path, ev.peak_time, &res->zones, ex->redact,
                                 &it->thumb_file, &ex->err);
    if (rc == VMO_OK)
        rc = vmo_afile_finish(&it->thumb_file, &ex->err);
    if (rc == VMO_OK)
        rc = vmo_sha256_file(it->thumb_file.tmp_path, it->thumb_sha256, &it->thumb_size, &ex->err);
    return rc;
}

static int export_all(vmo_export *ex, const vmo_result *res)
{
    for (int i = 0; i < ex->nitems; i++) {
        vmo_export_item *it = &ex->items[i];
        int rc = VMO_OK;
        if (it->path) {
            rc = vmo_export_job_run(ex, res, it);
            if (rc == VMO_OK)
                rc = vmo_sha256_file(it->file.tmp_path, it->sha256, &it->size_bytes, &ex->err);
        }
        if (rc == VMO_OK && it->thumb)
            rc = write_thumb(ex, res, it);
        if (rc != VMO_OK)
            return rc;
    }
    return VMO_OK;
}

/* Sources of the outputs, each hashed once. */
static int hash_sources(vmo_export *ex, const vmo_result *res)
{
    ex->sources = calloc((size_t)VMO_MAX(1, res->nclips), sizeof(vmo_export_source));
    if (!ex->sources)
        return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
    for (int c = 0; c < res->nclips; c++) {
        int used = 0;
        for (int i = 0; i < ex->nitems && !used; i++)
            for (int p = 0; p < ex->items[i].nparts; p++)
                used |= ex->items[i].parts[p].clip == c;
        if (!used)
            continue;
        vmo_export_source *s = &ex->sources[ex->nsources++];
        s->clip = c;
        char *abs = realpath(res->clips[c].path, NULL);
        s->path = abs ? abs : vmo_strdup(res->clips[c].path);
        if (!s->path)
            return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
        int rc = vmo_sha256_file(res->clips[c].path, s->sha256, &s->size_bytes, &ex->err);
        if (rc != VMO_OK)
            return rc;
    }
    return VMO_OK;
}

static int fsync_folder(const char *dir, vmo_errbuf *err)
{
    char *probe = path_join(dir, "x"); /* vmo_fsync_dir syncs the folder of a path */
    int rc = probe ? vmo_fsync_dir(probe, err) : vmo_err_set(err, VMO_ERR_NO_MEMORY, "no memory");
    free(probe);
    return rc;
}

/* Renames everything into place, the manifest last (the commit point). */
static int commit_all(vmo_export *ex, vmo_afile *manifest)
{
    int rc = VMO_OK;
    for (int i = 0; i < ex->nitems && rc == VMO_OK; i++) {
        if (ex->items[i].path)
            rc = vmo_afile_commit(&ex->items[i].file, ex->overwrite, &ex->err);
        if (rc == VMO_OK && ex->items[i].thumb)
            rc = vmo_afile_commit(&ex->items[i].thumb_file, ex->overwrite, &ex->err);
    }
    if (rc == VMO_OK)
        rc = fsync_folder(ex->dir, &ex->err);
    if (rc == VMO_OK && manifest)
        rc = vmo_afile_commit(manifest, ex->overwrite, &ex->err);
    if (rc == VMO_OK && manifest)
        rc = vmo_fsync_dir(manifest->final_path, &ex->err);
    return rc;
}

static char *manifest_path(const vmo_export *ex)
{
    return ex->manifest ? vmo_strdup(ex->manifest) : path_join(ex->dir, "manifest.json");
}

/* The manifest, finished under its temporary name: committed last, with the outputs. */
static int write_manifest(vmo_export *ex, const vmo_result *res, const char *mpath,
                          vmo_afile *manifest)
{
    int rc = vmo_afile_open(manifest, mpath, &ex->err);
    if (rc == VMO_OK)
        rc = vmo_manifest_write(ex, res, manifest, &ex->err);
    if (rc == VMO_OK)
        rc = vmo_afile_finish(manifest, &ex->err);
    return rc;
}

/* After a failure nothing of the run stays, neither temporary files nor renamed ones; after
 * a success the outputs stay listed (vmo_export_output) with their files closed. */
static void run_end(vmo_export *ex, vmo_afile *manifest, int rc)
{
    vmo_afile_discard(manifest, rc != VMO_OK);
    if (rc != VMO_OK) {
        vmo_export_items_free(ex, 1);
        return;
    }
    for (int i = 0; i < ex->nitems; i++) {
        vmo_afile_discard(&ex->items[i].file, 0);
        vmo_afile_discard(&ex->items[i].thumb_file, 0);
    }
}

static int run_common(vmo_export *ex, const vmo_result *res, int clips)
{
    vmo_export_items_free(ex, 0);
    ex->bytes_demuxed = 0;
    vmo_err_clear(&ex->err);
    int rc = check_dir(ex);
    if (rc != VMO_OK)
        return rc;
    char *mpath = clips ? manifest_path(ex) : NULL;
    if (clips && !mpath)
        return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
    rc = plan_run(ex, res, clips, clips ? ex->thumbnails : 1);
    if (rc == VMO_OK)
        rc = check_free(ex, mpath);
    if (rc == VMO_OK && clips)
        rc = hash_sources(ex, res);
    if (rc == VMO_OK)
        rc = export_all(ex, res);
    vmo_afile manifest;
    vmo_afile_init(&manifest);
    if (rc == VMO_OK && clips)
        rc = write_manifest(ex, res, mpath, &manifest);
    if (rc == VMO_OK)
        rc = commit_all(ex, clips ? &manifest : NULL);
    if (rc == VMO_OK && clips) {
        ex->manifest_written = mpath;
        mpath = NULL;
    }
    free(mpath);
    run_end(ex, &manifest, rc);
    return rc;
}

int vmo_export_run(vmo_export *ex, const vmo_result *res)
{
    if (!ex || !res)
        return VMO_ERR_INVALID_ARG;
    return run_common(ex, res, 1);
}

int vmo_export_thumbnails(vmo_export *ex, const vmo_result *res)
{
    if (!ex || !res)
        return VMO_ERR_INVALID_ARG;
    return run_common(ex, res, 0);
}
