/* Shared internals of libvidmotion: error detail buffers, small helpers. Not installed. */
#ifndef VMO_INTERNAL_H
#define VMO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vidmotion/vidmotion.h"

#define VMO_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VMO_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VMO_MAX(a, b) ((a) > (b) ? (a) : (b))
#define VMO_CLAMP(v, lo, hi) VMO_MIN(VMO_MAX(v, lo), hi)

#if defined(__GNUC__)
#define VMO_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define VMO_PRINTF(fmt, args)
#endif

/* Error detail carried by every handle. vmo_err_set() formats the message and returns the
 * code, so call sites read `return vmo_err_set(err, VMO_ERR_IO, "cannot open %s", p);`. */
typedef struct vmo_errbuf {
    char msg[512];
} vmo_errbuf;

int vmo_err_set(vmo_errbuf *err, int code, const char *fmt, ...) VMO_PRINTF(3, 4);
void vmo_err_clear(vmo_errbuf *err);
/* Copies src into dst (both may be NULL-safe): used when an inner object failed. */
void vmo_err_copy(vmo_errbuf *dst, const vmo_errbuf *src);

/* Public structs carry struct_size: copy min(caller's size, ours) bytes. */
int vmo_copy_sized(void *dst, const void *src, size_t ours);

/* strdup that returns NULL on NULL input. */
char *vmo_strdup(const char *s);

/* Library log (routed like FFmpeg's; silent unless vmo_set_log_callback was called). */
void vmo_log(int level, const char *fmt, ...) VMO_PRINTF(2, 3);
/* Installs the av_log bridge once per process (idempotent, thread-safe). */
void vmo_log_init_ffmpeg(void);

/* Monotonic clock in seconds (progress and benches). */
double vmo_now(void);

#endif
