/* Small jansson helpers shared by the JSON writers (results, manifests): one way to write a
 * time, a wall-clock instant and a score, so every document reads the same. */
#ifndef VMO_JSONUTIL_H
#define VMO_JSONUTIL_H

#include <jansson.h>

/* Seconds to the microsecond (stable text, more precision than any frame needs), or null. */
json_t *vmo_json_seconds(double v);
/* A fraction to six decimals, or null. */
json_t *vmo_json_score(double v);
/* POSIX seconds as ISO-8601 UTC with milliseconds, or null when unknown (NaN). */
json_t *vmo_json_wall(double posix);

#endif
