/* cmd_tokenizer.c - `octo tokenizer train`: learn a byte-level BPE
 * vocabulary from text files and write it as a vocabulary-only GGUF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *k_help =
    "usage: octo tokenizer train --vocab-size N [--special LIST] [--user-special LIST]\n"
    "                            [--pre NAME] [--min-frequency F] [--name NAME] -o OUT.gguf FILE...\n\n"
    "Learn a byte-level BPE vocabulary (GPT-2 family) of N tokens from the text\n"
    "FILEs and write it as a GGUF that `octo tokenize`, `octo model init\n"
    "--vocab-from` and llama.cpp read. The same files and options always give\n"
    "the same file.\n\n"
    "  --vocab-size N      all tokens: 256 byte tokens + learned merges + specials\n"
    "  --special LIST      comma-separated special (control) tokens, appended last\n"
    "                      (default \"<|endoftext|>,<|system|>,<|user|>,<|assistant|>,<|end|>\",\n"
    "                      octo's chat format; \"\" for none). <|endoftext|> is added\n"
    "                      when no end-of-text token is listed. Specials found in the\n"
    "                      text are cut out before counting. They are parsed only where\n"
    "                      asked (template markup), never inside message content.\n"
    "  --user-special LIST comma-separated user-defined tokens (functional tokens such as\n"
    "                      <nexa_split>): one token wherever they appear, content included\n"
    "  --pre NAME          pre-tokenizer: qwen2 (default; decoding gives back the exact\n"
    "                      text), llama-bpe, gpt-2, default (these three also tidy\n"
    "                      \" ,\" and \" .\" when decoding, as llama.cpp does)\n"
    "  --min-frequency F   never merge a pair seen fewer than F times (default 2)\n"
    "  --name NAME         general.name of the file (default octo-bpe)\n"
    "  -o, --output FILE   where to write the GGUF\n";

/* Split a comma list in place into at most max entries; returns the count. */
static int split_list(char *s, const char **out, int max) {
    int n = 0;
    if (!*s) return 0;
    for (char *p = s;; p++) {
        if (*p == ',' || *p == 0) {
            bool end = *p == 0;
            *p = 0;
            if (n < max) out[n] = s;
            n++;
            if (end) break;
            s = p + 1;
        }
    }
    return n;
}

static int train(int argc, char **argv) {
    cli_args a = {argc, argv, 2, "octo tokenizer train"};
    octo_bpe_params p = {0};
    const char *out = NULL, *special = NULL, *user_special = NULL;
    const char **files = calloc((size_t)argc, sizeof *files);
    int n_files = 0, min_freq = 0, rc = 2;
    char *special_buf = NULL, *user_buf = NULL;
    const char **sp = NULL, **us = NULL;
    octo_bpe_trainer *tr = NULL;
    if (!files) return cli_error(a.cmd, "out of memory");
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            fputs(k_help, stdout);
            rc = 0;
            goto done;
        } else if (cli_flag(&a, "--vocab-size", NULL)) {
            if (!cli_int(&a, &p.vocab_size, 1, 1 << 24)) goto done;
        } else if (cli_flag(&a, "--special", NULL)) {
            if (!(special = cli_value(&a))) goto done;
        } else if (cli_flag(&a, "--user-special", NULL)) {
            if (!(user_special = cli_value(&a))) goto done;
        } else if (cli_flag(&a, "--pre", NULL)) {
            if (!(p.pre = cli_value(&a))) goto done;
        } else if (cli_flag(&a, "--min-frequency", NULL)) {
            if (!cli_int(&a, &min_freq, 1, 1 << 30)) goto done;
        } else if (cli_flag(&a, "--name", NULL)) {
            if (!(p.name = cli_value(&a))) goto done;
        } else if (cli_flag(&a, "-o", "--output")) {
            if (!(out = cli_value(&a))) goto done;
        } else if (argv[a.i][0] == '-' && argv[a.i][1]) {
            rc = cli_usage_error(&a);
            goto done;
        } else {
            files[n_files++] = argv[a.i++];
        }
    }
    rc = 1;
    if (!p.vocab_size || !out || !n_files) {
        rc = cli_error(a.cmd, "--vocab-size, -o and at least one FILE are required (see --help)");
        goto done;
    }
    p.min_frequency = min_freq;
    if (special) {
        special_buf = strdup(special);
        sp = calloc(strlen(special) + 1, sizeof *sp);
        if (!special_buf || !sp) {
            cli_error(a.cmd, "out of memory");
            goto done;
        }
        p.n_specials = split_list(special_buf, sp, (int)strlen(special) + 1);
        p.specials = sp;
    }
    if (user_special) {
        user_buf = strdup(user_special);
        us = calloc(strlen(user_special) + 1, sizeof *us);
        if (!user_buf || !us) {
            cli_error(a.cmd, "out of memory");
            goto done;
        }
        p.n_user_specials = split_list(user_buf, us, (int)strlen(user_special) + 1);
        p.user_specials = us;
    }
    tr = octo_bpe_trainer_new(&p);
    if (!tr) {
        cli_error(a.cmd, "%s", octo_last_error());
        goto done;
    }
    for (int i = 0; i < n_files; i++)
        if (octo_bpe_trainer_add_file(tr, files[i])) {
            cli_error(a.cmd, "%s", octo_last_error());
            goto done;
        }
    octo_bpe_stats st;
    if (octo_bpe_trainer_write(tr, out, &st)) {
        cli_error(a.cmd, "%s", octo_last_error());
        goto done;
    }
    fprintf(stderr,
            "%s: %lld bytes, %lld words (%lld distinct) counted in %.2f s; %d merges in %.2f s; "
            "%d tokens (%d special) -> %s\n",
            a.cmd, (long long)st.n_bytes, (long long)st.n_words, (long long)st.n_unique_words, st.count_s,
            st.n_merges, st.merge_s, st.n_vocab, st.n_specials, out);
    if (st.n_vocab < p.vocab_size)
        fprintf(stderr, "%s: the text ran out of pairs seen %d+ times: %d tokens instead of %d\n", a.cmd,
                min_freq ? min_freq : 2, st.n_vocab, p.vocab_size);
    rc = 0;
done:
    octo_bpe_trainer_free(tr);
    free(special_buf);
    free(sp);
    free(user_buf);
    free(us);
    free(files);
    return rc;
}

int cmd_tokenizer(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(k_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "train") != 0)
        return cli_error("octo tokenizer", "unknown subcommand \"%s\" (train)", argv[1]);
    return train(argc, argv);
}
