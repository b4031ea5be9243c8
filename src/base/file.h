/* file.h - files on disk: read-only mappings and atomic replacement.
 *
 * Models are mapped, never copied, so a 1 GB model costs page cache, not heap.
 * Everything octo writes goes through octo_atomic_*: a temp file beside the
 * target, fsync, rename, fsync of the directory, so a crash or a kill leaves
 * either the old file or the new one, never half of one.
 */
#ifndef OCTO_BASE_FILE_H
#define OCTO_BASE_FILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    const unsigned char *data;
    size_t size;
} octo_mapping;

/* Map a whole file read-only. Returns 0 or -1 (error set). */
int octo_map_file(const char *path, octo_mapping *out);
void octo_unmap(octo_mapping *m);

/* Read a whole file into a NUL-terminated heap buffer. */
char *octo_read_file(const char *path, size_t *size_out);

/* Atomic write: open a temp file next to `path`, write through the FILE*,
 * then commit (flush, fsync, rename, fsync dir) or abort (unlink). */
typedef struct {
    FILE *fp;
    char *path;
    char *tmp_path;
} octo_atomic_file;

int octo_atomic_open(octo_atomic_file *af, const char *path);
int octo_atomic_commit(octo_atomic_file *af);
void octo_atomic_abort(octo_atomic_file *af);

/* Convenience: write a buffer atomically. */
int octo_write_file_atomic(const char *path, const void *data, size_t size);

#endif
