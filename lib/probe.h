/* A clip's facts from its container header, and the rule for its wall-clock start. */
#ifndef VMO_PROBE_H
#define VMO_PROBE_H

#include "decode.h"

/* The wall-clock start of a clip: `given` (from the caller, with `given_source`) when it
 * is a number, else the container's creation_time (mi may be NULL), else a timestamp in
 * the file name, else NaN with VMO_WALL_NONE. */
void vmo_wall_start_of(const char *path, double given, int given_source,
                       const vmo_media_info *mi, double *wall, int *source);

#endif
