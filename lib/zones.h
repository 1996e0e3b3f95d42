/* Zones: parsing (rectangles, polygons, JSON zone files), validation and rasterization onto
 * the analysis grid. Coordinates are normalized (0..1); rasterization keeps a pixel when its
 * centre ((x + 0.5) / w, (y + 0.5) / h) lies inside the polygon by the even-odd rule. */
#ifndef VMO_ZONES_H
#define VMO_ZONES_H

#include <stdint.h>

#include "internal.h"

#define VMO_ZONE_NAME_MAX   64  /* including the terminating NUL */
#define VMO_ZONE_MAX_POINTS 256 /* points of one polygon */

typedef struct vmo_zone {
    char name[VMO_ZONE_NAME_MAX];
    int kind;          /* VMO_ZONE_INCLUDE or VMO_ZONE_EXCLUDE */
    uint32_t npoints;  /* >= 3 */
    double *xy;        /* 2 * npoints coordinates, owned */
} vmo_zone;

typedef struct vmo_zone_set {
    vmo_zone *zones;
    int count;
    int capacity;
} vmo_zone_set;

/* All adders validate (name syntax and uniqueness, 0..1 range, >= 3 points, non-zero area,
 * at most VMO_MAX_ZONES per kind) and return VMO_ERR_BAD_ZONE with a message otherwise. */
int vmo_zone_set_add_polygon(vmo_zone_set *set, const char *name, int kind, const double *xy,
                             uint32_t npoints, vmo_errbuf *err);
/* spec: "x0,y0,x1,y1" or "poly:x,y;x,y;x,y[;...]". */
int vmo_zone_set_add_spec(vmo_zone_set *set, const char *name, int kind, const char *spec,
                          vmo_errbuf *err);
/* The zones-file JSON (docs/zones.md). All or nothing. */
int vmo_zone_set_add_json(vmo_zone_set *set, const char *json, vmo_errbuf *err);
/* Replaces dst (zeroed or a valid set) with a deep copy of src; dst is unchanged on error. */
int vmo_zone_set_copy(vmo_zone_set *dst, const vmo_zone_set *src);
void vmo_zone_set_clear(vmo_zone_set *set);
/* Index of the include zone called `name` among include zones, or -1. */
int vmo_zone_set_find(const vmo_zone_set *set, const char *name);
int vmo_zone_set_include_count(const vmo_zone_set *set);

/* A zone set rasterized for one analysis size. Pixels are labelled by "class": the set of
 * reported zones covering them (zones may overlap). Class 0 = in no reported zone, or
 * excluded. `class_zones[c]` has bit z set when class c lies inside reported zone z. */
typedef struct vmo_zone_map {
    int width;
    int height;
    uint8_t *labels;               /* width * height, row-major, stride == width */
    int class_count;               /* classes in use, including 0 (<= 256) */
    uint64_t class_zones[256];
    int zone_count;                /* reported zones: include zones, or 1 ("frame") */
    uint64_t zone_area[VMO_MAX_ZONES]; /* pixels in each reported zone */
    uint8_t *excluded;             /* width * height: 1 where an exclude zone covers */
} vmo_zone_map;

/* Builds the map for a width x height grid. `map` must be zeroed or hold an earlier build,
 * which is released first (so a map can be rebuilt at a new size); a failed build leaves it
 * empty. VMO_ERR_LIMIT when more than 255 distinct overlap classes arise; VMO_ERR_BAD_ZONE
 * when masks leave a reported zone empty is NOT an error (its area is 0 and its score stays
 * 0). */
int vmo_zone_map_build(vmo_zone_map *map, const vmo_zone_set *set, int width, int height,
                       vmo_errbuf *err);
void vmo_zone_map_free(vmo_zone_map *map);

/* Rasterizes one polygon into mask (width * height bytes, 1 inside, 0 outside). */
void vmo_polygon_rasterize(const double *xy, uint32_t npoints, int width, int height,
                           uint8_t *mask);

#endif
