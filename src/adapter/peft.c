/* peft.c - import and export of PEFT LoRA directories (see peft.h): module
 * names mapped between Hugging Face and GGUF, llama's q/k row permutation,
 * and adapter_config.json.
 */
#include "adapter/peft.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapter/safetensors.h"
#include "base/error.h"
#include "base/file.h"
#include "model/model.h"

static const char *k_prefix = "base_model.model.";

/* GGUF block tensor <-> Hugging Face module inside model.layers.N */
static const struct {
    const char *gguf, *hf;
} k_map[] = {
    {"attn_q", "self_attn.q_proj"},     {"attn_k", "self_attn.k_proj"},   {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.o_proj"}, {"attn_qkv", "self_attn.qkv_proj"}, {"ffn_gate", "mlp.gate_proj"},
    {"ffn_up", "mlp.up_proj"},           {"ffn_down", "mlp.down_proj"},     {"ffn_up", "mlp.gate_up_proj"},
};

static bool is_phi3(const char *arch) { return arch && strcmp(arch, "phi3") == 0; }

/* "blk.3.attn_q.weight" -> "base_model.model.model.layers.3.self_attn.q_proj" */
static int gguf_to_hf(const char *name, const char *arch, char *out, size_t cap) {
    if (strcmp(name, "output.weight") == 0) {
        snprintf(out, cap, "%slm_head", k_prefix);
        return 0;
    }
    int il, used = 0;
    char part[64];
    if (sscanf(name, "blk.%d.%63[a-z_].weight%n", &il, part, &used) != 2 || name[used] != 0 || il < 0)
        return octo_fail("adapter tensor %s has no Hugging Face module name", name);
    const char *hf = NULL;
    for (size_t i = 0; i < sizeof k_map / sizeof k_map[0] && !hf; i++)
        if (strcmp(part, k_map[i].gguf) == 0) hf = k_map[i].hf;
    if (hf && strcmp(part, "ffn_up") == 0 && is_phi3(arch)) hf = "mlp.gate_up_proj"; /* fused gate+up */
    if (!hf) return octo_fail("adapter tensor %s has no Hugging Face module name", name);
    snprintf(out, cap, "%smodel.layers.%d.%s", k_prefix, il, hf);
    return 0;
}

/* The inverse; the base_model.model. prefix is optional. */
static int hf_to_gguf(const char *module, char *out, size_t cap) {
    const char *s = module;
    if (strncmp(s, k_prefix, strlen(k_prefix)) == 0) s += strlen(k_prefix);
    if (strcmp(s, "lm_head") == 0) {
        snprintf(out, cap, "output.weight");
        return 0;
    }
    int il, used = 0;
    if (sscanf(s, "model.layers.%d.%n", &il, &used) != 1 || used == 0 || il < 0 || il > 100000)
        return octo_fail("PEFT module %s is not a decoder layer projection or lm_head", module);
    for (size_t i = 0; i < sizeof k_map / sizeof k_map[0]; i++)
        if (strcmp(s + used, k_map[i].hf) == 0) {
            snprintf(out, cap, "blk.%d.%s.weight", il, k_map[i].gguf);
            return 0;
        }
    return octo_fail("PEFT module %s: unknown projection \"%s\" (expected q/k/v/o_proj, qkv_proj, gate/up/down_proj, "
                     "gate_up_proj)",
                     module, s + used);
}

/* llama.cpp's converter stores llama's q and k rows per head as
 * [head_dim/2][2] where Hugging Face has [2][head_dim/2]: GGUF row
 * h*hd + 2i + j is HF row h*hd + j*hd/2 + i.  Permutes B's rows in place. */
static int permute_rows(float *b, int64_t rows, int rank, int n_heads, bool to_gguf, const char *name) {
    if (n_heads <= 0 || rows % n_heads || (rows / n_heads) % 2)
        return octo_fail("%s: llama q/k rows (%lld) need the base model's head count to be reordered (give the base "
                         "model)",
                         name, (long long)rows);
    int64_t hd = rows / n_heads, half = hd / 2;
    float *tmp = malloc((size_t)rows * (size_t)rank * sizeof(float));
    if (!tmp) return octo_fail("out of memory");
    for (int64_t h = 0; h < n_heads; h++)
        for (int64_t i = 0; i < half; i++)
            for (int64_t j = 0; j < 2; j++) {
                int64_t g = h * hd + 2 * i + j, f = h * hd + j * half + i;
                int64_t dst = to_gguf ? g : f, src = to_gguf ? f : g;
                memcpy(tmp + dst * rank, b + src * rank, (size_t)rank * sizeof(float));
            }
    memcpy(b, tmp, (size_t)rows * (size_t)rank * sizeof(float));
    free(tmp);
    return 0;
}

/* Heads to permute with for tensor `name` of a llama adapter, 0 if none. */
static int llama_perm_heads(const char *arch, const char *name, int n_head, int n_head_kv) {
    if (!arch || strcmp(arch, "llama") != 0) return 0;
    size_t n = strlen(name);
    if (n > 14 && strcmp(name + n - 14, ".attn_q.weight") == 0) return n_head > 0 ? n_head : -1;
    if (n > 14 && strcmp(name + n - 14, ".attn_k.weight") == 0) return n_head_kv > 0 ? n_head_kv : -1;
    return 0;
}

static void path_join(char *out, size_t cap, const char *dir, const char *file) {
    snprintf(out, cap, "%s/%s", dir, file);
}

/* ---- import ---- */

static int read_config(const char *path, float *alpha, bool *rslora) {
    size_t size;
    char *text = octo_read_file(path, &size);
    if (!text) return -1;
    cJSON *c = cJSON_ParseWithLength(text, size);
    free(text);
    int rc = 0;
    if (!cJSON_IsObject(c)) {
        rc = octo_fail("%s: not a JSON object", path);
        goto done;
    }
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(c, "peft_type");
    if (pt && (!cJSON_IsString(pt) || strcmp(pt->valuestring, "LORA") != 0)) {
        rc = octo_fail("%s: peft_type is not \"LORA\"", path);
        goto done;
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "lora_alpha");
    if (!cJSON_IsNumber(a) || !isfinite(a->valuedouble)) {
        rc = octo_fail("%s: lora_alpha (a number) is required", path);
        goto done;
    }
    *alpha = (float)a->valuedouble;
    const cJSON *bias = cJSON_GetObjectItemCaseSensitive(c, "bias");
    if (bias && cJSON_IsString(bias) && strcmp(bias->valuestring, "none") != 0) {
        rc = octo_fail("%s: bias \"%s\": only adapters without bias terms (\"none\") are supported", path,
                       bias->valuestring);
        goto done;
    }
    const char *unsupported[] = {"use_dora", "fan_in_fan_out"};
    for (int i = 0; i < 2; i++)
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, unsupported[i]))) {
            rc = octo_fail("%s: %s is true, which octo does not support", path, unsupported[i]);
            goto done;
        }
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(c, "alpha_pattern");
    if (ap && cJSON_IsObject(ap) && ap->child) {
        rc = octo_fail("%s: alpha_pattern is not supported (one lora_alpha for all modules)", path);
        goto done;
    }
    *rslora = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "use_rslora"));
done:
    cJSON_Delete(c);
    return rc;
}

static int meta_int(const octo_st_file *st, const char *key) {
    const char *v = octo_st_meta(st, key);
    if (!v) return 0;
    char *end;
    long x = strtol(v, &end, 10);
    return *end || x <= 0 || x > (1 << 20) ? 0 : (int)x;
}

static bool name_has(const octo_st_file *st, const char *part) {
    for (int i = 0; i < st->n; i++)
        if (strstr(st->t[i].name, part)) return true;
    return false;
}

octo_lora *octo_peft_load(const char *dir, const octo_peft_info *info) {
    char path[4096];
    float alpha = 0;
    bool rslora = false;
    path_join(path, sizeof path, dir, "adapter_config.json");
    if (read_config(path, &alpha, &rslora)) return NULL;
    path_join(path, sizeof path, dir, "adapter_model.safetensors");
    octo_st_file *st = octo_st_open(path);
    if (!st) return NULL;
    /* what the file says wins over the base, so that an adapter made for
     * another architecture is refused by the check against the base */
    const char *arch = octo_st_meta(st, "octo.architecture");
    int n_head = meta_int(st, "octo.head_count"), n_head_kv = meta_int(st, "octo.head_count_kv");
    if (!arch || !arch[0]) {
        arch = info ? info->arch : NULL;
        if (!arch && (name_has(st, ".qkv_proj.") || name_has(st, ".gate_up_proj."))) arch = "phi3";
    }
    if (info && info->n_head && info->arch && arch && !strcmp(info->arch, arch)) {
        n_head = info->n_head;
        n_head_kv = info->n_head_kv;
    }
    octo_lora *l = octo_lora_new(arch, alpha);
    if (!l) goto fail;
    for (int i = 0; i < st->n; i++) {
        const octo_st_tensor *ta = &st->t[i];
        size_t n = strlen(ta->name);
        const char *sa = ".lora_A.weight", *sb = ".lora_B.weight";
        size_t ls = strlen(sa);
        if (n > ls && strcmp(ta->name + n - ls, sb) == 0) { /* taken with its lora_A */
            char aname[1100];
            snprintf(aname, sizeof aname, "%.*s%s", (int)(n - ls), ta->name, sa);
            if (!octo_st_find(st, aname)) {
                octo_fail("%s: %s has no matching lora_A", path, ta->name);
                goto fail;
            }
            continue;
        }
        if (n <= ls || strcmp(ta->name + n - ls, sa) != 0 || n - ls >= 1024) {
            octo_fail("%s: tensor %s is not <module>.lora_A.weight or .lora_B.weight", path, ta->name);
            goto fail;
        }
        char module[1024], bname[1100], gname[256];
        snprintf(module, sizeof module, "%.*s", (int)(n - ls), ta->name);
        snprintf(bname, sizeof bname, "%s%s", module, sb);
        const octo_st_tensor *tb = octo_st_find(st, bname);
        if (!tb) {
            octo_fail("%s: %s has no matching lora_B", path, ta->name);
            goto fail;
        }
        if (hf_to_gguf(module, gname, sizeof gname)) goto fail;
        /* torch order: A [r, in], B [out, r] */
        if (ta->n_dims != 2 || tb->n_dims != 2 || ta->shape[0] != tb->shape[1]) {
            octo_fail("%s: %s: lora_A must be [r, in] and lora_B [out, r] with the same r", path, module);
            goto fail;
        }
        if (ta->shape[0] > (1 << 16)) {
            octo_fail("%s: %s: rank %lld is out of range", path, module, (long long)ta->shape[0]);
            goto fail;
        }
        int rank = (int)ta->shape[0];
        int k = octo_lora_add(l, gname, tb->shape[0], ta->shape[1], rank);
        if (k < 0) goto fail;
        octo_lora_tensor *t = &l->t[k];
        octo_st_read_f32(ta, t->a);
        octo_st_read_f32(tb, t->b);
        int64_t nb = t->rows * rank;
        for (int64_t j = 0; j < nb; j++)
            if (!isfinite(t->b[j])) {
                octo_fail("%s: %s holds a NaN or infinity", path, bname);
                goto fail;
            }
        for (int64_t j = 0; j < (int64_t)rank * t->cols; j++)
            if (!isfinite(t->a[j])) {
                octo_fail("%s: %s holds a NaN or infinity", path, ta->name);
                goto fail;
            }
        /* rsLoRA scales by alpha/sqrt(r); octo's alpha/r: fold the rest into B */
        if (rslora)
            for (int64_t j = 0; j < nb; j++) t->b[j] *= sqrtf((float)rank);
        int heads = llama_perm_heads(arch, gname, n_head, n_head_kv);
        if (heads != 0 && permute_rows(t->b, t->rows, rank, heads, true, gname)) {
            octo_fail_context("%s", path);
            goto fail;
        }
    }
    if (l->n == 0) {
        octo_fail("%s: no lora_A/lora_B tensors", path);
        goto fail;
    }
    octo_st_close(st);
    return l;
fail:
    octo_lora_free(l);
    octo_st_close(st);
    return NULL;
}

/* ---- export ---- */

static int write_config(const octo_lora *l, const char *path, const char *base_model, float dropout) {
    cJSON *c = cJSON_CreateObject();
    if (!c) return octo_fail("out of memory");
    cJSON_AddStringToObject(c, "peft_type", "LORA");
    cJSON_AddStringToObject(c, "task_type", "CAUSAL_LM");
    if (base_model)
        cJSON_AddStringToObject(c, "base_model_name_or_path", base_model);
    else
        cJSON_AddNullToObject(c, "base_model_name_or_path");
    cJSON_AddNumberToObject(c, "r", l->rank);
    cJSON_AddNumberToObject(c, "lora_alpha", l->alpha);
    cJSON_AddNumberToObject(c, "lora_dropout", dropout);
    cJSON_AddStringToObject(c, "bias", "none");
    cJSON_AddBoolToObject(c, "fan_in_fan_out", 0);
    cJSON_AddBoolToObject(c, "inference_mode", 1);
    cJSON_AddBoolToObject(c, "use_rslora", 0);
    cJSON_AddBoolToObject(c, "use_dora", 0);
    cJSON_AddNullToObject(c, "modules_to_save");
    cJSON_AddNullToObject(c, "layers_to_transform");
    cJSON *tm = cJSON_AddArrayToObject(c, "target_modules");
    cJSON *rp = cJSON_AddObjectToObject(c, "rank_pattern");
    cJSON_AddObjectToObject(c, "alpha_pattern");
    char hf[512];
    for (int i = 0; i < l->n; i++) {
        if (gguf_to_hf(l->t[i].base_name, l->arch, hf, sizeof hf)) {
            cJSON_Delete(c);
            return -1;
        }
        const char *dot = strrchr(hf, '.'), *shortname = dot ? dot + 1 : hf;
        bool seen = false;
        for (cJSON *e = tm->child; e && !seen; e = e->next) seen = strcmp(e->valuestring, shortname) == 0;
        if (!seen) cJSON_AddItemToArray(tm, cJSON_CreateString(shortname));
        if (l->t[i].rank != l->rank) cJSON_AddNumberToObject(rp, hf + strlen(k_prefix), l->t[i].rank);
    }
    char *json = cJSON_Print(c);
    cJSON_Delete(c);
    if (!json) return octo_fail("out of memory");
    int rc = octo_write_file_atomic(path, json, strlen(json));
    free(json);
    return rc;
}

int octo_peft_save(const octo_lora *l, const char *dir, const octo_peft_info *info, const char *base_model,
                   float dropout) {
    const char *arch = l->arch && l->arch[0] ? l->arch : info ? info->arch : NULL;
    int n_head = info ? info->n_head : 0, n_head_kv = info ? info->n_head_kv : 0;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return octo_fail("%s: cannot create directory: %s", dir, strerror(errno));
    octo_st_entry *e = calloc((size_t)(2 * l->n + 1), sizeof *e);
    char **names = calloc((size_t)(2 * l->n + 1), sizeof(char *));
    float **perm = calloc((size_t)(l->n + 1), sizeof(float *));
    int rc = e && names && perm ? 0 : octo_fail("out of memory");
    for (int i = 0; i < l->n && rc == 0; i++) {
        const octo_lora_tensor *t = &l->t[i];
        char hf[512];
        if ((rc = gguf_to_hf(t->base_name, arch, hf, sizeof hf))) break;
        size_t nl = strlen(hf) + 32;
        names[2 * i] = malloc(nl);
        names[2 * i + 1] = malloc(nl);
        if (!names[2 * i] || !names[2 * i + 1]) {
            rc = octo_fail("out of memory");
            break;
        }
        snprintf(names[2 * i], nl, "%s.lora_A.weight", hf);
        snprintf(names[2 * i + 1], nl, "%s.lora_B.weight", hf);
        const float *b = t->b;
        int heads = llama_perm_heads(arch, t->base_name, n_head, n_head_kv);
        if (heads != 0) {
            perm[i] = malloc((size_t)(t->rows * t->rank) * sizeof(float));
            if (!perm[i]) {
                rc = octo_fail("out of memory");
                break;
            }
            memcpy(perm[i], t->b, (size_t)(t->rows * t->rank) * sizeof(float));
            if ((rc = permute_rows(perm[i], t->rows, t->rank, heads, false, t->base_name))) break;
            b = perm[i];
        }
        e[2 * i] = (octo_st_entry){.name = names[2 * i], .n_dims = 2, .shape = {t->rank, t->cols}, .data = t->a};
        e[2 * i + 1] = (octo_st_entry){.name = names[2 * i + 1], .n_dims = 2, .shape = {t->rows, t->rank}, .data = b};
    }
    char path[4096];
    if (rc == 0) {
        const char *keys[4] = {"format", "octo.architecture", "octo.head_count", "octo.head_count_kv"};
        char h[16], hkv[16];
        snprintf(h, sizeof h, "%d", n_head);
        snprintf(hkv, sizeof hkv, "%d", n_head_kv);
        const char *vals[4] = {"pt", arch ? arch : "", h, hkv};
        int n_meta = arch ? (n_head > 0 ? 4 : 2) : 1;
        path_join(path, sizeof path, dir, "adapter_model.safetensors");
        rc = octo_st_write(path, e, 2 * l->n, keys, vals, n_meta);
    }
    if (rc == 0) {
        path_join(path, sizeof path, dir, "adapter_config.json");
        rc = write_config(l, path, base_model, dropout);
    }
    if (rc) octo_fail_context("%s", dir);
    for (int i = 0; names && i < 2 * l->n; i++) free(names[i]);
    for (int i = 0; perm && i < l->n; i++) free(perm[i]);
    free(names);
    free(perm);
    free(e);
    return rc;
}

int octo_lora_save_peft(const octo_lora *l, const char *dir, const octo_model *base, const char *base_model_name) {
    octo_peft_info info = {0};
    if (base) {
        info.arch = base->hp.arch_name;
        info.n_head = base->hp.n_head;
        info.n_head_kv = base->hp.n_head_kv;
    }
    return octo_peft_save(l, dir, &info, base_model_name, 0.0f);
}
