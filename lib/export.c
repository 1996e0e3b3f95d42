/* Export: the handle and its options, and what a run left (outputs, manifest path). Runs
 * are in export_run.c, one event's output in export_job.c. */
#include <stdlib.h>
#include <string.h>

#include "export.h"

int vmo_export_create(vmo_export **out)
{
    if (!out)
        return VMO_ERR_INVALID_ARG;
    *out = calloc(1, sizeof(vmo_export));
    if (!*out)
        return VMO_ERR_NO_MEMORY;
    vmo_log_init_ffmpeg();
    return VMO_OK;
}

void vmo_export_destroy(vmo_export **pex)
{
    if (!pex || !*pex)
        return;
    vmo_export *ex = *pex;
    vmo_export_items_free(ex, 0);
    free(ex->dir);
    free(ex->manifest);
    free(ex->case_ref);
    free(ex);
    *pex = NULL;
}

const char *vmo_export_last_error(const vmo_export *ex)
{
    return ex ? ex->err.msg : "";
}

static int set_owned(vmo_export *ex, char **field, const char *value)
{
    char *copy = NULL;
    if (value && *value) {
        copy = vmo_strdup(value);
        if (!copy)
            return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    free(*field);
    *field = copy;
    return VMO_OK;
}

static int pick(const char *value, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (!strcmp(value, names[i]))
            return i;
    return -1;
}

static int set_choice(vmo_export *ex, int *field, const char *name, const char *value,
                      const char *const *names, int count)
{
    int v = value ? pick(value, names, count) : -1;
    if (v < 0)
        return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG, "export option \"%s\": bad value '%s'",
                           name, value ? value : "(null)");
    *field = v;
    return VMO_OK;
}

static const char *const format_names[] = { "mp4", "mkv" };
static const char *const mode_names[] = { "copy", "precise", "reencode" };
static const char *const redact_names[] = { "none", "black", "pixelate" };

const char *vmo_export_mode_name(int mode)
{
    return mode_names[VMO_CLAMP(mode, 0, 2)];
}

const char *vmo_export_redact_name(int redact)
{
    return redact_names[VMO_CLAMP(redact, 0, 2)];
}

const char *vmo_export_format_name(int format)
{
    return format_names[VMO_CLAMP(format, 0, 1)];
}

static int set_flag(vmo_export *ex, int *field, const char *name, int64_t value)
{
    if (value != 0 && value != 1)
        return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG, "export option \"%s\" is 0 or 1", name);
    *field = (int)value;
    return VMO_OK;
}

int vmo_export_set_string(vmo_export *ex, const char *name, const char *value)
{
    if (!ex || !name)
        return VMO_ERR_INVALID_ARG;
    vmo_err_clear(&ex->err);
    if (!strcmp(name, "dir"))
        return set_owned(ex, &ex->dir, value);
    if (!strcmp(name, "manifest"))
        return set_owned(ex, &ex->manifest, value);
    if (!strcmp(name, "case"))
        return set_owned(ex, &ex->case_ref, value);
    if (!strcmp(name, "format"))
        return set_choice(ex, &ex->format, name, value, format_names, 2);
    if (!strcmp(name, "mode"))
        return set_choice(ex, &ex->mode, name, value, mode_names, 3);
    if (!strcmp(name, "redact"))
        return set_choice(ex, &ex->redact, name, value, redact_names, 3);
    if (!strcmp(name, "overwrite") || !strcmp(name, "thumbnails")) {
        char *end = NULL;
        long v = value ? strtol(value, &end, 10) : -1;
        if (!value || end == value || *end)
            return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG,
                               "export option \"%s\": expected 0 or 1", name);
        return vmo_export_set_int(ex, name, v);
    }
    return vmo_err_set(&ex->err, VMO_ERR_UNKNOWN_OPTION, "no export option \"%s\"", name);
}

int vmo_export_set_int(vmo_export *ex, const char *name, int64_t value)
{
    if (!ex || !name)
        return VMO_ERR_INVALID_ARG;
    vmo_err_clear(&ex->err);
    if (!strcmp(name, "overwrite"))
        return set_flag(ex, &ex->overwrite, name, value);
    if (!strcmp(name, "thumbnails"))
        return set_flag(ex, &ex->thumbnails, name, value);
    return vmo_err_set(&ex->err, VMO_ERR_UNKNOWN_OPTION, "no integer export option \"%s\"", name);
}

int vmo_export_output_count(const vmo_export *ex)
{
    return ex ? ex->nitems : 0;
}

int vmo_export_output(const vmo_export *ex, int index, vmo_export_output_info *out)
{
    if (!ex || !out || index < 0 || index >= ex->nitems)
        return VMO_ERR_INVALID_ARG;
    const vmo_export_item *it = &ex->items[index];
    vmo_export_output_info o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.event = it->event;
    o.path = it->path;
    o.sha256 = it->path ? it->sha256 : NULL;
    o.thumbnail = it->thumb;
    o.size_bytes = it->path ? it->size_bytes : 0;
    o.duration = it->duration;
    o.wall_start = it->wall_start;
    o.wall_end = it->wall_end;
    o.reencoded = it->reencoded != VMO_REENC_NONE;
    return vmo_copy_sized(out, &o, sizeof(o));
}

const char *vmo_export_manifest_path(const vmo_export *ex)
{
    return ex ? ex->manifest_written : NULL;
}
