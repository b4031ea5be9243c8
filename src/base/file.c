/* file.c - mappings and atomic writes (see file.h). */
#include "base/file.h"
#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int octo_map_file(const char *path, octo_mapping *out) {
    out->data = NULL;
    out->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return octo_fail("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return octo_fail("%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return octo_fail("%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return octo_fail("%s: file is empty", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return octo_fail("%s: cannot mmap: %s", path, strerror(e));
    out->data = p;
    out->size = (size_t)st.st_size;
    return 0;
}

void octo_unmap(octo_mapping *m) {
    if (m->data) munmap((void *)m->data, m->size);
    m->data = NULL;
    m->size = 0;
}

char *octo_read_file(const char *path, size_t *size_out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        octo_fail("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        octo_fail("%s: out of memory", path);
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                octo_fail("%s: out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        octo_fail("%s: read error", path);
        return NULL;
    }
    buf[n] = 0;
    if (size_out) *size_out = n;
    return buf;
}

static void fsync_dir_of(const char *path) {
    char *copy = strdup(path);
    if (!copy) return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

int octo_atomic_open(octo_atomic_file *af, const char *path) {
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    af->path = strdup(path);
    af->tmp_path = malloc(n + 32);
    if (!af->path || !af->tmp_path) {
        free(af->path);
        free(af->tmp_path);
        return octo_fail("%s: out of memory", path);
    }
    snprintf(af->tmp_path, n + 32, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(af->path);
        free(af->tmp_path);
        return octo_fail("%s: cannot create temp file: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        close(fd);
        unlink(af->tmp_path);
        free(af->path);
        free(af->tmp_path);
        return octo_fail("%s: fdopen failed", path);
    }
    return 0;
}

int octo_atomic_commit(octo_atomic_file *af) {
    int rc = 0;
    if (fflush(af->fp) != 0 || ferror(af->fp)) rc = octo_fail("%s: write failed: %s", af->path, strerror(errno));
    if (rc == 0 && fsync(fileno(af->fp)) != 0) rc = octo_fail("%s: fsync failed: %s", af->path, strerror(errno));
    if (fclose(af->fp) != 0 && rc == 0) rc = octo_fail("%s: close failed: %s", af->path, strerror(errno));
    af->fp = NULL;
    if (rc == 0 && rename(af->tmp_path, af->path) != 0) rc = octo_fail("%s: rename failed: %s", af->path, strerror(errno));
    if (rc != 0) unlink(af->tmp_path);
    else fsync_dir_of(af->path);
    free(af->path);
    free(af->tmp_path);
    af->path = af->tmp_path = NULL;
    return rc;
}

void octo_atomic_abort(octo_atomic_file *af) {
    if (af->fp) fclose(af->fp);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->path);
    free(af->tmp_path);
    memset(af, 0, sizeof *af);
}

int octo_write_file_atomic(const char *path, const void *data, size_t size) {
    octo_atomic_file af;
    if (octo_atomic_open(&af, path) != 0) return -1;
    if (size && fwrite(data, 1, size, af.fp) != size) {
        octo_atomic_abort(&af);
        return octo_fail("%s: write failed", path);
    }
    return octo_atomic_commit(&af);
}
