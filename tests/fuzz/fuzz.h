/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c): contract checks and a walk over every
 * accessor of a result, so that what the library built from hostile input is also read
 * back (ASan sees a short array only when something reads it). */
#ifndef VMO_FUZZ_H
#define VMO_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <vidmotion/vidmotion.h>

/* A broken contract is a finding like a crash: abort with the line, so libFuzzer keeps the
 * input. (Only the test code aborts; the library never does.) */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))
void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* 1 when `rc` is VMO_OK or one of the documented error codes. */
int fuzz_known_status(int rc);

/* Reads every clip, zone, event, event source and series of `res` and checks their
 * ranges, then renders it as JSON. */
void fuzz_walk_result(const vmo_result *res);
/* The same without the range checks: every accessor is read and the JSON rendered, but
 * values are taken as they are (for results loaded from bytes, whose values the loader
 * does not check: docs/fuzzing.md). */
void fuzz_walk_result_loose(const vmo_result *res);

/* A NUL-terminated copy of at most `max` bytes of data (malloc'd; aborts on no memory). */
char *fuzz_strndup(const uint8_t *data, size_t size, size_t max);

/* Copies a file (a target's seed clip into its temporary folder); a failure is fatal. */
void fuzz_copy_file(const char *from, const char *to);

/* An analyzer small and serial enough for a fuzzer: 32 px wide, one decode thread, one clip
 * at a time, per-frame series kept, one include zone "left" = `left_zone`. */
vmo_analyzer *fuzz_small_analyzer(const char *left_zone);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
