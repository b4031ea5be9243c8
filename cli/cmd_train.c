/* cmd_train.c - `octo train`: fine-tune (full or LoRA) or pretrain a model. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"

static const char *k_help =
    "usage: octo train --base M.gguf --data train.jsonl [--eval eval.jsonl]\n"
    "                  [--lora-rank R --lora-alpha A --lora-targets all-linear | --full]\n"
    "                  [--lr 5e-6] [--batch 4] [--grad-accum 1] [--warmup-ratio 0.2] [--epochs 2]\n"
    "                  [--seq-len N] [-t T] [--save-every N] [--resume DIR] -o OUT\n\n"
    "Train on chat examples (JSONL, {\"messages\": [{\"role\", \"content\"}, ...]} or\n"
    "{\"prompt\", \"completion\"} per line; loss on the assistant turns only), or on\n"
    "plain text with --text (next-token loss on every token). --full writes the\n"
    "trained model to OUT (GGUF); LoRA (the default) writes the adapter to OUT\n"
    "as GGUF in llama.cpp's layout, and with --peft-dir as a PEFT directory too.\n"
    "A progress line goes to stderr; throughput and MFU are printed at the end.\n\n"
    "data:\n"
    "  --base, -m FILE      model to start from (GGUF; a quantized base is dequantized\n"
    "                       for --full, kept as it is under LoRA)\n"
    "  --data FILE          chat JSONL training data\n"
    "  --text FILE...       plain-text files instead (pretraining)\n"
    "  --eval FILE          eval loss on this file (same kind as the training data)\n"
    "  --chat-template T    phi3, chatml, gemma, llama3, llama2, octo (default: the model's)\n"
    "  --seq-len N          tokens per row; longer examples are errors (default min(512, ctx))\n"
    "  --skip-bad           skip and count bad lines instead of stopping at the first\n"
    "model:\n"
    "  --full               full fine-tuning of every weight\n"
    "  --lora-rank R        LoRA rank (default 8)\n"
    "  --lora-alpha A       LoRA alpha; the update is scaled by alpha / rank (default 16)\n"
    "  --lora-targets L     all-linear (default) or a list of q,k,v,o,gate,up,down\n"
    "  --lora-dropout P     dropout on the adapters' input (default 0)\n"
    "  --add-tokens a,b,c   --full: add these special tokens to the vocabulary first\n"
    "optimization:\n"
    "  --lr X               peak learning rate (default 5e-6)\n"
    "  --min-lr X           floor the decay ends at (default 0)\n"
    "  --schedule S         linear (default), cosine or constant, after the warmup\n"
    "  --warmup-ratio X     share of the steps spent warming up from 0 (default 0.2)\n"
    "  --weight-decay X     AdamW decoupled weight decay, not on norms (default 0)\n"
    "  --max-grad-norm X    clip the global gradient norm (default 1; 0: off)\n"
    "  --batch N            rows per micro-batch (default 4)\n"
    "  --grad-accum N       micro-batches per optimizer step (default 1)\n"
    "  --epochs N           passes over the data (default 2)\n"
    "  --max-steps N        stop after N steps (the schedule still spans all epochs)\n"
    "  --seed S             shuffling, LoRA init, dropout (default 42)\n"
    "  -t, --threads N      threads (default: all CPUs); the same seed and -t give\n"
    "                       the same run bit for bit\n"
    "checkpoints and logs:\n"
    "  --save-every N       checkpoint every N steps (atomically) into --checkpoint-dir\n"
    "  --checkpoint-dir D   default OUT.ckpt\n"
    "  --resume D           continue from checkpoint D exactly (same settings required)\n"
    "  --eval-every N       eval every N steps (default: at the end of each epoch)\n"
    "  --metrics FILE       JSONL log: step, epoch, loss, lr, grad_norm, tokens, tok_s,\n"
    "                       eval_loss when computed\n"
    "  -q, --quiet          no progress line\n"
    "                       Ctrl-C stops after the current step, checkpoints (with\n"
    "                       --save-every) and writes the outputs; twice kills\n"
    "output:\n"
    "  -o, --output OUT     the model (--full) or the adapter (LoRA), GGUF\n"
    "  --peft-dir DIR       LoRA: also write a PEFT directory\n";

/* Ctrl-C: finish the current step, checkpoint (with --save-every) and write
 * the outputs; a second Ctrl-C kills as usual. */
static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig) {
    g_interrupted = 1;
    signal(sig, SIG_DFL);
}

static bool keep_going(void *user, const octo_train_progress *pg) {
    (void)user;
    if (g_interrupted) fprintf(stderr, "\ninterrupted after step %lld: writing the outputs\n", (long long)pg->step);
    return !g_interrupted;
}

static bool cli_double(cli_args *a, double *out, double min) {
    const char *flag = a->argv[a->i];
    const char *v = cli_value(a);
    if (!v) return false;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || *end || end == v || !(x >= min) || !isfinite(x)) {
        fprintf(stderr, "%s: %s: expected a number >= %g, got \"%s\"\n", a->cmd, flag, min, v);
        return false;
    }
    *out = x;
    return true;
}

static bool cli_i64(cli_args *a, int64_t *out) {
    uint64_t x;
    if (!cli_u64(a, &x)) return false;
    *out = (int64_t)(x > (uint64_t)INT64_MAX ? INT64_MAX : x);
    return true;
}

int cmd_train(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo train"};
    octo_train_params p;
    octo_train_defaults(&p);
    const char *text[256];
    int n_text = 0;
    double d;
    bool lora_flags = false;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            fputs(k_help, stdout);
            return 0;
        } else if (cli_flag(&a, "--base", "-m")) {
            if (!(p.base = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--data", NULL)) {
            if (!(p.data = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--text", NULL)) {
            a.i++;
            if (a.i >= argc || argv[a.i][0] == '-') return cli_error(a.cmd, "--text needs at least one file");
            while (a.i < argc && argv[a.i][0] != '-') {
                if (n_text == 256) return cli_error(a.cmd, "at most 256 --text files");
                text[n_text++] = argv[a.i++];
            }
        } else if (cli_flag(&a, "--eval", NULL)) {
            if (!(p.eval = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--chat-template", NULL)) {
            if (!(p.chat_template = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--seq-len", NULL)) {
            if (!cli_int(&a, &p.seq_len, 2, 1 << 20)) return 2;
        } else if (cli_flag(&a, "--skip-bad", NULL)) {
            p.skip_bad = true;
            a.i++;
        } else if (cli_flag(&a, "--full", NULL)) {
            p.full = true;
            a.i++;
        } else if (cli_flag(&a, "--lora-rank", NULL)) {
            lora_flags = true;
            if (!cli_int(&a, &p.lora_rank, 1, 4096)) return 2;
        } else if (cli_flag(&a, "--lora-alpha", NULL)) {
            lora_flags = true;
            if (!cli_float(&a, &p.lora_alpha)) return 2;
        } else if (cli_flag(&a, "--lora-targets", NULL)) {
            lora_flags = true;
            if (!(p.lora_targets = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--lora-dropout", NULL)) {
            lora_flags = true;
            if (!cli_float(&a, &p.lora_dropout)) return 2;
        } else if (cli_flag(&a, "--add-tokens", NULL)) {
            if (!(p.add_tokens = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--lr", NULL)) {
            if (!cli_double(&a, &p.lr, 0)) return 2;
        } else if (cli_flag(&a, "--min-lr", NULL)) {
            if (!cli_double(&a, &p.min_lr, 0)) return 2;
        } else if (cli_flag(&a, "--schedule", NULL)) {
            if (!(p.schedule = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--warmup-ratio", NULL)) {
            if (!cli_double(&a, &p.warmup_ratio, 0)) return 2;
        } else if (cli_flag(&a, "--weight-decay", NULL)) {
            if (!cli_double(&a, &p.weight_decay, 0)) return 2;
        } else if (cli_flag(&a, "--max-grad-norm", NULL)) {
            if (!cli_double(&a, &d, 0)) return 2;
            p.max_grad_norm = (float)d;
        } else if (cli_flag(&a, "--batch", NULL)) {
            if (!cli_int(&a, &p.batch, 1, 1 << 16)) return 2;
        } else if (cli_flag(&a, "--grad-accum", NULL)) {
            if (!cli_int(&a, &p.grad_accum, 1, 1 << 16)) return 2;
        } else if (cli_flag(&a, "--epochs", NULL)) {
            if (!cli_int(&a, &p.epochs, 1, 1 << 20)) return 2;
        } else if (cli_flag(&a, "--max-steps", NULL)) {
            if (!cli_i64(&a, &p.max_steps)) return 2;
        } else if (cli_flag(&a, "--seed", NULL)) {
            if (!cli_u64(&a, &p.seed)) return 2;
        } else if (cli_flag(&a, "-t", "--threads")) {
            if (!cli_int(&a, &p.n_threads, 1, 1024)) return 2;
        } else if (cli_flag(&a, "--save-every", NULL)) {
            if (!cli_int(&a, &p.save_every, 1, 1 << 30)) return 2;
        } else if (cli_flag(&a, "--checkpoint-dir", NULL)) {
            if (!(p.checkpoint_dir = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--resume", NULL)) {
            if (!(p.resume = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--eval-every", NULL)) {
            if (!cli_int(&a, &p.eval_every, 1, 1 << 30)) return 2;
        } else if (cli_flag(&a, "--metrics", NULL)) {
            if (!(p.metrics = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-q", "--quiet")) {
            p.progress = false;
            a.i++;
        } else if (cli_flag(&a, "-o", "--output")) {
            if (!(p.out = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--peft-dir", NULL)) {
            if (!(p.peft_dir = cli_value(&a))) return 2;
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!p.base || !p.out) return cli_error(a.cmd, "--base MODEL and -o OUT are required (see --help)");
    if (!p.data && !n_text) return cli_error(a.cmd, "--data FILE or --text FILE... is required (see --help)");
    if (p.data && n_text) return cli_error(a.cmd, "--data and --text exclude each other");
    if (p.full && lora_flags) return cli_error(a.cmd, "--full and --lora-* exclude each other");
    if (p.full && p.peft_dir) return cli_error(a.cmd, "--peft-dir writes a LoRA adapter; it does not go with --full");
    p.text = text;
    p.n_text = n_text;
    p.on_step = keep_going;
    signal(SIGINT, on_sigint);
    octo_train_result r;
    int rc = octo_train(&p, &r);
    signal(SIGINT, SIG_DFL);
    if (rc != 0) return cli_error(a.cmd, "%s", octo_last_error());
    if (r.n_skipped) fprintf(stderr, "skipped %d bad example(s)\n", r.n_skipped);
    if (!isnan(r.eval_loss)) fprintf(stderr, "final loss %.4f, eval loss %.4f\n", r.loss, r.eval_loss);
    else fprintf(stderr, "final loss %.4f\n", r.loss);
    fprintf(stderr,
            "trained %lld steps (%lld/%lld in all), %lld tokens in %.2f s: %.1f tok/s, MFU %.1f%% "
            "(6 x %.2fM params x tok/s / 570 GFLOP/s)\n",
            (long long)r.session_steps, (long long)r.steps, (long long)r.total_steps, (long long)r.session_tokens,
            r.train_s, r.tok_s, 100.0 * r.mfu, r.flops_params / 1e6);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) fprintf(stderr, "peak RSS %.1f MiB\n", ru.ru_maxrss / 1024.0);
    fprintf(stderr, "wrote %s%s%s\n", p.out, p.peft_dir ? " and " : "", p.peft_dir ? p.peft_dir : "");
    return 0;
}
