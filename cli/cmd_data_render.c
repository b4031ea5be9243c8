/* cmd_data_render.c - `octo data render`: canonical records -> the chat
 * JSONL the planner or the action model is trained on (src/agent/render.h),
 * and the special tokens those models need. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "agent/render.h"
#include "base/file.h"
#include "data/record.h"

static const char *k_help =
    "usage: octo data render --planner|--action [--functions F] IN.jsonl -o OUT.jsonl [--strict]\n"
    "       octo data render --tokens --planner|--action [--functions F]\n"
    "       octo data render --planner --action --functions F --vocab-from MODEL.gguf --vocab-out OUT.gguf\n\n"
    "Turn canonical records ({query, steps, calls}) into chat JSONL for `octo train`\n"
    "(template \"octo\": <|user|>{user}<|end|><|assistant|>{assistant}<|end|>):\n"
    "  --planner    one example per record: user = the query,\n"
    "               assistant = {step 1}<nexa_split>...{step n}<nexa_end>\n"
    "  --action     one example per call: user = the step (+ \"\\nObservation: ...\" when the\n"
    "               record has \"observations\"), assistant = <fn_NAME>{arguments}<nexa_end>\n"
    "               (needs --functions: arguments are checked and written in schema order)\n"
    "Records that do not fit are reported with their line and skipped (--strict: fail).\n\n"
    "  --functions F        function-set file, or the name of a shipped set\n"
    "  -o, --output FILE    output JSONL, written atomically\n"
    "  --tokens             print the special tokens the model needs, one a line\n"
    "  --vocab-from FILE    with --vocab-out: write FILE's tokenizer plus those tokens as a\n"
    "  --vocab-out FILE     vocabulary GGUF (for `octo model init --vocab-from`)\n";

int cmd_data_render(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo data render"};
    const char *funcs = NULL, *in = NULL, *out = NULL, *vocab_from = NULL, *vocab_out = NULL;
    int kinds = 0;
    bool strict = false, tokens = false;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s", k_help);
            return 0;
        } else if (cli_flag(&a, "--planner", NULL)) {
            kinds |= OCTO_RENDER_PLANNER;
            a.i++;
        } else if (cli_flag(&a, "--action", NULL)) {
            kinds |= OCTO_RENDER_ACTION;
            a.i++;
        } else if (cli_flag(&a, "--functions", NULL)) {
            if (!(funcs = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-o", "--output")) {
            if (!(out = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--strict", NULL)) {
            strict = true;
            a.i++;
        } else if (cli_flag(&a, "--tokens", NULL)) {
            tokens = true;
            a.i++;
        } else if (cli_flag(&a, "--vocab-from", NULL)) {
            if (!(vocab_from = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--vocab-out", NULL)) {
            if (!(vocab_out = cli_value(&a))) return 2;
        } else if (argv[a.i][0] != '-' && !in) {
            in = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!kinds) return cli_error(a.cmd, "--planner or --action is required (see --help)");
    if ((kinds & OCTO_RENDER_ACTION) && !funcs) return cli_error(a.cmd, "--action needs --functions F");
    octo_funcset *fs = NULL;
    if (funcs && !(fs = cli_load_funcset(funcs))) return cli_error(a.cmd, "%s", octo_last_error());
    int rc = 0;
    if (tokens || vocab_out || vocab_from) {
        if (tokens) {
            int n;
            char **t = octo_agent_tokens(fs, kinds, &n);
            if (!t) rc = cli_error(a.cmd, "%s", octo_last_error());
            for (int i = 0; t && i < n; i++) printf("%s\n", t[i]);
            octo_strings_free(t, t ? n : 0);
        }
        if (!rc && (vocab_from || vocab_out)) {
            if (!vocab_from || !vocab_out) rc = cli_error(a.cmd, "--vocab-from and --vocab-out go together");
            else if (octo_agent_write_vocab(vocab_from, fs, kinds, vocab_out))
                rc = cli_error(a.cmd, "%s", octo_last_error());
        }
        octo_funcset_free(fs);
        return rc;
    }
    if (!in || !out) {
        octo_funcset_free(fs);
        return cli_error(a.cmd, "IN.jsonl and -o OUT.jsonl are required (see --help)");
    }
    if (kinds == (OCTO_RENDER_PLANNER | OCTO_RENDER_ACTION)) {
        octo_funcset_free(fs);
        return cli_error(a.cmd, "render --planner or --action, one at a time");
    }
    char *text = octo_read_file(in, NULL);
    if (!text) {
        octo_funcset_free(fs);
        return cli_error(a.cmd, "%s", octo_last_error());
    }
    octo_atomic_file af;
    if (octo_atomic_open(&af, out)) {
        free(text);
        octo_funcset_free(fs);
        return cli_error(a.cmd, "%s", octo_last_error());
    }
    long line_no = 0, n_rec = 0, n_ex = 0, n_bad = 0;
    for (char *line = text, *next; line && *line && !rc; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        line_no++;
        if (!line[strspn(line, " \t\r")]) continue;
        char why[512];
        cJSON *j = cJSON_Parse(line);
        octo_record r;
        int k = -1;
        if (!j) {
            snprintf(why, sizeof why, "not JSON");
        } else if (octo_record_from_json(j, &r, why, sizeof why) == 0) {
            k = octo_render_record(&r, fs, kinds, af.fp, why, sizeof why);
            octo_record_free(&r);
        }
        cJSON_Delete(j);
        n_rec++;
        if (k >= 0) {
            n_ex += k;
            continue;
        }
        n_bad++;
        if (strict) rc = cli_error(a.cmd, "%s:%ld: %s", in, line_no, why);
        else if (n_bad <= 10) fprintf(stderr, "octo data render: %s:%ld: skipped: %s\n", in, line_no, why);
    }
    free(text);
    if (rc) {
        octo_atomic_abort(&af);
    } else if (octo_atomic_commit(&af)) {
        rc = cli_error(a.cmd, "%s", octo_last_error());
    } else {
        fprintf(stderr, "octo data render: %ld records -> %ld %s examples in %s (%ld skipped)\n", n_rec, n_ex,
                kinds == OCTO_RENDER_PLANNER ? "planner" : "action", out, n_bad);
    }
    octo_funcset_free(fs);
    return rc;
}
