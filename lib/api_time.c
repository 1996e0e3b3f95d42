/* Public time-string functions: argument checks over timefmt.c. */
#include <math.h>

#include "timefmt.h"

/* The public header promises a 32-byte buffer suffices; demanding it keeps callers honest
 * even though today's text needs only 25 bytes. */
#define FORMAT_BUF_MIN 32

VMO_API int vmo_parse_time(const char *text, double *seconds, int *kind)
{
    if (!text || !seconds || !kind)
        return VMO_ERR_INVALID_ARG;
    double v;
    int k;
    const int rc = vmo_time_parse(text, &v, &k);
    if (rc != VMO_OK) {
        /* Leave no stale value behind for callers that ignore the status. */
        *seconds = NAN;
        *kind = 0;
        return rc;
    }
    *seconds = v;
    *kind = k;
    return VMO_OK;
}

VMO_API int vmo_format_time(double posix, char *buf, size_t size)
{
    if (!buf)
        return VMO_ERR_INVALID_ARG;
    if (size < FORMAT_BUF_MIN) {
        if (size)
            buf[0] = '\0';
        return VMO_ERR_INVALID_ARG;
    }
    /* NaN, infinities and years outside 0000..9999 have no ISO text: "" and an error. */
    vmo_time_format_iso(posix, buf, size);
    return buf[0] ? VMO_OK : VMO_ERR_INVALID_ARG;
}
