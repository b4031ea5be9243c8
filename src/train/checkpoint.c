/* checkpoint.c - save and load a training run (see checkpoint.h). */
#include "train/checkpoint.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"

#define MAGIC "OCTOCKPT"
#define VERSION 1u
#define HEADER 32 /* magic, version, reserved, file size, meta length */

/* ---- checksum: a multiply-xorshift over 8-byte words, streamed ---- */

typedef struct {
    uint64_t h;
    unsigned char buf[8];
    int nbuf;
} hasher;

static inline uint64_t hmix(uint64_t h, uint64_t w) {
    h ^= w;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static void hash_update(hasher *hs, const void *data, size_t n) {
    const unsigned char *p = data;
    while (n && hs->nbuf) {
        hs->buf[hs->nbuf++] = *p++;
        n--;
        if (hs->nbuf == 8) {
            uint64_t w;
            memcpy(&w, hs->buf, 8);
            hs->h = hmix(hs->h, w);
            hs->nbuf = 0;
        }
    }
    uint64_t h = hs->h;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = hmix(h, w);
    }
    hs->h = h;
    while (n--) hs->buf[hs->nbuf++] = *p++;
}

static uint64_t hash_final(const hasher *hs) {
    uint64_t w = 0;
    memcpy(&w, hs->buf, (size_t)hs->nbuf);
    return hmix(hmix(hs->h, w), (uint64_t)hs->nbuf + 0x5bd1e995);
}

const char *octo_ckpt_file(const char *dir) {
    static _Thread_local char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    return path;
}

/* ---- save ---- */

typedef struct {
    octo_atomic_file af;
    hasher hs;
    int failed;
} writer;

static void put(writer *w, const void *p, size_t n) {
    if (w->failed || n == 0) return;
    if (fwrite(p, 1, n, w->af.fp) != n) w->failed = 1;
    hash_update(&w->hs, p, n);
}

/* A save killed mid-write leaves its temp file behind; the next save of the
 * same directory removes it. */
static void remove_stale_temps(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "checkpoint.bin.tmp.", 19)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

static char *meta_json(const octo_ckpt_pos *pos, const char *config, const octo_param *params, int n_params) {
    cJSON *m = cJSON_CreateObject(), *cfg = cJSON_Parse(config ? config : "{}");
    if (!m || !cfg || !cJSON_IsObject(cfg)) {
        cJSON_Delete(m);
        cJSON_Delete(cfg);
        return NULL;
    }
    char rng[32];
    snprintf(rng, sizeof rng, "%016" PRIx64, pos->rng);
    cJSON_AddNumberToObject(m, "step", (double)pos->step);
    cJSON_AddNumberToObject(m, "epoch", pos->epoch);
    cJSON_AddNumberToObject(m, "batch", pos->batch);
    cJSON_AddNumberToObject(m, "tokens", (double)pos->tokens);
    cJSON_AddStringToObject(m, "rng", rng);
    cJSON_AddItemToObject(m, "config", cfg);
    cJSON *ps = cJSON_AddArrayToObject(m, "params");
    for (int i = 0; ps && i < n_params; i++) {
        cJSON *p = cJSON_CreateArray();
        cJSON_AddItemToArray(p, cJSON_CreateString(params[i].name ? params[i].name : ""));
        cJSON_AddItemToArray(p, cJSON_CreateNumber((double)params[i].rows));
        cJSON_AddItemToArray(p, cJSON_CreateNumber((double)params[i].cols));
        cJSON_AddItemToArray(ps, p);
    }
    char *s = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    return s;
}

int octo_ckpt_save(const char *dir, const octo_ckpt_pos *pos, const char *config, const octo_param *params,
                   int n_params, const octo_adamw *opt) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return octo_fail("checkpoint %s: cannot create the directory: %s", dir, strerror(errno));
    remove_stale_temps(dir);
    char *meta = meta_json(pos, config, params, n_params);
    if (!meta) return octo_fail("checkpoint %s: the run's config is not a JSON object", dir);
    size_t opt_bytes = octo_adamw_state_bytes(opt);
    void *opt_state = malloc(opt_bytes);
    if (!opt_state) {
        free(meta);
        return octo_fail("checkpoint %s: out of memory", dir);
    }
    octo_adamw_state_save(opt, opt_state);
    uint64_t meta_len = strlen(meta), pad = (8 - meta_len % 8) % 8;
    uint64_t size = HEADER + meta_len + pad + 8 + opt_bytes + 8;
    for (int i = 0; i < n_params; i++) size += (uint64_t)params[i].n * sizeof(float);

    writer w = {.hs = {.h = 0x243F6A8885A308D3ull}};
    if (octo_atomic_open(&w.af, octo_ckpt_file(dir)) != 0) {
        free(meta);
        free(opt_state);
        return -1;
    }
    uint32_t ver[2] = {VERSION, 0};
    uint64_t lens[2] = {size, meta_len}, zero = 0, ob = opt_bytes;
    put(&w, MAGIC, 8);
    put(&w, ver, 8);
    put(&w, lens, 16);
    put(&w, meta, meta_len);
    put(&w, &zero, pad);
    for (int i = 0; i < n_params; i++) put(&w, params[i].data, (size_t)params[i].n * sizeof(float));
    put(&w, &ob, 8);
    put(&w, opt_state, opt_bytes);
    uint64_t sum = hash_final(&w.hs);
    put(&w, &sum, 8);
    free(meta);
    free(opt_state);
    if (w.failed) {
        octo_atomic_abort(&w.af);
        return octo_fail("checkpoint %s: write failed (disk full?)", dir);
    }
    return octo_atomic_commit(&w.af);
}

/* ---- load ---- */

/* Every key of want must be in have with the same value, and no more keys. */
static int compare_config(const char *dir, const cJSON *have, const cJSON *want) {
    const cJSON *it;
    cJSON_ArrayForEach(it, want) {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(have, it->string);
        if (h && cJSON_Compare(h, it, 1)) continue;
        char *a = h ? cJSON_PrintUnformatted(h) : NULL, *b = cJSON_PrintUnformatted(it);
        octo_fail("resume: checkpoint %s was written with %s=%s, this run has %s=%s (resume with the same settings)",
                  dir, it->string, a ? a : "(none)", it->string, b ? b : "?");
        free(a);
        free(b);
        return -1;
    }
    cJSON_ArrayForEach(it, have) {
        if (!cJSON_GetObjectItemCaseSensitive(want, it->string))
            return octo_fail("resume: checkpoint %s has setting %s, which this run does not know", dir, it->string);
    }
    return 0;
}

static int get_int(const cJSON *m, const char *key, double lo, double hi, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi || v->valuedouble != (double)(int64_t)v->valuedouble)
        return -1;
    *out = v->valuedouble;
    return 0;
}

int octo_ckpt_load(const char *dir, const char *config, octo_ckpt_pos *pos, octo_param *params, int n_params,
                   octo_adamw *opt) {
    const char *path = octo_ckpt_file(dir);
    octo_mapping map;
    if (octo_map_file(path, &map) != 0) return octo_fail_context("resume");
    const unsigned char *d = map.data;
    int rc = -1;
    cJSON *meta = NULL, *want = NULL;
    uint32_t ver[2];
    uint64_t lens[2], sum;
    if (map.size < HEADER + 16 || memcmp(d, MAGIC, 8) != 0) {
        octo_fail("resume: %s: not an octo checkpoint", path);
        goto done;
    }
    memcpy(ver, d + 8, 8);
    memcpy(lens, d + 16, 16);
    if (ver[0] != VERSION) {
        octo_fail("resume: %s: checkpoint version %u, expected %u", path, ver[0], VERSION);
        goto done;
    }
    if (lens[0] != map.size) {
        octo_fail("resume: %s: truncated or damaged (%zu bytes, the header says %" PRIu64 ")", path, map.size, lens[0]);
        goto done;
    }
    hasher hs = {.h = 0x243F6A8885A308D3ull};
    hash_update(&hs, d, map.size - 8);
    memcpy(&sum, d + map.size - 8, 8);
    if (sum != hash_final(&hs)) {
        octo_fail("resume: %s: checksum mismatch (the file is damaged)", path);
        goto done;
    }
    /* the checksum holds, so the sizes below were written by octo_ckpt_save;
     * they are still bounds-checked against the file */
    uint64_t meta_len = lens[1];
    if (meta_len > map.size - HEADER - 16) {
        octo_fail("resume: %s: bad meta length", path);
        goto done;
    }
    meta = cJSON_ParseWithLength((const char *)d + HEADER, meta_len);
    want = cJSON_Parse(config ? config : "{}");
    if (!meta || !want) {
        octo_fail("resume: %s: %s", path, meta ? "this run's config is not JSON" : "the metadata is not JSON");
        goto done;
    }
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(meta, "config");
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(meta, "params");
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(meta, "rng");
    double step, epoch, batch, tokens;
    if (!cJSON_IsObject(cfg) || !cJSON_IsArray(ps) || !cJSON_IsString(rng) ||
        get_int(meta, "step", 0, 9e15, &step) || get_int(meta, "epoch", 0, 1e9, &epoch) ||
        get_int(meta, "batch", 0, 2e9, &batch) || get_int(meta, "tokens", 0, 9e15, &tokens)) {
        octo_fail("resume: %s: the metadata lacks step, epoch, batch, tokens, rng, config or params", path);
        goto done;
    }
    if (compare_config(dir, cfg, want) != 0) goto done;
    if (cJSON_GetArraySize(ps) != n_params) {
        octo_fail("resume: %s holds %d trainable tensors, this run has %d", path, cJSON_GetArraySize(ps), n_params);
        goto done;
    }
    uint64_t off = HEADER + meta_len + (8 - meta_len % 8) % 8;
    for (int i = 0; i < n_params; i++) {
        const cJSON *p = cJSON_GetArrayItem(ps, i);
        const cJSON *name = cJSON_GetArrayItem(p, 0), *rows = cJSON_GetArrayItem(p, 1), *cols = cJSON_GetArrayItem(p, 2);
        const char *want_name = params[i].name ? params[i].name : "";
        if (!cJSON_IsString(name) || !cJSON_IsNumber(rows) || !cJSON_IsNumber(cols) ||
            strcmp(name->valuestring, want_name) != 0 || rows->valuedouble != (double)params[i].rows ||
            cols->valuedouble != (double)params[i].cols) {
            octo_fail("resume: %s: tensor %d is %s, this run expects %s [%lld x %lld]", path, i,
                      cJSON_IsString(name) ? name->valuestring : "?", want_name, (long long)params[i].rows,
                      (long long)params[i].cols);
            goto done;
        }
        off += (uint64_t)params[i].n * sizeof(float);
        if (off > map.size - 16) {
            octo_fail("resume: %s: parameter data runs past the end", path);
            goto done;
        }
    }
    uint64_t ob;
    memcpy(&ob, d + off, 8);
    if (ob != map.size - 16 - off) {
        octo_fail("resume: %s: optimizer state of %" PRIu64 " bytes does not fit the file", path, ob);
        goto done;
    }
    if (octo_adamw_state_load(opt, d + off + 8, ob) != 0) {
        octo_fail_context("resume: %s", path);
        goto done;
    }
    /* everything checked: copy the parameters */
    off = HEADER + meta_len + (8 - meta_len % 8) % 8;
    for (int i = 0; i < n_params; i++) {
        memcpy(params[i].data, d + off, (size_t)params[i].n * sizeof(float));
        off += (uint64_t)params[i].n * sizeof(float);
    }
    pos->step = (int64_t)step;
    pos->epoch = (int)epoch;
    pos->batch = (int)batch;
    pos->tokens = (int64_t)tokens;
    pos->rng = strtoull(rng->valuestring, NULL, 16);
    rc = 0;
done:
    cJSON_Delete(meta);
    cJSON_Delete(want);
    octo_unmap(&map);
    return rc;
}
