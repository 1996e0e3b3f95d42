/* Export internals shared by its files:
 *   export.c        the handle and its options, what the last run left
 *   export_run.c    runs: naming, existence checks, hashing, commit (the manifest last)
 *   export_job.c    one event -> one output (with export_part/codec/mux/input.c and
 *                   smartcut.c; export_job.h tells how a clip is cut)
 *   manifest.c      the manifest: written, and verified
 *   thumbnail.c     the PNG of an event's peak
 * Every file is written through atomic.h; redact.h blacks out or pixelates the masks. */
#ifndef VMO_EXPORT_H
#define VMO_EXPORT_H

#include <stdint.h>

#include "atomic.h"
#include "internal.h"
#include "redact.h"
#include "result.h"

enum { VMO_FMT_MP4 = 0, VMO_FMT_MKV = 1 };
enum { VMO_MODE_COPY = 0, VMO_MODE_PRECISE = 1, VMO_MODE_REENCODE = 2 };
/* How much of an output's video was re-encoded (manifest "reencoded"). */
enum { VMO_REENC_NONE = 0, VMO_REENC_PARTIAL = 1, VMO_REENC_ALL = 2 };

/* One source file's share of an output: clip seconds actually exported. */
typedef struct vmo_export_part {
    int clip;
    double start, end;
} vmo_export_part;

/* One output (an exported event) of a run. */
typedef struct vmo_export_item {
    int event;
    char *path;  /* final path of the clip, NULL for a thumbnails-only run */
    char *thumb; /* final path of the PNG or NULL */
    char sha256[65];
    char thumb_sha256[65];
    int64_t size_bytes, thumb_size;
    double duration;
    double wall_start, wall_end;
    int reencoded;    /* VMO_REENC_* */
    char reason[256]; /* why (part of) the video was re-encoded, "" when copied */
    char notes[256];  /* streams dropped, tail longer than asked, ... */
    int64_t frames_copied, frames_encoded;
    vmo_export_part *parts;
    int nparts;
    vmo_afile file, thumb_file;
} vmo_export_item;

/* A source file listed in the manifest. */
typedef struct vmo_export_source {
    int clip;
    char *path; /* absolute path when it can be resolved */
    int64_t size_bytes;
    char sha256[65];
} vmo_export_source;

struct vmo_export {
    char *dir, *manifest, *case_ref;
    int format, mode, redact, overwrite, thumbnails;
    vmo_errbuf err;
    /* the last run */
    vmo_export_item *items;
    int nitems;
    vmo_export_source *sources;
    int nsources;
    char *manifest_written;
    uint64_t bytes_demuxed; /* bytes the demuxers read (not counting hashing) */
};

/* ---- export_run.c ---- */
/* Frees the outputs of the last run (their temporary files removed; with `rollback`, their
 * committed files too), its sources and manifest path. */
void vmo_export_items_free(vmo_export *ex, int rollback);

/* ---- export_job.c ---- */
/* Exports one output: `it` named and its parts filled from the event; on success its file
 * is finished under its temporary name, not committed. */
int vmo_export_job_run(vmo_export *ex, const vmo_result *res, vmo_export_item *it);

/* ---- manifest.c ---- */
/* SHA-256 of a whole file as 64 lowercase hex digits; *size gets its size. */
int vmo_sha256_file(const char *path, char hex[65], int64_t *size, vmo_errbuf *err);
/* Writes the manifest of a finished (not yet committed) run into `f` (opened). */
int vmo_manifest_write(const vmo_export *ex, const vmo_result *res, vmo_afile *f, vmo_errbuf *err);
/* Names used in the manifest for the options. */
const char *vmo_export_mode_name(int mode);
const char *vmo_export_redact_name(int redact);
const char *vmo_export_format_name(int format);

/* ---- thumbnail.c ---- */
/* Decodes the frame of `path` nearest to clip second `t` (seeking to the keyframe before it)
 * and writes it as PNG into `f` (opened). Exclude zones of `zones` are redacted when
 * `redact` is not VMO_REDACT_NONE. */
int vmo_thumbnail_write(const char *path, double t, const vmo_zone_set *zones, int redact,
                        vmo_afile *f, vmo_errbuf *err);

#endif
