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
} octo_model_init_params;

/* Write a model with random weights (normal, std 0.02; norms 1). */
int octo_model_init_file(const octo_model_init_params *p, const char *out_path);

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
