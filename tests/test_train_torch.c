/* test_train_torch.c - the training pass against PyTorch.
 *
 * For the llama, phi3, qwen2 and gemma layouts, full fine-tuning and LoRA,
 * the same tiny model (random weights, written as an F32 GGUF) and the same
 * packed batch go through octo_tm_step here and through
 * tests/torch/train_ref.py (the model rebuilt in PyTorch from the GGUF by a
 * numpy reader).  The loss and EVERY gradient must agree to a relative
 * error below 1e-4 (max |octo - torch| / max |torch| per tensor), and the
 * losses of 20 AdamW steps (octo's optimizer against torch.optim.AdamW with
 * clip_grad_norm_) likewise.  All jobs run in one Python process.
 * Skips when no python3 with torch and numpy is found (OCTO_PYTHON picks one).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "testlib.h"
#include "train/optimizer.h"
#include "train_fixture.h"

#define ADAM_STEPS 20
#define ADAM_LR 2e-3f
#define ADAM_WD 0.1f
#define ADAM_CLIP 1.0f

static char g_dir[256];
static char g_python[256];

static int find_python(void) {
    const char *env = getenv("OCTO_PYTHON");
    const char *cands[] = {env, "python3", "/usr/bin/python3"};
    for (int i = 0; i < 3; i++) {
        if (!cands[i] || !*cands[i]) continue;
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s -c 'import torch, numpy' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0) {
            snprintf(g_python, sizeof g_python, "%s", cands[i]);
            return 1;
        }
    }
    return 0;
}

typedef struct {
    const char *arch;
    int lora;
    int n_head_kv;
    /* filled by prepare() */
    octo_model *m;
    octo_train_model *tm;
    tf_batch tb;
    double loss;
    float adam_losses[ADAM_STEPS];
    char model_path[600], batch_path[600], lora_path[600], out_grad[600], out_adam[600];
} tcase;

static tcase g_cases[] = {
    {.arch = "llama", .n_head_kv = 2}, {.arch = "phi3", .n_head_kv = 4},
    {.arch = "qwen2", .n_head_kv = 2}, {.arch = "gemma", .n_head_kv = 1},
    {.arch = "llama", .lora = 1, .n_head_kv = 2}, {.arch = "phi3", .lora = 1, .n_head_kv = 4},
    {.arch = "qwen2", .lora = 1, .n_head_kv = 2}, {.arch = "gemma", .lora = 1, .n_head_kv = 1},
};
#define N_CASES (int)(sizeof g_cases / sizeof g_cases[0])

static int write_batch(const octo_batch *b, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int32_t hdr[2] = {b->B, b->T};
    int n = b->B * b->T;
    int ok = fwrite(hdr, 4, 2, f) == 2 && fwrite(b->tokens, 4, n, f) == (size_t)n &&
             fwrite(b->targets, 4, n, f) == (size_t)n && fwrite(b->pos, 4, n, f) == (size_t)n &&
             fwrite(b->seg, 4, n, f) == (size_t)n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_adapter(octo_train_model *tm, const char *path) {
    gguf_writer *w = gguf_writer_new();
    for (int i = 0; i < octo_tm_n_params(tm); i++) {
        octo_param *p = octo_tm_param(tm, i);
        int64_t ne[2] = {p->cols, p->rows};
        gguf_add_tensor(w, p->name, OCTO_TYPE_F32, 2, ne, p->data);
    }
    int rc = gguf_writer_write(w, path);
    gguf_writer_free(w);
    return rc;
}

static octo_train_model *new_tm(tcase *c) {
    octo_train_config cfg = {.full = !c->lora, .lora_rank = 4, .lora_alpha = 8, .lora_targets = "all-linear",
                             .n_threads = 1, .seed = 9, .max_T = 16, .max_B = 2};
    octo_train_model *tm = octo_tm_new(c->m, &cfg);
    if (tm) tf_randomize(tm, 21, c->lora ? 0.2 : 0.3);
    return tm;
}

/* Make the files for one case and run octo's side; returns a job line. */
static int prepare(tcase *c, int idx, FILE *jobs) {
    char path[512];
    c->m = tf_model(g_dir, c->arch, 32, 4, c->n_head_kv, 40, 2, strcmp(c->arch, "phi3") == 0 ? 6 : 64, 13 + idx,
                    path, sizeof path);
    if (!c->m) return -1;
    c->tm = new_tm(c);
    if (!c->tm) return -1;
    tf_make_batch(&c->tb, 2, 16, c->m->hp.n_vocab, 5 + idx);
    snprintf(c->batch_path, sizeof c->batch_path, "%s/batch-%d.bin", g_dir, idx);
    snprintf(c->out_grad, sizeof c->out_grad, "%s/grad-%d.bin", g_dir, idx);
    snprintf(c->out_adam, sizeof c->out_adam, "%s/adam-%d.bin", g_dir, idx);
    if (write_batch(&c->tb.b, c->batch_path)) return -1;
    char extra[700] = "";
    if (c->lora) {
        snprintf(c->model_path, sizeof c->model_path, "%s", path);
        snprintf(c->lora_path, sizeof c->lora_path, "%s/lora-%d.gguf", g_dir, idx);
        if (write_adapter(c->tm, c->lora_path)) return -1;
        snprintf(extra, sizeof extra, " --lora %s --alpha 8", c->lora_path);
    } else {
        /* the randomized weights, through the model writer under test */
        snprintf(c->model_path, sizeof c->model_path, "%s/full-%d.gguf", g_dir, idx);
        if (octo_tm_save_model(c->tm, c->model_path)) return -1;
    }
    fprintf(jobs, "%s %s %s%s\n", c->model_path, c->batch_path, c->out_grad, extra);
    fprintf(jobs, "%s %s %s%s --steps %d --lr %g --wd %g --clip %g\n", c->model_path, c->batch_path, c->out_adam,
            extra, ADAM_STEPS, (double)ADAM_LR, (double)ADAM_WD, (double)ADAM_CLIP);

    /* octo: one step's gradients, then ADAM_STEPS AdamW steps from the start */
    octo_tm_zero_grad(c->tm);
    c->loss = octo_tm_step(c->tm, &c->tb.b, 1.0f);
    octo_train_model *t2 = new_tm(c);
    if (!t2) return -1;
    octo_adamw_opts o;
    octo_adamw_defaults(&o);
    o.weight_decay = ADAM_WD;
    o.max_grad_norm = ADAM_CLIP;
    octo_adamw *a = octo_adamw_new(octo_tm_param(t2, 0), octo_tm_n_params(t2), &o);
    if (!a) return -1;
    for (int s = 0; s < ADAM_STEPS; s++) {
        c->adam_losses[s] = octo_tm_step(t2, &c->tb.b, 1.0f);
        octo_adamw_step(a, ADAM_LR);
    }
    octo_adamw_free(a);
    octo_tm_free(t2);
    return 0;
}

static void compare(tcase *c) {
    char label[64];
    snprintf(label, sizeof label, "%s %s", c->arch, c->lora ? "LoRA" : "full");
    FILE *f = fopen(c->out_grad, "rb");
    CHECKF(f != NULL, "%s: no reference output", label);
    if (!f) return;
    double tloss;
    REQUIRE(fread(&tloss, 8, 1, f) == 1);
    CHECKF(fabs(c->loss - tloss) <= 1e-5 * fabs(tloss), "%s: loss %.8g vs torch %.8g", label, c->loss, tloss);
    int seen = 0, n_params = octo_tm_n_params(c->tm);
    double worst = 0;
    const char *worst_name = "";
    for (;;) {
        uint32_t nl;
        if (fread(&nl, 4, 1, f) != 1) break;
        char name[256] = {0};
        uint64_t n;
        REQUIRE(nl < sizeof name && fread(name, 1, nl, f) == nl && fread(&n, 8, 1, f) == 1);
        float *g = malloc(n * sizeof(float));
        REQUIRE(g && fread(g, 4, n, f) == n);
        octo_param *p = NULL;
        for (int i = 0; i < n_params; i++)
            if (strcmp(octo_tm_param(c->tm, i)->name, name) == 0) p = octo_tm_param(c->tm, i);
        CHECKF(p != NULL && (uint64_t)p->n == n, "%s: torch gradient %s has no octo twin", label, name);
        if (p && (uint64_t)p->n == n) {
            double md = 0, mx = 0;
            for (uint64_t j = 0; j < n; j++) {
                md = fmax(md, fabs((double)p->grad[j] - g[j]));
                mx = fmax(mx, fabs((double)g[j]));
            }
            double rel = mx > 0 ? md / mx : md;
            CHECKF(mx > 0, "%s: %s: zero gradient in torch", label, name);
            CHECKF(rel < 1e-4, "%s: %s: relative error %.3g", label, name, rel);
            if (rel > worst) {
                worst = rel;
                worst_name = p->name;
            }
            seen++;
        }
        free(g);
    }
    fclose(f);
    CHECKF(seen == n_params, "%s: %d of %d gradients compared", label, seen, n_params);
    printf("    %-10s loss %.6f, %d gradients, worst relative error %.2g (%s)\n", label, c->loss, seen, worst,
           worst_name);
    f = fopen(c->out_adam, "rb");
    REQUIRE(f);
    double wl = 0;
    for (int s = 0; s < ADAM_STEPS; s++) {
        double tl;
        REQUIRE(fread(&tl, 8, 1, f) == 1);
        double rel = fabs(c->adam_losses[s] - tl) / fabs(tl);
        CHECKF(rel < 1e-4, "%s: AdamW step %d: loss %.8g vs torch %.8g", label, s, c->adam_losses[s], tl);
        wl = fmax(wl, rel);
    }
    fclose(f);
    printf("    %-10s %d AdamW steps: loss %.6f -> %.6f, worst relative error %.2g\n", label, ADAM_STEPS,
           c->adam_losses[0], c->adam_losses[ADAM_STEPS - 1], wl);
    CHECKF(c->adam_losses[ADAM_STEPS - 1] < c->adam_losses[0], "%s: AdamW did not lower the loss", label);
}

static int g_ready;

TEST(prepare_and_run_torch) {
    if (!find_python()) SKIP("no python3 with torch and numpy (set OCTO_PYTHON)");
    char jobs_path[400];
    snprintf(jobs_path, sizeof jobs_path, "%s/jobs.txt", g_dir);
    FILE *jobs = fopen(jobs_path, "w");
    REQUIRE(jobs);
    for (int i = 0; i < N_CASES; i++) {
        int rc = prepare(&g_cases[i], i, jobs);
        CHECKF(rc == 0, "case %d: %s", i, octo_last_error());
        if (rc) {
            fclose(jobs);
            return;
        }
    }
    fclose(jobs);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s tests/torch/train_ref.py --jobs %s", g_python, jobs_path);
    int rc = system(cmd);
    CHECKF(rc == 0, "%s failed (%d)", cmd, rc);
    g_ready = rc == 0;
}

#define CASE(name, i)                           \
    TEST(name) {                                \
        if (!g_ready) SKIP("no torch results"); \
        compare(&g_cases[i]);                   \
    }
CASE(llama_full, 0)
CASE(phi3_full, 1)
CASE(qwen2_full, 2)
CASE(gemma_full, 3)
CASE(llama_lora, 4)
CASE(phi3_lora, 5)
CASE(qwen2_lora, 6)
CASE(gemma_lora, 7)

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/octo-test-train-torch-%d", (int)getpid());
    if (mkdir(g_dir, 0700) != 0) {
        perror(g_dir);
        return 1;
    }
    RUN(prepare_and_run_torch);
    RUN(llama_full);
    RUN(phi3_full);
    RUN(qwen2_full);
    RUN(gemma_full);
    RUN(llama_lora);
    RUN(phi3_lora);
    RUN(qwen2_lora);
    RUN(gemma_lora);
    for (int i = 0; i < N_CASES; i++) {
        octo_tm_free(g_cases[i].tm);
        octo_model_free(g_cases[i].m);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return t_finish();
}
