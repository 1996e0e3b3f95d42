/* Atomic output files: the one way the library writes a file, so that a file appears under
 * its final name complete or not at all.
 *
 * A file is written under a hidden temporary name in its final folder, ".NAME.PID.N.part":
 * the same file system, so the final rename is atomic; hidden, so a process killed at any
 * moment (even SIGKILL) leaves nothing that looks like a finished file. It is fsync'ed
 * before the rename, so a crash cannot leave a complete name on incomplete data.
 *
 * Lifecycle: init -> open (creates the temporary file) -> write / write_at -> finish (fsync,
 * close) -> commit (rename; never replaces unless asked) -> discard (always: removes the
 * temporary file if it was not committed and, on rollback, the committed one).
 *
 * Users: the export's clips, thumbnails and manifest, and the motion index.
 *
 * errno maps to a status the same way everywhere (vmo_errno_status): ENOSPC, EDQUOT and EFBIG
 * (disk full, quota, file size limit) give VMO_ERR_NO_SPACE; ENOMEM VMO_ERR_NO_MEMORY; EEXIST
 * VMO_ERR_EXISTS; anything else (EACCES, EPERM, EROFS, EIO, ...) VMO_ERR_IO. */
#ifndef VMO_ATOMIC_H
#define VMO_ATOMIC_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

typedef struct vmo_afile {
    char *final_path;
    char *tmp_path;
    int fd;          /* -1 when closed; callers may lseek/fstat it (an FFmpeg AVIO does) */
    int write_errno; /* first errno of a failed write (read back by AVIO callbacks) */
    int committed;   /* renamed to final_path */
} vmo_afile;

/* A closed file with no paths: discard is then a no-op. */
void vmo_afile_init(vmo_afile *f);
/* Creates the temporary file next to final_path (mode 0644 less the umask). Names taken by
 * stale temporaries (of a dead process that had the same pid) are skipped, not removed. */
int vmo_afile_open(vmo_afile *f, const char *final_path, vmo_errbuf *err);
/* write(2) of the whole buffer at the file position (EINTR and short writes handled). */
int vmo_afile_write(vmo_afile *f, const void *data, size_t size, vmo_errbuf *err);
/* pwrite(2) of the whole buffer at `offset` (>= 0), for a header written last. */
int vmo_afile_write_at(vmo_afile *f, const void *data, size_t size, int64_t offset,
                       vmo_errbuf *err);
/* fsync and close: the data is on disk under the temporary name. */
int vmo_afile_finish(vmo_afile *f, vmo_errbuf *err);
/* Renames the finished file to its final name. Without `overwrite`, an existing final file
 * is never replaced (VMO_ERR_EXISTS), not even one created since the caller checked. */
int vmo_afile_commit(vmo_afile *f, int overwrite, vmo_errbuf *err);
/* Removes the temporary file (if any) and, when `rollback`, a committed final file. Frees
 * the paths. Safe to call twice. */
void vmo_afile_discard(vmo_afile *f, int rollback);

/* fsync of the folder holding `path`, so that renames into it survive a crash. */
int vmo_fsync_dir(const char *path, vmo_errbuf *err);

/* errno of a failed output operation -> VMO_ERR_* (see above). */
int vmo_errno_status(int e);
/* Sets err to "WHAT PATH: strerror(e) (hint)" and returns vmo_errno_status(e). */
int vmo_err_errno(vmo_errbuf *err, int e, const char *what, const char *path);

#endif
