/* What a clip is, from its container header alone: vmo_probe_file(), and the one rule for
 * a clip's wall-clock start shared by scans, requests and probes. */
#include <math.h>
#include <string.h>

#include "decode.h"
#include "probe.h"
#include "timefmt.h"

void vmo_wall_start_of(const char *path, double given, int given_source,
                       const vmo_media_info *mi, double *wall, int *source)
{
    double w;
    if (!isnan(given)) {
        *wall = given;
        *source = given_source;
    } else if (mi && !isnan(mi->creation_time)) {
        *wall = mi->creation_time;
        *source = VMO_WALL_TAG;
    } else if (path && vmo_time_from_filename(path, &w) == VMO_OK) {
        *wall = w;
        *source = VMO_WALL_FILENAME;
    } else {
        *wall = NAN;
        *source = VMO_WALL_NONE;
    }
}

int vmo_probe_file(const char *path, vmo_clip_info *info)
{
    if (!path || !info)
        return VMO_ERR_INVALID_ARG;
    vmo_media_info mi;
    vmo_errbuf err;
    int rc = vmo_media_probe(path, -1, &mi, &err);
    vmo_clip_info out;
    memset(&out, 0, sizeof(out));
    out.struct_size = sizeof(out);
    out.status = rc;
    out.size_bytes = -1;
    out.codec = "";
    if (rc == VMO_OK) {
        out.codec = mi.codec;
        out.width = mi.width;
        out.height = mi.height;
        out.rotation = mi.rotation;
        out.fps = mi.fps;
        out.duration = mi.duration;
        out.size_bytes = mi.size_bytes;
    }
    vmo_wall_start_of(path, NAN, VMO_WALL_CALLER, rc == VMO_OK ? &mi : NULL, &out.wall_start,
                      &out.wall_source);
    int copied = vmo_copy_sized(info, &out, sizeof(out));
    return copied != VMO_OK ? copied : rc;
}
