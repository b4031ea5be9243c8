/* octo.h - the public C API of libocto.
 *
 * octo runs, fine-tunes and evaluates small language models for on-device
 * planner-action agents.  This header is the whole interface: the CLI is a
 * thin layer over it, so an application can do everything the CLI does.
 *
 * Conventions:
 *  - Functions that can fail return NULL, a negative number or -1, and leave
 *    a one-line message in octo_last_error() (thread-local).
 *  - Objects are created by *_new / *_load and released by *_free.
 *  - A model is read-only once loaded and may be shared by several contexts;
 *    a context (KV cache, scratch, threads) is used by one thread at a time.
 */
#ifndef OCTO_H
#define OCTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OCTO_VERSION "0.1.0"

/* ---- errors ---- */
const char *octo_last_error(void);

/* ---- models ---- */
typedef struct octo_model octo_model;
typedef struct octo_tokenizer octo_tokenizer;

/* Load a GGUF model (mapped, not copied). */
octo_model *octo_model_load(const char *path);
void octo_model_free(octo_model *m);
const octo_tokenizer *octo_model_tokenizer(const octo_model *m);
int octo_model_n_vocab(const octo_model *m);
int octo_model_n_ctx_train(const octo_model *m);

typedef struct {
    const char *arch;      /* "llama", ... */
    const char *type_name; /* the type most weight bytes are stored in ("Q4_0", ...) */
    size_t weight_bytes;   /* bytes of all tensors */
    int64_t n_params;      /* elements of all tensors */
    size_t decode_bytes;   /* weight bytes one decoded token reads (all but the embedding rows) */
} octo_model_stats;
void octo_model_get_stats(const octo_model *m, octo_model_stats *s);

/* Print architecture, hyperparameters, tokenizer, metadata and the tensor
 * table of a GGUF file (`octo info`). all_keys: print long arrays in full. */
int octo_info_print(const char *path, FILE *out, bool all_keys);

/* ---- tokenizer ---- */
/* A tokenizer alone, from any GGUF file that carries one (a model or a
 * vocab-only file). */
octo_tokenizer *octo_tokenizer_open(const char *path);
void octo_tokenizer_close(octo_tokenizer *t);

/* Tokenize len bytes. Writes up to max ids and returns how many the text
 * needs (call again with a bigger buffer if larger than max), -1 on error.
 * parse_special: match special tokens such as "<|user|>" in the text. */
int octo_tokenize(const octo_tokenizer *t, const char *text, size_t len, bool add_bos, bool parse_special,
                  int32_t *out, int max);
/* Bytes of one token's text; returns the length (may exceed cap). */
int octo_token_to_piece(const octo_tokenizer *t, int32_t id, bool special, char *buf, int cap);
char *octo_detokenize(const octo_tokenizer *t, const int32_t *ids, int n, bool special);
int32_t octo_tokenizer_bos(const octo_tokenizer *t);
int32_t octo_tokenizer_eos(const octo_tokenizer *t);
bool octo_tokenizer_is_eog(const octo_tokenizer *t, int32_t id);
bool octo_tokenizer_add_bos(const octo_tokenizer *t);

/* ---- inference context ---- */
typedef struct octo_ctx octo_ctx;

typedef struct {
    int n_ctx;     /* KV cache length in tokens (0: min(training context, 4096)) */
    int n_batch;   /* largest batch evaluated at once (0: 512) */
    int n_threads; /* 0: all CPUs */
} octo_ctx_params;

octo_ctx *octo_ctx_new(octo_model *m, const octo_ctx_params *p);
void octo_ctx_free(octo_ctx *c);
/* Evaluate n tokens after those already cached. all_logits keeps the logits
 * of every token (n <= n_batch), otherwise only the last token's. */
int octo_ctx_decode(octo_ctx *c, const int32_t *tokens, int n, bool all_logits);
/* Logits (n_vocab floats) of token i of the last decode; i = -1: the last. */
const float *octo_ctx_logits(const octo_ctx *c, int i);
int octo_ctx_n_past(const octo_ctx *c);
int octo_ctx_n_ctx(const octo_ctx *c);
void octo_ctx_truncate(octo_ctx *c, int n_keep); /* 0 clears the cache */
size_t octo_ctx_kv_bytes(const octo_ctx *c);

/* ---- sampling ---- */
typedef struct {
    float temperature;    /* <= 0: greedy */
    int top_k;            /* <= 0: off */
    float top_p;          /* >= 1: off */
    float min_p;          /* <= 0: off */
    float repeat_penalty; /* 1: off */
    int repeat_last_n;
    uint64_t seed;
} octo_sampler_params;

typedef struct octo_sampler octo_sampler;
void octo_sampler_defaults(octo_sampler_params *p);
octo_sampler *octo_sampler_new(const octo_sampler_params *p, int n_vocab);
void octo_sampler_free(octo_sampler *s);
int32_t octo_sampler_sample(octo_sampler *s, const float *logits);
void octo_sampler_accept(octo_sampler *s, int32_t token);

/* ---- generation ---- */
typedef struct {
    int n_predict;              /* max new tokens (<= 0: until end of generation or context) */
    octo_sampler_params sampling;
    const char *const *stop;    /* stop strings (not included in the output) */
    int n_stop;
    bool parse_special;         /* special tokens in the prompt (default true) */
    int add_bos;                /* -1: as the model says, 0: no, 1: yes */
    /* Called with each piece of new text as soon as it is final; return
     * false to stop. May be NULL. */
    bool (*on_text)(void *user, const char *text, size_t len);
    void *user;
} octo_generate_params;

typedef struct {
    int n_prompt, n_generated;
    double prompt_ms, generate_ms;
    int stopped_by; /* 0: n_predict, 1: end-of-generation token, 2: stop string, 3: callback, 4: context full */
} octo_generate_stats;

void octo_generate_defaults(octo_generate_params *p);
/* Clear the context, evaluate the prompt, generate. Returns the new text
 * (malloc'd, NUL-terminated) or NULL on error. */
char *octo_generate(octo_ctx *c, const char *prompt, const octo_generate_params *p, octo_generate_stats *stats);

/* ---- model files ---- */
/* Requantize every 2-D weight of a model to type ("Q8_0", "Q4_0", "F16",
 * "BF16", "F32", "Q4_K", "Q6_K"); norms and biases stay F32. */
int octo_quantize_file(const char *in_path, const char *out_path, const char *type, int n_threads);

typedef struct {
    const char *arch; /* "llama", "phi3", "qwen2", "gemma" */
    int n_embd, n_layer, n_head, n_head_kv, n_ff;
    int n_ctx;        /* context length stored in the file (0: 2048) */
    float rope_base;  /* 0: 10000 */
    bool tied_output; /* no separate output.weight */
    uint64_t seed;
    const char *vocab_from; /* GGUF file whose tokenizer the model takes */
    const char *weight_type; /* NULL or "F32"; else each 2-D weight is quantized as it is
                                made (the rules of octo_quantize_file), so a 3.8 B model
                                never exists in F32 in memory */
} octo_model_init_params;

/* Write a model with random weights (normal, std 0.02; norms 1). */
int octo_model_init_file(const octo_model_init_params *p, const char *out_path);

/* ---- tokenizer training ---- */
/* Byte-level BPE (GPT-2 family) learned from text: 256 byte tokens, then one
 * token per merge, then the special tokens (CONTROL), written as a
 * vocabulary-only GGUF that octo_tokenizer_open, `octo model init
 * --vocab-from` and llama.cpp read. Deterministic: the same files and
 * parameters give the same file, byte for byte. */
typedef struct {
    int vocab_size;              /* all tokens: 256 bytes + merges + specials */
    const char *const *specials; /* CONTROL tokens (roles, end of text): parsed only when asked;
                                    NULL: <|endoftext|> <|system|> <|user|> <|assistant|> <|end|> */
    int n_specials;
    const char *const *user_specials; /* USER_DEFINED tokens (functional tokens such as
                                         <nexa_split>): always one token, even in message content */
    int n_user_specials;
    const char *pre;             /* pre-tokenizer: "qwen2" (default), "llama-bpe", "gpt-2", "default" */
    int64_t min_frequency;       /* pairs seen fewer times are never merged (0: 2) */
    const char *name;            /* general.name (NULL: "octo-bpe") */
} octo_bpe_params;

typedef struct {
    int64_t n_bytes, n_words, n_unique_words; /* text seen, pre-tokenized words */
    int n_vocab, n_merges, n_specials;        /* what was written */
    double count_s, merge_s;                  /* time spent counting words, merging */
} octo_bpe_stats;

typedef struct octo_bpe_trainer octo_bpe_trainer;
octo_bpe_trainer *octo_bpe_trainer_new(const octo_bpe_params *p);
void octo_bpe_trainer_free(octo_bpe_trainer *tr);
/* Count the words of a text (or of a file, read in pieces). */
int octo_bpe_trainer_add_text(octo_bpe_trainer *tr, const char *text, size_t len);
int octo_bpe_trainer_add_file(octo_bpe_trainer *tr, const char *path);
/* Learn the merges and write the GGUF atomically; stats may be NULL. */
int octo_bpe_trainer_write(octo_bpe_trainer *tr, const char *path, octo_bpe_stats *stats);

/* ---- chat templates ---- */
/* One conversation turn; role is "system", "user" or "assistant". */
typedef struct {
    const char *role;
    const char *content;
} octo_chat_msg;

/* Canonical template name ("phi3", "chatml", "gemma", "llama3", "llama2",
 * "octo") for a name or for a tokenizer.chat_template text; NULL (error set)
 * when none fits. */
const char *octo_chat_template_resolve(const char *name_or_text);
/* The template of a tokenizer: its tokenizer.chat_template resolved, else
 * guessed from its special tokens; NULL (error set) if neither works. */
const char *octo_chat_template_of(const octo_tokenizer *t);
/* The prompt a model continues to answer: msgs rendered, then the assistant
 * header, byte for byte what training renders before an answer. No BOS
 * text: tokenize with add_bos = octo_tokenizer_add_bos(). Returns a
 * malloc'd NUL-terminated string (*len its length if len is not NULL), or
 * NULL (error set). */
char *octo_chat_render_prompt(const char *tmpl, const octo_chat_msg *msgs, int n, size_t *len);
/* The text that closes an assistant turn ("<|end|>", "<|im_end|>", ...). */
const char *octo_chat_template_eot(const char *tmpl);

/* ---- LoRA adapters ----
 * An adapter adds scale * B A to some 2-D weights W [out][in] of a base
 * model (A [rank][in], B [out][rank], scale = user scale * alpha / rank, or
 * the user scale alone when alpha is 0, as in llama.cpp).  Files: GGUF in
 * llama.cpp's adapter layout (usable with its --lora) and PEFT directories
 * (adapter_config.json + adapter_model.safetensors, Hugging Face names). */
typedef struct octo_lora octo_lora;

/* Load a GGUF adapter or a PEFT directory. base (may be NULL) is the model
 * it adapts: when given, the adapter is checked against it (architecture,
 * tensor names and shapes) and supplies what a PEFT directory leaves out
 * (architecture, head counts for llama's permuted q/k rows). */
octo_lora *octo_lora_load(const char *path, const octo_model *base);
void octo_lora_free(octo_lora *l);
/* Write as GGUF (F32) / as a PEFT directory (created if needed); atomic.
 * base (may be NULL) as for octo_lora_load; base_model_name goes to
 * base_model_name_or_path. */
int octo_lora_save_gguf(const octo_lora *l, const char *path);
int octo_lora_save_peft(const octo_lora *l, const char *dir, const octo_model *base, const char *base_model_name);
/* Architecture, alpha, rank and tensor table (`octo lora info`). */
void octo_lora_print_info(const octo_lora *l, FILE *out);

/* Apply n adapters unmerged from the next decode on (n = 0: none).
 * scales: one per adapter (NULL: all 1). The context keeps its own copy,
 * so the adapters may be freed afterwards. Positions already in the KV
 * cache are not recomputed (octo_ctx_truncate(c, 0) to start over). */
int octo_ctx_set_adapters(octo_ctx *c, octo_lora *const *adapters, const float *scales, int n);

typedef enum { OCTO_MERGE_LINEAR, OCTO_MERGE_TIES, OCTO_MERGE_DARE } octo_merge_method;
typedef struct {
    octo_merge_method method;
    const float *weights; /* one per adapter (NULL: all 1) */
    float density;        /* TIES, DARE: fraction of each task vector kept (0: 0.5) */
    uint64_t seed;        /* DARE's random drop */
    const char *type;     /* type of the merged weights: "F32", "F16", "Q8_0", "Q4_0" (NULL: each weight's own) */
    int n_threads;        /* 0: all CPUs */
} octo_merge_params;
void octo_merge_defaults(octo_merge_params *p);
/* Merge adapters into the base model base_path and write the result as a
 * GGUF model to out_path (atomically). linear: W + sum_i w_i s_i B_i A_i;
 * ties and dare combine the dense deltas s_i B_i A_i as PEFT/mergekit do. */
int octo_lora_merge(const char *base_path, octo_lora *const *adapters, int n, const octo_merge_params *p,
                    const char *out_path);

/* ---- training ----
 * Fine-tune a model (every weight, or LoRA adapters beside a frozen base
 * that may stay quantized) on chat JSONL ({"messages": [...]} per line, loss
 * on the assistant turns), or pretrain it on plain text (`octo train`).
 * AdamW with global-norm clipping, warmup then linear/cosine/constant
 * learning rate, gradient accumulation, epochs over a seeded shuffle. With
 * the same seed and thread count a run is reproducible bit for bit, and a
 * run resumed from a checkpoint continues exactly as if never stopped. */
typedef struct {
    int64_t step, total_steps; /* optimizer steps done (>= 1) / planned */
    double epoch;              /* fractional: epochs done so far */
    int n_epochs;
    float loss;                /* mean loss of this step's micro-batches */
    float eval_loss;           /* NAN unless evaluated at this step */
    double lr;                 /* the rate this step used */
    float grad_norm;           /* global L2 norm before clipping */
    int64_t tokens;            /* tokens trained on so far (B x T per micro-batch) */
    double tok_s, elapsed_s, eta_s; /* throughput and times of this session */
} octo_train_progress;

typedef struct {
    const char *base;          /* GGUF model to start from */
    const char *data;          /* chat JSONL (or NULL when text is given) */
    const char *const *text;   /* plain-text files: next-token loss on every token */
    int n_text;
    const char *eval;          /* eval loss on this file (same kind as the training data) */
    const char *out;           /* full: the model, GGUF; LoRA: the adapter, GGUF (llama.cpp layout) */
    const char *peft_dir;      /* LoRA: also write a PEFT directory (may be NULL) */
    const char *chat_template; /* NULL: the model's */
    bool full;                 /* full fine-tuning; false: LoRA */
    int lora_rank;             /* default 8 */
    float lora_alpha;          /* default 16 */
    float lora_dropout;        /* default 0 */
    const char *lora_targets;  /* "all-linear" (default) or a list of q,k,v,o,gate,up,down */
    const char *add_tokens;    /* full only: comma list of special tokens added to the vocabulary */
    double lr;                 /* peak learning rate (default 5e-6) */
    double min_lr;             /* floor of the decay (default 0) */
    double warmup_ratio;       /* default 0.2 */
    const char *schedule;      /* "linear" (default), "cosine", "constant" */
    double weight_decay;       /* default 0 (never on norms and biases) */
    double beta1, beta2, eps;  /* default 0.9, 0.999, 1e-8 */
    float max_grad_norm;       /* default 1; <= 0: no clipping */
    int batch;                 /* rows per micro-batch (default 4) */
    int grad_accum;            /* micro-batches per optimizer step (default 1) */
    int epochs;                /* default 2 */
    int seq_len;               /* tokens per row (0: min(512, training context)) */
    int n_threads;             /* 0: all CPUs */
    uint64_t seed;             /* shuffling, LoRA init and dropout (default 42) */
    int64_t max_steps;         /* stop after this many steps (0: never); the schedule still spans all epochs */
    int save_every;            /* checkpoint every N steps (0: never) */
    const char *checkpoint_dir;/* NULL: OUT.ckpt */
    const char *resume;        /* continue from this checkpoint directory */
    int eval_every;            /* eval every N steps (0: at the end of each epoch) */
    const char *metrics;       /* JSONL log, one object per step (may be NULL) */
    bool skip_bad;             /* skip and count bad dataset lines instead of failing */
    bool progress;             /* a live progress line on stderr (default true) */
    double peak_flops;         /* for MFU (0: 570e9, this project's 2-core reference machine) */
    /* Called after every step; return false to stop (a checkpoint is
     * written when save_every is set, then the outputs). May be NULL. */
    bool (*on_step)(void *user, const octo_train_progress *p);
    void *user;
} octo_train_params;

typedef struct {
    int64_t steps, total_steps; /* steps done in all (resumed runs included) / planned */
    int64_t session_steps, session_tokens; /* this call */
    double train_s;            /* time in forward, backward and optimizer (no eval, no saving) */
    double tok_s, mfu;         /* session tokens / train_s; 6 x params x tok_s / peak */
    float loss, eval_loss;     /* last step's loss, last eval loss (NAN if none) */
    int n_examples, n_skipped; /* training examples used / bad lines skipped */
    int64_t n_trainable;       /* trainable elements */
    int64_t flops_params;      /* parameters a forward pass multiplies per token */
} octo_train_result;

void octo_train_defaults(octo_train_params *p);
/* Train and write the outputs. 0, or -1 with the error (a dataset error
 * reads "FILE:LINE: reason"). result may be NULL. */
int octo_train(const octo_train_params *p, octo_train_result *result);

/* ---- agents ----
 * The planner turns a request into 1-5 steps; the action model turns each
 * step (and the previous call's observation) into one function call; the
 * agent runs both and executes the calls. Models are loaded once by the
 * caller and borrowed (they must outlive the planner/actor); each planner
 * and actor owns an inference context, so one thread uses each at a time.
 * Decoding is constrained by default: the planner writes 1-5 steps, the
 * action model one functional token of the set then arguments following the
 * function's JSON Schema, so every output parses and validates. Formats:
 * docs/agents.md. */
typedef struct octo_funcset octo_funcset;
/* A function set file (the functions/ JSON format, docs/functions.md). */
octo_funcset *octo_funcset_load(const char *path);
void octo_funcset_free(octo_funcset *fs);

typedef struct octo_planner octo_planner;
typedef struct octo_actor octo_actor;
typedef struct octo_agent octo_agent;

typedef struct {
    int n_ctx;                    /* 0: the model's, at most 4096 */
    int n_threads;                /* 0: all CPUs */
    octo_sampler_params sampling; /* default greedy (temperature 0) */
    bool constrain;               /* default true */
    int max_steps;                /* planner: 1..5 (default 5) */
    int max_tokens;               /* per output (0: 512 planner, 1024 action) */
    int max_string;               /* action: longest string argument in bytes (0: 512) */
} octo_agent_params;
void octo_agent_params_default(octo_agent_params *p);

/* Timings of the last octo_planner_plan / octo_actor_act. */
typedef struct {
    int n_prompt, n_generated;
    double prompt_ms, forward_ms, constrain_ms, total_ms;
} octo_agent_stats;

octo_planner *octo_planner_new(octo_model *m, const octo_agent_params *p);
void octo_planner_free(octo_planner *pl);
octo_ctx *octo_planner_ctx(octo_planner *pl); /* e.g. for octo_ctx_set_adapters */
/* The steps of a request: returns their number (*steps: malloc'd array of
 * malloc'd strings, free with octo_strings_free), or -1. */
int octo_planner_plan(octo_planner *pl, const char *request, char ***steps);
void octo_planner_stats(const octo_planner *pl, octo_agent_stats *s);
void octo_strings_free(char **s, int n);

/* fs is borrowed; the model must carry the set's functional tokens. */
octo_actor *octo_actor_new(octo_model *m, const octo_funcset *fs, const octo_agent_params *p);
void octo_actor_free(octo_actor *a);
octo_ctx *octo_actor_ctx(octo_actor *a);

typedef struct {
    char *function;  /* a name from the set */
    char *arguments; /* compact JSON object, valid for the function's schema */
} octo_agent_call;
/* One call for a step; observation (may be NULL) is what the previous call
 * returned. Returns 0, or -1 when the step maps to no function (possible
 * only without constraints) or the arguments do not validate. */
int octo_actor_act(octo_actor *a, const char *step, const char *observation, octo_agent_call *call);
void octo_agent_call_free(octo_agent_call *c);
void octo_actor_stats(const octo_actor *a, octo_agent_stats *s);

/* A function handler in the application: returns 0 with *observation set
 * (malloc'd, may stay NULL) or non-zero for a failed call (*observation may
 * then hold the reason). */
typedef int (*octo_tool_fn)(void *user, const char *function, const char *arguments, char **observation);

octo_agent *octo_agent_new(octo_planner *pl, octo_actor *ac);
void octo_agent_free(octo_agent *ag);
/* Handle calls of `function` (NULL: every function without a handler of its
 * own) with fn, instead of the set's exec/http handler. */
int octo_agent_set_handler(octo_agent *ag, const char *function, octo_tool_fn fn, void *user);

typedef struct {
    char *query;
    char **steps;
    int n_steps;
    octo_agent_call *calls; /* the calls made, in order */
    int n_calls;
    char **observations;    /* [n_calls]: what each call returned (NULL in a dry run) */
    int failed_step;        /* -1: every step done; else the 0-based step that stopped the run */
    char *error;            /* why it stopped, NULL if it did not */
    double plan_ms, act_ms, exec_ms;
} octo_run_result;
/* Plan, then for each step act and execute (dry_run: calls made, nothing
 * executed), each observation going to the next step. A step that maps to
 * no function or a failed call stops the run: returns -1 with r->error and
 * r->failed_step set (r holds what was done so far). Returns 0 when every
 * step ran. Free r with octo_run_result_free either way. */
int octo_agent_run(octo_agent *ag, const char *request, bool dry_run, octo_run_result *r);
/* The same from given steps instead of the planner's (an application's own
 * plan; evaluating the action model on reference steps). */
int octo_agent_run_plan(octo_agent *ag, const char *request, const char *const *steps, int n, bool dry_run,
                        octo_run_result *r);
void octo_run_result_free(octo_run_result *r);
/* One line of JSON: {"query", "steps": [...], "calls": [{"function",
 * "arguments"}], "observations" (when executed), "error" (when stopped)}. */
char *octo_run_result_json(const octo_run_result *r);

/* ---- function sets and datasets ----
 * Function-set files (the OpenAI "tools" schema plus exec/http handlers)
 * and dataset files of canonical records (JSONL: {"query", "steps",
 * "calls": [{"function", "arguments"}], "domains"}, steps and calls aligned
 * one to one). Formats and rules: docs/data.md. Outputs are written
 * atomically. */
/* Path of a shipped set by name ("android": $OCTO_DATA_DIR/functions, then
 * beside the executable, then ./functions), or a file path as given.
 * malloc'd, NULL if not found. */
char *octo_funcset_path(const char *name);
int octo_funcset_size(const octo_funcset *fs);
const char *octo_funcset_function_name(const octo_funcset *fs, int i); /* NULL out of range */
/* Check a call (arguments: a JSON object's text) against the function's
 * schema: 0, or -1 with the reason in octo_last_error(). */
int octo_funcset_check_call(const octo_funcset *fs, const char *function, const char *arguments);
/* Run the function's exec or http handler (arguments checked first): 0 with
 * *observation (malloc'd), or -1 with the error set and *observation
 * holding what output there was (or NULL). */
int octo_funcset_call(const octo_funcset *fs, const char *function, const char *arguments, char **observation);

/* TaskBench labeled records -> canonical records in execution order; odd
 * records go to rejects_path (may be NULL) with their reasons. fs (may be
 * NULL: no tool check) is the set the tools must belong to. */
int octo_data_convert_taskbench(const char *in_path, const char *out_path, const octo_funcset *fs,
                                const char *rejects_path, int *n_converted, int *n_rejected);
/* Rule checks of every record against fs (function exists, arguments
 * satisfy the schema, values grounded in step and request, order agrees
 * with the request's connectors). kept/rejected paths may be NULL. */
int octo_data_validate(const octo_funcset *fs, const char *in_path, const char *kept_path, const char *rejected_path,
                       int *n_kept, int *n_rejected);
/* Shuffle with seed and cut by ratios (summing to 1) into
 * PREFIX.train/valid/test.jsonl (2 ratios: train/test); counts[k] = sizes. */
int octo_data_split(const char *in_path, const double *ratios, int n_parts, uint64_t seed, const char *prefix,
                    int *counts);
/* Counts, plan lengths, functions, distinct query n-grams, templates: text or JSON. */
int octo_data_stats(const char *in_path, FILE *out, bool json);
typedef struct {
    int n_in, n_out;
    int n_exact; /* the same JSON as an earlier line */
    int n_query; /* another record with the same normalized query */
    int n_bad;   /* lines that are not JSON objects with a "query" (kept as they are) */
} octo_dedupe_stats;
/* Keep the first of exact duplicates and of equal normalized queries;
 * removed_path (may be NULL) receives the others. */
int octo_data_dedupe(const char *in_path, const char *out_path, const char *removed_path, octo_dedupe_stats *st);

/* ---- offline data generator ----
 * Canonical records for one or more function sets composed from the
 * phrasing files (phrasings/README.md; docs/functions.md): plan lengths 1-5
 * equally often, deterministic for a seed, every record passing the rules
 * of octo_data_validate. phrasings_root NULL: beside the first set
 * (<dir>/../phrasings, then $OCTO_DATA_DIR/phrasings, then ./phrasings).
 * n <= 0: 800 x the number of functions. holdout: 0 all phrasings, 1 the
 * training part, 2 the held-out part. Returns the records written, or -1. */
int octo_data_generate(const octo_funcset *const *sets, int n_sets, const char *phrasings_root, int n,
                       uint64_t seed, int holdout, const char *out_path);

/* ---- evaluation ----
 * `octo eval`: run the planner and the action model over a test set and
 * score every plan against its reference (docs/eval.md defines each
 * number), or score a file of predictions made by any system. The test set
 * is canonical JSONL or raw TaskBench records (detected and converted, the
 * task_links kept so that any order respecting them counts). Handlers are
 * never executed: each step is acted on as in `octo run --dry-run`, with no
 * observation from the previous call. */
typedef struct octo_eval_result octo_eval_result;

typedef struct {
    const char *data;            /* test set (required) */
    const char *planner, *action; /* model files; one file may serve both */
    const char *planner_lora, *action_lora; /* adapters applied unmerged (NULL: none) */
    const char *predictions;     /* score this JSONL instead of running models: one record
                                    per test record, in the same order (`octo run --json`) */
    int limit;                   /* the first N test records (0: all) */
    octo_agent_params agent;     /* decoding and threads of both models */
    const char *judge_url, *judge_model, *judge_key_env; /* LLM judge (url NULL: none) */
    const char *const *train_logs; /* training metrics JSONL for the report's loss chart */
    int n_train_logs;
    /* called after each record is predicted (may be NULL) */
    void (*progress)(void *user, int done, int total, double latency_ms);
    void *progress_user;
} octo_eval_params;
void octo_eval_params_default(octo_eval_params *p);

/* Run (or read) every prediction and score it against fs (borrowed).
 * Errors in the inputs ("FILE:LINE: reason") stop before anything is
 * scored. Returns NULL with the error set. */
octo_eval_result *octo_eval_run(const octo_funcset *fs, const octo_eval_params *p);
void octo_eval_result_free(octo_eval_result *r);
int octo_eval_result_n(const octo_eval_result *r); /* records scored */
/* The summary as JSON text (what report.json holds), malloc'd. */
char *octo_eval_result_json(const octo_eval_result *r);
/* Overall and per-plan-length scores and the speed figures as a table. */
void octo_eval_result_print(const octo_eval_result *r, FILE *out);
/* dir/report.json, report.md and the SVG charts, each written atomically. */
int octo_eval_result_write(const octo_eval_result *r, const char *dir);

/* ---- utilities ---- */
/* A whole file as a NUL-terminated heap buffer (size without the NUL). */
char *octo_read_file(const char *path, size_t *size_out);
/* Write n bytes of s as a JSON string literal (invalid UTF-8 -> U+FFFD). */
void octo_json_write_str(FILE *f, const char *s, size_t n);

/* ---- kernels ---- */
const char *octo_kernel_isa(void);        /* "avx512", "avx2", "neon", "scalar" */
int octo_kernel_set_isa(const char *isa); /* for tests and benchmarks */

#ifdef __cplusplus
}
#endif
#endif
