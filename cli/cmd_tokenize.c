/* cmd_tokenize.c - `octo tokenize`: token ids of a text, on one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *k_help =
    "usage: octo tokenize -m MODEL [--no-bos] [--special] [--pieces] TEXT\n\n"
    "Print the token ids of TEXT on one line, separated by spaces.\n\n"
    "  -m, --model FILE  GGUF file with a tokenizer (a model or a vocab-only file)\n"
    "  --no-bos          do not add the BOS token (default: as the model says)\n"
    "  --special         parse special tokens such as <|user|> in TEXT (default: plain text)\n"
    "  --pieces          print id:'piece' pairs instead of bare ids\n";

int cmd_tokenize(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo tokenize"};
    const char *model = NULL, *text = NULL;
    bool no_bos = false, special = false, pieces = false;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            fputs(k_help, stdout);
            return 0;
        } else if (cli_flag(&a, "-m", "--model")) {
            if (!(model = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--no-bos", NULL)) {
            no_bos = true;
            a.i++;
        } else if (cli_flag(&a, "--special", NULL)) {
            special = true;
            a.i++;
        } else if (cli_flag(&a, "--pieces", NULL)) {
            pieces = true;
            a.i++;
        } else if (argv[a.i][0] == '-' && argv[a.i][1] && !text) {
            return cli_usage_error(&a);
        } else if (!text) {
            text = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!model) return cli_error(a.cmd, "-m MODEL is required (see --help)");
    if (!text) return cli_error(a.cmd, "TEXT is required (see --help)");
    octo_tokenizer *tok = octo_tokenizer_open(model);
    if (!tok) return cli_error(a.cmd, "%s", octo_last_error());
    bool bos = !no_bos && octo_tokenizer_add_bos(tok);
    int n = octo_tokenize(tok, text, strlen(text), bos, special, NULL, 0);
    int32_t *ids = n > 0 ? malloc((size_t)n * sizeof(int32_t)) : NULL;
    if (n < 0 || (n > 0 && !ids)) {
        octo_tokenizer_close(tok);
        return cli_error(a.cmd, "%s", octo_last_error());
    }
    octo_tokenize(tok, text, strlen(text), bos, special, ids, n);
    for (int i = 0; i < n; i++) {
        if (pieces) {
            char buf[256];
            int l = octo_token_to_piece(tok, ids[i], true, buf, sizeof buf);
            printf("%s%d:'%.*s'", i ? " " : "", ids[i], l > 255 ? 255 : (l < 0 ? 0 : l), buf);
        } else {
            printf("%s%d", i ? " " : "", ids[i]);
        }
    }
    printf("\n");
    free(ids);
    octo_tokenizer_close(tok);
    return 0;
}
