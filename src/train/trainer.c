/* trainer.c - octo_train(): load, train, checkpoint, resume, write results
 * (see trainer.h for the shape of the loop). */
#include "train/trainer.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter/lora_gguf.h"
#include "base/error.h"
#include "base/file.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/dataset.h"
#include "train/optimizer.h"
#include "train/train_internal.h" /* the model's thread pool, which the optimizer shares */
#include "train/train_model.h"

#define DEFAULT_PEAK_FLOPS 570e9

void octo_train_defaults(octo_train_params *p) {
    memset(p, 0, sizeof *p);
    p->lora_rank = 8;
    p->lora_alpha = 16.0f;
    p->lora_targets = "all-linear";
    p->lr = 5e-6;
    p->warmup_ratio = 0.2;
    p->schedule = "linear";
    p->beta1 = 0.9;
    p->beta2 = 0.999;
    p->eps = 1e-8;
    p->max_grad_norm = 1.0f;
    p->batch = 4;
    p->grad_accum = 1;
    p->epochs = 2;
    p->seed = 42;
    p->progress = true;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- fingerprints: what a checkpoint must have been trained on ---- */

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* The base file: its size and 64 samples of 4 KiB spread over it. */
static int base_fingerprint(const char *path, uint64_t *h, uint64_t *size) {
    octo_mapping m;
    if (octo_map_file(path, &m) != 0) return -1;
    uint64_t x = 0xcbf29ce484222325ull;
    for (int i = 0; i < 64; i++) {
        size_t off = (size_t)((double)m.size * i / 64.0), n = m.size - off < 4096 ? m.size - off : 4096;
        x = fnv(x, m.data + off, n);
    }
    *h = x;
    *size = m.size;
    octo_unmap(&m);
    return 0;
}

static uint64_t data_fingerprint(const octo_dataset *d) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < d->n_ex; i++) {
        const octo_example *e = &d->ex[i];
        h = fnv(h, &e->n, sizeof e->n);
        h = fnv(h, e->tokens, (size_t)e->n * sizeof(int32_t));
        h = fnv(h, e->loss, (size_t)e->n);
    }
    return h;
}

static void add_hex(cJSON *o, const char *key, uint64_t v) {
    char s[32];
    snprintf(s, sizeof s, "%016" PRIx64, v);
    cJSON_AddStringToObject(o, key, s);
}

/* Everything the sequence of losses depends on (the thread count aside:
 * see octo_train_params), as a JSON object a checkpoint carries. */
static char *run_config(const octo_train_params *p, const octo_model *m, int n_vocab, const octo_dataset *d,
                        int seq_len, int64_t total_steps) {
    uint64_t bh, bsize;
    if (base_fingerprint(m->path ? m->path : p->base, &bh, &bsize) != 0) return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "base_arch", m->hp.arch_name ? m->hp.arch_name : "?");
    cJSON_AddNumberToObject(o, "base_bytes", (double)bsize);
    add_hex(o, "base_fingerprint", bh);
    cJSON_AddNumberToObject(o, "n_vocab", n_vocab);
    cJSON_AddStringToObject(o, "mode", p->full ? "full" : "lora");
    if (p->full) {
        cJSON_AddStringToObject(o, "add_tokens", p->add_tokens ? p->add_tokens : "");
    } else {
        cJSON_AddNumberToObject(o, "lora_rank", p->lora_rank);
        cJSON_AddNumberToObject(o, "lora_alpha", p->lora_alpha);
        cJSON_AddNumberToObject(o, "lora_dropout", p->lora_dropout);
        cJSON_AddStringToObject(o, "lora_targets", p->lora_targets ? p->lora_targets : "all-linear");
    }
    cJSON_AddStringToObject(o, "data_kind", p->data ? "chat" : "text");
    add_hex(o, "data_fingerprint", data_fingerprint(d));
    cJSON_AddNumberToObject(o, "n_examples", d->n_ex);
    cJSON_AddStringToObject(o, "chat_template", p->chat_template ? p->chat_template : "");
    cJSON_AddNumberToObject(o, "lr", p->lr);
    cJSON_AddNumberToObject(o, "min_lr", p->min_lr);
    cJSON_AddNumberToObject(o, "warmup_ratio", p->warmup_ratio);
    cJSON_AddStringToObject(o, "schedule", p->schedule ? p->schedule : "linear");
    cJSON_AddNumberToObject(o, "weight_decay", p->weight_decay);
    cJSON_AddNumberToObject(o, "beta1", p->beta1);
    cJSON_AddNumberToObject(o, "beta2", p->beta2);
    cJSON_AddNumberToObject(o, "eps", p->eps);
    cJSON_AddNumberToObject(o, "max_grad_norm", p->max_grad_norm);
    cJSON_AddNumberToObject(o, "batch", p->batch);
    cJSON_AddNumberToObject(o, "grad_accum", p->grad_accum);
    cJSON_AddNumberToObject(o, "epochs", p->epochs);
    cJSON_AddNumberToObject(o, "seq_len", seq_len);
    cJSON_AddNumberToObject(o, "seed", (double)p->seed);
    cJSON_AddNumberToObject(o, "total_steps", (double)total_steps);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ---- pieces of the loop ---- */

typedef struct {
    const octo_train_params *p;
    octo_model *model;
    octo_dataset *train, *eval;
    octo_batcher *bt, *bt_eval;
    octo_train_model *tm;
    octo_adamw *opt;
    octo_schedule sched;
    int B, T;
    /* epoch e has n_batches[e] micro-batches (the batcher makes them all
     * equal today) and its optimizer steps are first_step[e] .. first_step[e+1]-1 */
    int *n_batches;
    int64_t *first_step;
    int64_t total_steps;
    char *config;
    const char *ckpt_dir;
    char *ckpt_dir_owned;
    FILE *metrics;
    octo_progress pr;
} trainer;

static octo_dataset *load_data(const octo_train_params *p, const char *chat, const char *const *text, int n_text,
                               const octo_dataset_opts *o) {
    return chat ? octo_dataset_load_chat(chat, o) : octo_dataset_load_text(text, n_text, o);
}

/* Mean loss over every eval batch, weighted by their loss tokens. */
static float eval_loss(trainer *t) {
    double sum = 0, n = 0;
    int nb = octo_batcher_n_batches(t->bt_eval);
    for (int i = 0; i < nb; i++) {
        octo_batch b;
        int got = octo_batcher_get(t->bt_eval, 0, i, &b);
        if (got < 0) return -1.0f;
        if (got > 0) break;
        if (b.n_loss_tokens == 0) continue;
        float l = octo_tm_loss(t->tm, &b);
        if (l < 0) return -1.0f;
        sum += (double)l * (double)b.n_loss_tokens;
        n += (double)b.n_loss_tokens;
    }
    return n > 0 ? (float)(sum / n) : NAN;
}

static int add_tokens(octo_model *m, const char *list) {
    char *s = strdup(list), *save = NULL;
    if (!s) return octo_fail("train: out of memory");
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        size_t n = strlen(tok);
        while (n && tok[n - 1] == ' ') tok[--n] = 0;
        if (!n) continue;
        if (octo_tokenizer_add_special(m->tok, tok) < 0) {
            free(s);
            return octo_fail_context("train: --add-tokens \"%s\"", tok);
        }
    }
    free(s);
    return 0;
}

static int setup(trainer *t, const octo_train_params *p) {
    if (!p->base || !p->out) return octo_fail("train: a base model and an output path are required");
    if (!p->data && p->n_text <= 0) return octo_fail("train: no training data (a chat JSONL file or text files)");
    if (p->data && p->n_text > 0) return octo_fail("train: give chat data or text files, not both");
    if (p->batch < 1 || p->grad_accum < 1 || p->epochs < 1)
        return octo_fail("train: batch, grad-accum and epochs must be at least 1");
    if (!(p->lr >= 0) || !(p->warmup_ratio >= 0 && p->warmup_ratio <= 1))
        return octo_fail("train: expected lr >= 0 and a warmup ratio in [0, 1]");
    if (p->add_tokens && p->add_tokens[0] && !p->full)
        return octo_fail("train: --add-tokens needs --full (new tokens need trainable embeddings)");
    int kind = octo_sched_parse(p->schedule ? p->schedule : "linear");
    if (kind < 0) return octo_fail("train: schedule \"%s\", expected linear, cosine or constant", p->schedule);

    if (!(t->model = octo_model_load(p->base))) return -1;
    if (p->add_tokens && p->add_tokens[0] && add_tokens(t->model, p->add_tokens) != 0) return -1;
    int ctx = t->model->hp.n_ctx_train > 0 ? t->model->hp.n_ctx_train : 2048;
    t->T = p->seq_len > 0 ? p->seq_len : (ctx < 512 ? ctx : 512);
    t->B = p->batch;
    octo_dataset_opts dopt = {.tok = t->model->tok, .chat_template = p->chat_template, .seq_len = t->T,
                              .skip_bad = p->skip_bad};
    if (!(t->train = load_data(p, p->data, p->text, p->n_text, &dopt))) return -1;
    if (p->eval) {
        const char *one[1] = {p->eval};
        if (!(t->eval = load_data(p, p->data ? p->eval : NULL, one, 1, &dopt))) return -1;
        if (!(t->bt_eval = octo_batcher_new(t->eval, t->B, t->T, p->seed))) return -1;
    }
    if (!(t->bt = octo_batcher_new(t->train, t->B, t->T, p->seed))) return -1;
    t->n_batches = calloc((size_t)p->epochs, sizeof(int));
    t->first_step = calloc((size_t)p->epochs + 1, sizeof(int64_t));
    if (!t->n_batches || !t->first_step) return octo_fail("train: out of memory");
    for (int e = 0; e < p->epochs; e++) {
        int nb = octo_batcher_n_batches(t->bt);
        if (nb <= 0) return octo_fail("train: the training data gives no batch (is it empty?)");
        t->n_batches[e] = nb;
        t->first_step[e + 1] = t->first_step[e] + (nb + p->grad_accum - 1) / p->grad_accum;
    }
    t->total_steps = t->first_step[p->epochs];
    t->sched = (octo_schedule){(octo_sched_kind)kind, p->lr, p->min_lr, p->warmup_ratio, t->total_steps};

    octo_train_config cfg = {.full = p->full,
                             .lora_rank = p->lora_rank,
                             .lora_alpha = p->lora_alpha,
                             .lora_dropout = p->lora_dropout,
                             .lora_targets = p->lora_targets ? p->lora_targets : "all-linear",
                             .n_threads = p->n_threads,
                             .seed = p->seed,
                             .max_T = t->T,
                             .max_B = t->B};
    if (!(t->tm = octo_tm_new(t->model, &cfg))) return -1;
    octo_adamw_opts ao = {p->beta1, p->beta2, p->eps, p->weight_decay, p->max_grad_norm,
                          p->n_threads > 0 ? p->n_threads : octo_cpu_count(), t->tm->pool};
    if (!(t->opt = octo_adamw_new(octo_tm_param(t->tm, 0), octo_tm_n_params(t->tm), &ao))) return -1;
    if (!(t->config = run_config(p, t->model, octo_tm_n_vocab(t->tm), t->train, t->T, t->total_steps))) return -1;
    if (p->checkpoint_dir) {
        t->ckpt_dir = p->checkpoint_dir;
    } else {
        size_t n = strlen(p->out) + 8;
        if (!(t->ckpt_dir_owned = malloc(n))) return octo_fail("train: out of memory");
        snprintf(t->ckpt_dir_owned, n, "%s.ckpt", p->out);
        t->ckpt_dir = t->ckpt_dir_owned;
    }
    return 0;
}

static void teardown(trainer *t) {
    if (t->metrics) fclose(t->metrics);
    free(t->config);
    free(t->ckpt_dir_owned);
    free(t->n_batches);
    free(t->first_step);
    octo_adamw_free(t->opt);
    if (t->tm) octo_tm_free(t->tm);
    if (t->bt) octo_batcher_free(t->bt);
    if (t->bt_eval) octo_batcher_free(t->bt_eval);
    if (t->train) octo_dataset_free(t->train);
    if (t->eval) octo_dataset_free(t->eval);
    if (t->model) octo_model_free(t->model);
}

/* The epoch optimizer step `step` belongs to (epochs when step is the end). */
static int epoch_of(const trainer *t, int64_t step) {
    int e = 0;
    while (e < t->p->epochs && step >= t->first_step[e + 1]) e++;
    return e;
}

/* Index in its epoch of the first micro-batch of step `step`. */
static int first_batch_of(const trainer *t, int64_t step) {
    int e = epoch_of(t, step);
    return e < t->p->epochs ? (int)(step - t->first_step[e]) * t->p->grad_accum : 0;
}

static int save_checkpoint(trainer *t, int64_t step, int64_t tokens) {
    int epoch = epoch_of(t, step), batch = first_batch_of(t, step);
    octo_ckpt_pos pos = {step, epoch, batch, tokens, octo_tm_micro_steps(t->tm)};
    if (octo_ckpt_save(t->ckpt_dir, &pos, t->config, octo_tm_param(t->tm, 0), octo_tm_n_params(t->tm), t->opt) != 0)
        return octo_fail_context("train: checkpoint at step %lld", (long long)step);
    return 0;
}

static int write_outputs(trainer *t) {
    const octo_train_params *p = t->p;
    if (p->full) return octo_tm_save_model(t->tm, p->out);
    octo_lora *l = octo_tm_export_lora(t->tm);
    if (!l) return -1;
    int rc = octo_lora_save_gguf(l, p->out);
    if (rc == 0 && p->peft_dir) rc = octo_lora_save_peft(l, p->peft_dir, t->model, p->base);
    octo_lora_free(l);
    return rc;
}

/* ---- the loop ---- */

static int train_loop(trainer *t, octo_train_result *r) {
    const octo_train_params *p = t->p;
    int64_t step = 0, tokens = 0;
    if (p->resume) {
        octo_ckpt_pos pos;
        if (octo_ckpt_load(p->resume, t->config, &pos, octo_tm_param(t->tm, 0), octo_tm_n_params(t->tm), t->opt) != 0)
            return -1;
        if (pos.step > t->total_steps || pos.epoch != epoch_of(t, pos.step) || pos.batch != first_batch_of(t, pos.step))
            return octo_fail("resume: %s: step %lld does not fit this run's %lld steps", p->resume,
                             (long long)pos.step, (long long)t->total_steps);
        step = pos.step;
        tokens = pos.tokens;
        octo_tm_set_micro_steps(t->tm, pos.rng);
        octo_progress_note(&t->pr, "resuming from %s at step %lld/%lld (epoch %d, batch %d)", p->resume,
                           (long long)step, (long long)t->total_steps, pos.epoch + 1, pos.batch);
    }
    if (p->metrics && !(t->metrics = octo_metrics_open(p->metrics, p->resume ? step : -1))) return -1;

    const int64_t stop_at = p->max_steps > 0 && p->max_steps < t->total_steps ? p->max_steps : t->total_steps;
    const int64_t first_step = step;
    double train_s = 0, t_start = now_s();
    int64_t session_tokens = 0;
    float last_loss = NAN, last_eval = NAN;
    bool stopped = false;
    while (step < stop_at && !stopped) {
        double t0 = now_s();
        int epoch = epoch_of(t, step), first = first_batch_of(t, step);
        int n_micro = t->n_batches[epoch] - first < p->grad_accum ? t->n_batches[epoch] - first : p->grad_accum;
        double loss_sum = 0;
        for (int j = 0; j < n_micro; j++) {
            octo_batch b;
            int got = octo_batcher_get(t->bt, epoch, first + j, &b);
            if (got < 0) return -1;
            if (got > 0)
                return octo_fail("train: batch %d of epoch %d is missing", first + j, epoch);
            float l = octo_tm_step(t->tm, &b, 1.0f / (float)n_micro);
            if (l < 0) return -1;
            loss_sum += l;
            session_tokens += (int64_t)b.B * b.T;
            tokens += (int64_t)b.B * b.T;
        }
        double lr = octo_schedule_lr(&t->sched, step);
        float gn = octo_adamw_step(t->opt, lr);
        step++;
        train_s += now_s() - t0;
        float loss = (float)(loss_sum / n_micro);
        if (!isfinite(loss))
            return octo_fail("train: the loss is %g at step %lld (lower --lr, or check the data)", loss,
                             (long long)step);
        last_loss = loss;

        octo_train_progress pg = {.step = step,
                                  .total_steps = t->total_steps,
                                  .epoch = epoch + (double)(step - t->first_step[epoch]) /
                                                       (double)(t->first_step[epoch + 1] - t->first_step[epoch]),
                                  .n_epochs = p->epochs,
                                  .loss = loss,
                                  .eval_loss = NAN,
                                  .lr = lr,
                                  .grad_norm = gn,
                                  .tokens = tokens,
                                  .tok_s = train_s > 0 ? session_tokens / train_s : 0,
                                  .elapsed_s = now_s() - t_start};
        pg.eta_s = (double)(stop_at - step) * (train_s / (double)(step - first_step));
        bool end_of_epoch = step == t->first_step[epoch + 1];
        if (t->eval && ((p->eval_every > 0 && step % p->eval_every == 0) ||
                        (p->eval_every <= 0 && end_of_epoch) || step == stop_at)) {
            float el = eval_loss(t);
            if (el < 0) return -1;
            pg.eval_loss = last_eval = el;
        }
        octo_metrics_write(t->metrics, &pg);
        if (p->on_step && !p->on_step(p->user, &pg)) stopped = true;
        bool stopping = stopped || (step == stop_at && stop_at < t->total_steps);
        if (p->save_every > 0 && (step % p->save_every == 0 || stopping) && save_checkpoint(t, step, tokens) != 0)
            return -1;
        octo_progress_update(&t->pr, &pg, stopping || step == stop_at);
    }
    octo_progress_end(&t->pr);
    if (r) {
        r->steps = step;
        r->total_steps = t->total_steps;
        r->session_steps = step - first_step;
        r->session_tokens = session_tokens;
        r->train_s = train_s;
        r->tok_s = train_s > 0 ? session_tokens / train_s : 0;
        r->flops_params = octo_tm_flops_params(t->tm);
        r->mfu = 6.0 * (double)r->flops_params * r->tok_s / (p->peak_flops > 0 ? p->peak_flops : DEFAULT_PEAK_FLOPS);
        r->loss = last_loss;
        r->eval_loss = last_eval;
    }
    return 0;
}

int octo_train(const octo_train_params *p, octo_train_result *result) {
    trainer t = {.p = p};
    octo_progress_init(&t.pr, p->progress ? stderr : NULL);
    octo_train_result r = {.loss = NAN, .eval_loss = NAN};
    int rc = setup(&t, p);
    if (rc == 0) {
        r.n_examples = t.train->n_ex;
        r.n_skipped = t.train->n_skipped + (t.eval ? t.eval->n_skipped : 0);
        r.n_trainable = octo_tm_n_trainable(t.tm);
        if (t.train->n_skipped)
            octo_progress_note(&t.pr, "train: skipped %d bad example(s) of the training data", t.train->n_skipped);
        octo_progress_note(&t.pr, "train: %s, %lld trainable parameters, %d examples, %d batches of %d x %d "
                           "per epoch, %lld steps", p->full ? "full fine-tuning" : "LoRA",
                           (long long)r.n_trainable, t.train->n_ex, t.n_batches[0], t.B, t.T,
                           (long long)t.total_steps);
        rc = train_loop(&t, &r);
    }
    if (rc == 0) rc = write_outputs(&t);
    octo_progress_end(&t.pr);
    teardown(&t);
    if (result) *result = r;
    return rc;
}
