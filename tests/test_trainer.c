/* test_trainer.c - octo_train() end to end on a tiny model.
 *
 * A two-layer llama with a real vocabulary (from ../shared; skipped when
 * absent) learns a small chat set: the loss falls, for full fine-tuning and
 * for LoRA. A child process training with checkpoints is killed with
 * SIGKILL in the middle of the run; resuming from its checkpoint gives the
 * same metrics log, loss for loss and bit for bit, and the same output file
 * byte for byte, as a run never interrupted (LoRA with dropout and gradient
 * accumulation, and full fine-tuning with weight decay). Damaged and
 * mismatched checkpoints are refused with clear messages, and a bad dataset
 * line is reported as FILE:LINE or skipped and counted.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "octo.h"
#include "testlib.h"

static char g_model[512], g_data[512], g_eval[512];

static const char *tmp(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", t_tmpdir(), name);
    return buf[k];
}

/* The model and the data, made once. Returns false when the vocabulary
 * fixture is absent. */
static bool fixtures(void) {
    static int state; /* 0 not tried, 1 ok, -1 absent/failed */
    if (state) return state > 0;
    state = -1;
    const char *vocab = t_shared_path("fixtures/tokenizer/ggml-vocab-phi-3.gguf");
    if (!vocab) return false;
    FILE *f = fopen(vocab, "rb");
    if (!f) return false;
    fclose(f);
    snprintf(g_model, sizeof g_model, "%s", tmp("tiny.gguf"));
    octo_model_init_params mp = {.arch = "llama", .n_embd = 32, .n_layer = 2, .n_head = 4, .n_head_kv = 2,
                                 .n_ff = 64, .n_ctx = 256, .seed = 3, .vocab_from = vocab};
    if (octo_model_init_file(&mp, g_model) != 0) {
        fprintf(stderr, "    model init: %s\n", octo_last_error());
        return false;
    }
    /* requests and their function calls: the answer repeats two words of the
     * request, something a model learns quickly */
    static const char *words[] = {"open", "the", "door", "close", "window", "lights", "play", "music",
                                  "call", "mom", "send", "email", "set", "alarm", "slides", "projector"};
    snprintf(g_data, sizeof g_data, "%s", tmp("train.jsonl"));
    snprintf(g_eval, sizeof g_eval, "%s", tmp("eval.jsonl"));
    uint64_t s = 12345;
    for (int file = 0; file < 2; file++) {
        FILE *out = fopen(file ? g_eval : g_data, "w");
        if (!out) return false;
        int n = file ? 6 : 24;
        for (int i = 0; i < n; i++) {
            char q[256] = "", a[128];
            int nw = 3 + (int)(s % 4), w0 = -1, w1 = -1;
            for (int j = 0; j < nw; j++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                int w = (int)(s >> 60);
                if (j == 0) w0 = w;
                if (j == 1) w1 = w;
                strcat(q, j ? " " : "");
                strcat(q, words[w]);
            }
            snprintf(a, sizeof a, "%s_%s()", words[w0], words[w1]);
            if (file == 0)
                fprintf(out, "{\"messages\": [{\"role\": \"user\", \"content\": \"%s\"}, "
                             "{\"role\": \"assistant\", \"content\": \"%s\"}]}\n", q, a);
            else
                fprintf(out, "{\"prompt\": \"%s\", \"completion\": \"%s\"}\n", q, a);
        }
        fclose(out);
    }
    state = 1;
    return true;
}

static void base_params(octo_train_params *p, const char *out) {
    octo_train_defaults(p);
    p->base = g_model;
    p->data = g_data;
    p->out = out;
    p->chat_template = "phi3";
    p->seq_len = 48;
    p->batch = 2;
    p->epochs = 4;
    p->lr = 3e-3;
    p->warmup_ratio = 0.1;
    p->n_threads = 1; /* the suite shares two cores; spinning workers would only wait */
    p->seed = 7;
    p->progress = false;
}

typedef struct {
    float loss[256];
    int n;
    int64_t kill_at;
} recorder;

static bool record(void *user, const octo_train_progress *pg) {
    recorder *r = user;
    if (r->n < 256) r->loss[r->n++] = pg->loss;
    if (r->kill_at && pg->step == r->kill_at) raise(SIGKILL);
    return true;
}

static void check_loss_falls(bool full) {
    if (!fixtures()) SKIP("../shared/fixtures/tokenizer/ggml-vocab-phi-3.gguf absent");
    octo_train_params p;
    base_params(&p, tmp(full ? "full.gguf" : "lora.gguf"));
    p.full = full;
    p.lora_rank = 8;
    p.lora_alpha = 16;
    p.lr = full ? 2e-3 : 5e-2;
    p.epochs = 4;
    p.eval = g_eval;
    recorder rec = {0};
    p.on_step = record;
    p.user = &rec;
    octo_train_result r;
    REQUIRE(octo_train(&p, &r) == 0);
    REQUIRE(rec.n >= 20);
    CHECK(r.steps == r.total_steps && r.session_steps == rec.n);
    float first = rec.loss[0], last = 0;
    for (int i = rec.n - 4; i < rec.n; i++) last += rec.loss[i] / 4;
    printf("    %s: %d steps, loss %.3f -> %.3f, eval %.3f, %.0f tok/s\n", full ? "full" : "LoRA", rec.n, first,
           last, r.eval_loss, r.tok_s);
    CHECKF(last < first - (full ? 1.0f : 0.15f), "loss %.4f -> %.4f", first, last);
    CHECK(!isnan(r.eval_loss) && r.eval_loss < first);
    CHECK(r.n_examples == 24 && r.n_skipped == 0 && r.n_trainable > 0);
    /* the output loads */
    if (full) {
        octo_model *m = octo_model_load(p.out);
        CHECK(m != NULL);
        if (m) octo_model_free(m);
    } else {
        octo_lora *l = octo_lora_load(p.out, NULL);
        CHECK(l != NULL);
        if (l) octo_lora_free(l);
    }
}

TEST(full_fine_tuning_loss_falls) { check_loss_falls(true); }
TEST(lora_loss_falls) { check_loss_falls(false); }

/* A log line without its tok_s field (the only one that depends on time). */
static void strip_time(char *line) {
    char *t = strstr(line, ",\"tok_s\":");
    if (!t) return;
    char *e = t + 9;
    while (*e && *e != ',' && *e != '}') e++;
    memmove(t, e, strlen(e) + 1);
}

static int compare_logs(const char *a_path, const char *b_path, int *n_lines) {
    char *a = octo_read_file(a_path, NULL), *b = octo_read_file(b_path, NULL);
    int diff = -1;
    *n_lines = 0;
    if (a && b) {
        diff = 0;
        char *sa, *sb, *la = strtok_r(a, "\n", &sa), *lb = strtok_r(b, "\n", &sb);
        for (; la || lb; la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb)) {
            if (!la || !lb) {
                diff++;
                break;
            }
            strip_time(la);
            strip_time(lb);
            if (strcmp(la, lb) != 0) {
                if (!diff) fprintf(stderr, "    straight: %s\n    resumed:  %s\n", la, lb);
                diff++;
            }
            (*n_lines)++;
        }
    }
    free(a);
    free(b);
    return diff;
}

static bool same_file(const char *a, const char *b) {
    size_t na, nb;
    char *x = octo_read_file(a, &na), *y = octo_read_file(b, &nb);
    bool same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static void check_resume(bool full) {
    if (!fixtures()) SKIP("../shared/fixtures/tokenizer/ggml-vocab-phi-3.gguf absent");
    const char *tag = full ? "full" : "lora";
    char straight_out[512], straight_log[512], out[512], log[512], ckpt[512];
    snprintf(straight_out, sizeof straight_out, "%s", tmp(full ? "s-full.gguf" : "s-lora.gguf"));
    snprintf(straight_log, sizeof straight_log, "%s", tmp(full ? "s-full.jsonl" : "s-lora.jsonl"));
    snprintf(out, sizeof out, "%s", tmp(full ? "r-full.gguf" : "r-lora.gguf"));
    snprintf(log, sizeof log, "%s", tmp(full ? "r-full.jsonl" : "r-lora.jsonl"));
    snprintf(ckpt, sizeof ckpt, "%s", tmp(full ? "r-full.ckpt" : "r-lora.ckpt"));
    octo_train_params p;
    base_params(&p, straight_out);
    p.full = full;
    if (full) {
        p.weight_decay = 0.1;
        p.schedule = "cosine";
        p.lr = 2e-3;
    } else {
        p.lora_dropout = 0.1f; /* masks depend on the step: the resumed run must restore the count */
        p.grad_accum = 2;
        p.lr = 1e-2;
    }
    p.eval = g_eval;
    p.eval_every = 4;
    p.metrics = straight_log;
    octo_train_result r;
    REQUIRE(octo_train(&p, &r) == 0);
    const int64_t total = r.total_steps;
    REQUIRE(total >= 10);

    /* the same run in a child, with a checkpoint every 3 steps, killed by
     * SIGKILL when step 7 is done: the last checkpoint is step 6 and the log
     * already has step 7, which the resumed run must write again */
    p.out = out;
    p.metrics = log;
    p.save_every = 3;
    p.checkpoint_dir = ckpt;
    recorder rec = {.kill_at = 7};
    p.on_step = record;
    p.user = &rec;
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        octo_train(&p, NULL);
        _exit(3); /* not reached: killed at step 7 */
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
    CHECK(access(out, F_OK) != 0); /* no output from the killed run */

    p.on_step = NULL;
    p.resume = ckpt;
    REQUIRE(octo_train(&p, &r) == 0);
    CHECK(r.steps == total && r.session_steps == total - 6);
    int n_lines = 0;
    int diff = compare_logs(straight_log, log, &n_lines);
    printf("    %s: killed after step 7 of %lld, resumed from step 6: %d of %d log lines differ\n", tag,
           (long long)total, diff, n_lines);
    CHECK(diff == 0 && n_lines == total);
    CHECKF(same_file(straight_out, out), "%s and %s differ", straight_out, out);
}

TEST(resume_after_sigkill_lora) { check_resume(false); }
TEST(resume_after_sigkill_full) { check_resume(true); }

TEST(bad_checkpoints_refused) {
    if (!fixtures()) SKIP("../shared/fixtures/tokenizer/ggml-vocab-phi-3.gguf absent");
    octo_train_params p;
    base_params(&p, tmp("c.gguf"));
    p.save_every = 2;
    p.max_steps = 2;
    p.checkpoint_dir = tmp("c.ckpt");
    REQUIRE(octo_train(&p, NULL) == 0);
    /* other settings: refused, naming the setting */
    p.max_steps = 0;
    p.resume = p.checkpoint_dir;
    p.lr = 1e-3;
    CHECK(octo_train(&p, NULL) != 0);
    CHECKF(strstr(octo_last_error(), "lr=0.003, this run has lr=0.001") != NULL, "%s", octo_last_error());
    p.lr = 3e-3;
    p.lora_rank = 4;
    CHECK(octo_train(&p, NULL) != 0);
    CHECK(strstr(octo_last_error(), "lora_rank") != NULL);
    p.lora_rank = 8;
    /* a truncated checkpoint */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "truncate -s -100 '%s/checkpoint.bin'", p.checkpoint_dir);
    REQUIRE(system(cmd) == 0);
    CHECK(octo_train(&p, NULL) != 0);
    CHECKF(strstr(octo_last_error(), "truncated") != NULL, "%s", octo_last_error());
    /* and one with a flipped byte */
    p.resume = NULL;
    p.max_steps = 2;
    REQUIRE(octo_train(&p, NULL) == 0);
    snprintf(cmd, sizeof cmd, "printf 'X' | dd of='%s/checkpoint.bin' bs=1 seek=5000 conv=notrunc 2>/dev/null",
             p.checkpoint_dir);
    REQUIRE(system(cmd) == 0);
    p.resume = p.checkpoint_dir;
    p.max_steps = 0;
    CHECK(octo_train(&p, NULL) != 0);
    CHECKF(strstr(octo_last_error(), "checksum") != NULL, "%s", octo_last_error());
}

TEST(bad_dataset_line) {
    if (!fixtures()) SKIP("../shared/fixtures/tokenizer/ggml-vocab-phi-3.gguf absent");
    const char *bad = tmp("bad.jsonl");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "head -n 2 '%s' > '%s' && echo '{\"messages\": [' >> '%s' && tail -n 5 '%s' >> '%s'",
             g_data, bad, bad, g_data, bad);
    REQUIRE(system(cmd) == 0);
    octo_train_params p;
    base_params(&p, tmp("b.gguf"));
    p.data = bad;
    p.max_steps = 1;
    CHECK(octo_train(&p, NULL) != 0);
    CHECKF(strstr(octo_last_error(), "bad.jsonl:3:") != NULL, "%s", octo_last_error());
    p.skip_bad = true;
    octo_train_result r;
    CHECK(octo_train(&p, &r) == 0);
    CHECK(r.n_skipped == 1 && r.n_examples == 7);
}

int main(void) {
    RUN(full_fine_tuning_loss_falls);
    RUN(lora_loss_falls);
    RUN(resume_after_sigkill_lora);
    RUN(resume_after_sigkill_full);
    RUN(bad_checkpoints_refused);
    RUN(bad_dataset_line);
    return t_finish();
}
