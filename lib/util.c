/* Error buffers, sized-struct copies and other small helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

int vmo_err_set(vmo_errbuf *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

void vmo_err_clear(vmo_errbuf *err)
{
    if (err)
        err->msg[0] = '\0';
}

void vmo_err_copy(vmo_errbuf *dst, const vmo_errbuf *src)
{
    if (dst && src && dst != src)
        memcpy(dst->msg, src->msg, sizeof(dst->msg));
}

int vmo_copy_sized(void *dst, const void *src, size_t ours)
{
    uint32_t theirs;
    if (!dst)
        return VMO_ERR_INVALID_ARG;
    memcpy(&theirs, dst, sizeof(theirs));
    if (theirs < sizeof(uint32_t))
        return VMO_ERR_INVALID_ARG;
    /* Fields the caller knows but this library does not get zeroes. */
    if (theirs > ours)
        memset((char *)dst + ours, 0, theirs - ours);
    memcpy((char *)dst + sizeof(uint32_t), (const char *)src + sizeof(uint32_t),
           VMO_MIN(theirs, ours) - sizeof(uint32_t));
    return VMO_OK;
}

char *vmo_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

double vmo_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void vmo_free(void *ptr)
{
    free(ptr);
}
