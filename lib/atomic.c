/* Atomic output files (atomic.h): temporary name in the final folder, write, fsync, rename
 * or link into place, cleanup of everything after a failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"

/* Temporary names tried before giving up: each is one failed open(), and a folder holds at
 * most a few stale temporaries per killed run. */
#define AFILE_NAME_TRIES 1000

/* ------------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------------- */

int vmo_errno_status(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return VMO_ERR_NO_SPACE;
    case ENOMEM:
        return VMO_ERR_NO_MEMORY;
    case EEXIST:
        return VMO_ERR_EXISTS;
    default:
        return VMO_ERR_IO; /* EACCES, EPERM, EROFS, EIO, ... */
    }
}

int vmo_err_errno(vmo_errbuf *err, int e, const char *what, const char *path)
{
    int code = vmo_errno_status(e);
    /* The hint says what the user can do about it; strerror alone does not for EFBIG. */
    const char *hint = code == VMO_ERR_NO_SPACE      ? " (disk full or file size limit)"
                       : (e == EACCES || e == EPERM) ? " (no write permission)"
                       : e == EROFS                  ? " (read-only file system)"
                                                     : "";
    return vmo_err_set(err, code, "%s %s: %s%s", what, path, strerror(e), hint);
}

/* ------------------------------------------------------------------------------------------
 * Files
 * ---------------------------------------------------------------------------------------- */

void vmo_afile_init(vmo_afile *f)
{
    memset(f, 0, sizeof(*f));
    f->fd = -1;
}

static char *tmp_name_for(const char *final_path)
{
    static unsigned counter;
    const char *slash = strrchr(final_path, '/');
    size_t dirlen = slash ? (size_t)(slash - final_path) + 1 : 0;
    const char *base = final_path + dirlen;
    size_t n = strlen(final_path) + 64;
    char *tmp = malloc(n);
    if (tmp)
        /* Hidden, and unique per process and file: a killed run leaves only such names. */
        snprintf(tmp, n, "%.*s.%s.%ld.%u.part", (int)dirlen, final_path, base, (long)getpid(),
                 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    return tmp;
}

/* Creates a temporary file under the next free name; errno on failure. A taken name is
 * skipped, never removed: it is a stale temporary of a dead process that had our pid (pids
 * are reused, and in a container the first process always gets the same one), or a live
 * writer's on a folder shared between hosts or containers. */
static int create_tmp(vmo_afile *f)
{
    int e = EEXIST;
    for (int tries = 0; e == EEXIST && tries < AFILE_NAME_TRIES; tries++) {
        free(f->tmp_path);
        f->tmp_path = tmp_name_for(f->final_path);
        if (!f->tmp_path)
            return ENOMEM;
        f->fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        e = f->fd < 0 ? errno : 0;
    }
    return e;
}

int vmo_afile_open(vmo_afile *f, const char *final_path, vmo_errbuf *err)
{
    vmo_afile_init(f);
    f->final_path = vmo_strdup(final_path);
    int e = f->final_path ? create_tmp(f) : ENOMEM;
    if (e == ENOMEM && !f->tmp_path) {
        vmo_afile_discard(f, 0);
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    if (e) {
        int rc = vmo_err_errno(err, e, "cannot create", f->tmp_path);
        free(f->tmp_path); /* nothing was created: nothing to unlink */
        f->tmp_path = NULL;
        vmo_afile_discard(f, 0);
        return rc;
    }
    return VMO_OK;
}

/* Writes the whole buffer at `offset`, or at the file position when it is negative (EINTR
 * and short writes handled). The first errno is kept for callers that only see a code. */
static int write_loop(vmo_afile *f, const void *data, size_t size, int64_t offset, vmo_errbuf *err)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = offset < 0 ? write(f->fd, p, size) : pwrite(f->fd, p, size, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : ENOSPC;
            if (!f->write_errno)
                f->write_errno = e;
            return vmo_err_errno(err, e, "cannot write", f->tmp_path);
        }
        p += n;
        size -= (size_t)n;
        if (offset >= 0)
            offset += n;
    }
    return VMO_OK;
}

int vmo_afile_write(vmo_afile *f, const void *data, size_t size, vmo_errbuf *err)
{
    return write_loop(f, data, size, -1, err);
}

int vmo_afile_write_at(vmo_afile *f, const void *data, size_t size, int64_t offset, vmo_errbuf *err)
{
    return offset < 0 ? vmo_err_set(err, VMO_ERR_INVALID_ARG, "negative file offset")
                      : write_loop(f, data, size, offset, err);
}

int vmo_afile_finish(vmo_afile *f, vmo_errbuf *err)
{
    if (f->fd < 0)
        return VMO_OK;
    int rc = VMO_OK;
    /* fsync before the rename: a crash must not leave a complete name on incomplete data. */
    if (fsync(f->fd) != 0)
        rc = vmo_err_errno(err, errno, "cannot sync", f->tmp_path);
    if (close(f->fd) != 0 && rc == VMO_OK)
        rc = vmo_err_errno(err, errno, "cannot close", f->tmp_path);
    f->fd = -1;
    return rc;
}

int vmo_afile_commit(vmo_afile *f, int overwrite, vmo_errbuf *err)
{
    if (!overwrite) {
        /* link() fails with EEXIST instead of replacing, closing the window between the
         * caller's check and now. */
        if (link(f->tmp_path, f->final_path) == 0) {
            unlink(f->tmp_path);
            f->committed = 1;
            return VMO_OK;
        }
        if (errno == EEXIST)
            return vmo_err_set(err, VMO_ERR_EXISTS, "%s exists (overwrite not set)", f->final_path);
        /* File systems without hard links: check, then rename. */
        if (access(f->final_path, F_OK) == 0)
            return vmo_err_set(err, VMO_ERR_EXISTS, "%s exists (overwrite not set)", f->final_path);
    }
    if (rename(f->tmp_path, f->final_path) != 0)
        return vmo_err_errno(err, errno, "cannot rename to", f->final_path);
    f->committed = 1;
    return VMO_OK;
}

void vmo_afile_discard(vmo_afile *f, int rollback)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->tmp_path && !f->committed)
        unlink(f->tmp_path);
    if (rollback && f->committed && f->final_path)
        unlink(f->final_path);
    free(f->tmp_path);
    free(f->final_path);
    f->tmp_path = f->final_path = NULL;
    f->committed = 0;
}

/* ------------------------------------------------------------------------------------------
 * Folders
 * ---------------------------------------------------------------------------------------- */

int vmo_fsync_dir(const char *path, vmo_errbuf *err)
{
    char *dir = vmo_strdup(path);
    if (!dir)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int rc = VMO_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* Some file systems cannot sync a folder (EINVAL, ENOTSUP): the files themselves were
     * synced, and failing now would throw away outputs that are complete. */
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP))
        rc = vmo_err_errno(err, errno, "cannot sync directory", dir);
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}
