/* Texts of the status codes. */
#include "internal.h"

const char *vmo_strerror(int status)
{
    switch (status) {
    case VMO_OK: return "success";
    case VMO_ERR_INVALID_ARG: return "invalid argument";
    case VMO_ERR_NO_MEMORY: return "out of memory";
    case VMO_ERR_IO: return "input/output error";
    case VMO_ERR_NOT_FOUND: return "file not found";
    case VMO_ERR_EMPTY: return "input is empty";
    case VMO_ERR_CORRUPT: return "input is corrupt";
    case VMO_ERR_NOT_MEDIA: return "input is not a video file";
    case VMO_ERR_NO_VIDEO: return "no video stream";
    case VMO_ERR_DECODE: return "video could not be decoded";
    case VMO_ERR_UNSUPPORTED: return "unsupported codec, format or feature";
    case VMO_ERR_TRUNCATED: return "input is truncated";
    case VMO_ERR_UNKNOWN_OPTION: return "unknown option";
    case VMO_ERR_BAD_ZONE: return "invalid zone";
    case VMO_ERR_UNKNOWN_ZONE: return "unknown zone";
    case VMO_ERR_BAD_TIME: return "invalid time";
    case VMO_ERR_BAD_WINDOW: return "invalid time window";
    case VMO_ERR_NO_TIME_SOURCE: return "clip has no wall-clock time";
    case VMO_ERR_OVERLAP: return "duplicate or overlapping clips";
    case VMO_ERR_CANCELLED: return "cancelled";
    case VMO_ERR_INDEX_STALE: return "motion index is stale";
    case VMO_ERR_INDEX_CORRUPT: return "motion index is corrupt";
    case VMO_ERR_EXISTS: return "output already exists";
    case VMO_ERR_NO_SPACE: return "no space left for output";
    case VMO_ERR_MISMATCH: return "verification mismatch";
    case VMO_ERR_STATE: return "invalid call in this state";
    case VMO_ERR_LIMIT: return "limit exceeded";
    case VMO_ERR_BAD_MANIFEST: return "invalid manifest";
    default: return "unknown error";
    }
}
