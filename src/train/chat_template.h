/* chat_template.h - conversations rendered to the exact text a model was
 * trained on, with the bytes the model must learn to produce marked.
 *
 * Jinja is not interpreted: the few formats the supported architectures
 * use are written out here, and a GGUF's tokenizer.chat_template text is
 * only recognised (octo_chat_template_resolve, in octo.h):
 *   phi3    <|user|>\n{q}<|end|>\n<|assistant|>\n{a}<|end|>\n
 *   chatml  <|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n{a}<|im_end|>\n   (qwen2)
 *   gemma   <start_of_turn>user\n{q}<end_of_turn>\n<start_of_turn>model\n{a}<end_of_turn>\n
 *   llama3  <|start_header_id|>user<|end_header_id|>\n\n{q}<|eot_id|>... (assistant likewise)
 *   llama2  [INST] {q} [/INST] {a} </s>   (later turns start with <s>)
 *   octo    <|user|>{q}<|end|><|assistant|>{a}<|end|>   (octo's own, no newlines)
 * System messages: their own turn where the format has one (phi3, chatml,
 * llama3, octo), folded into the first user turn where it does not (gemma,
 * llama2).  BOS is never part of the text: the tokenizer's add_bos adds it,
 * at inference as in training.
 *
 * An assistant turn is always the generation header (what
 * octo_chat_render_prompt ends with) + the answer + the closing token, so
 * the prompt of a conversation is byte for byte a prefix of its training
 * text.  The output is a list of parts so the data loader can tokenize
 * markup with special tokens on and message content with them off (a user
 * cannot inject "<|end|>"), and knows which tokens carry the loss.
 */
#ifndef OCTO_TRAIN_CHAT_TEMPLATE_H
#define OCTO_TRAIN_CHAT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "octo.h"

typedef struct {
    size_t off, len; /* bytes of the rendered text */
    bool special;    /* exactly one special token's text (template markup) */
    bool content;    /* message content: special tokens in it are plain text */
    bool loss;       /* assistant output the model learns (answer + closing token) */
} octo_chat_part;

typedef struct {
    char *text; /* NUL-terminated */
    size_t len;
    octo_chat_part *parts; /* in text order, covering it exactly */
    int n_parts, cap_parts;
} octo_chat_rendered;

/* Render n messages with template tmpl (a canonical name, any name or
 * template text octo_chat_template_resolve accepts). add_generation_prompt
 * appends the assistant header. Returns 0 or -1 (error set: unknown role,
 * NULL content, a system message where the format cannot place it). */
int octo_chat_render(const char *tmpl, const octo_chat_msg *msgs, int n, bool add_generation_prompt,
                     octo_chat_rendered *out);
void octo_chat_rendered_free(octo_chat_rendered *r);

#endif
