/* Helpers shared by the Check test programs. */
#ifndef VMO_TUTIL_H
#define VMO_TUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Path of a fixture clip named `name` (e.g. "box_h264.mp4"), made with FFmpeg on first use:
 * `ffmpeg_args` go between "ffmpeg -nostdin -v error -y" and the output path. Clips are
 * cached in $VMO_FIXTURES (ctest sets it to <build>/tests/fixtures) and written under a
 * temporary name first, so parallel tests can share them. Fails the test if FFmpeg fails.
 * The returned string is static storage owned by the helper (one per name). */
const char *tu_clip(const char *name, const char *ffmpeg_args);

/* Directory for scratch files of this test program (created on first use). */
const char *tu_tmpdir(void);

/* Seed for random test data: $VMO_TEST_SEED if set, else time-based. Printed once to
 * stderr so a failure can be replayed. */
uint32_t tu_seed(void);
/* xorshift32 step. */
uint32_t tu_rand(uint32_t *state);

/* Runs a shell command; returns its exit status (or -1). */
int tu_run(const char *fmt, ...);
/* Runs a command and returns its stdout (malloc'd, NUL-terminated) or NULL. */
char *tu_capture(const char *fmt, ...);

/* Reads a whole file (malloc'd; *size set) or NULL. */
void *tu_read_file(const char *path, size_t *size);
int tu_write_file(const char *path, const void *data, size_t size);

#endif
