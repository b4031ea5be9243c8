/* observe.c - made-up handler outputs for generated records.
 *
 * At run time each call's output (its observation) goes into the next
 * step's prompt for the action model (docs/agents.md). Generated records
 * have no real outputs, and a model never shown one is thrown by the first
 * it meets: it reads the text as the step. These stand-ins have the shapes
 * real handlers print (a word, a status, "would ... (recorded in PATH)", a
 * saved file, JSON, the call echoed, free words), so the model learns that
 * the step, not the observation, names the call, and that values can come
 * from either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/gen_internal.h"

static const char *word(const pb_list *words, gen_rng *r) {
    static const char *fallback[] = {"report", "photo", "notes", "music", "home", "office"};
    if (words && words->n) return words->v[gen_below(r, words->n)].text;
    return fallback[gen_below(r, 6)];
}

char *gen_observation(const char *fn, const cJSON *args, const pb_list *words, gen_rng *r) {
    char buf[512], name[128];
    snprintf(name, sizeof name, "%s", fn);
    for (char *p = name; *p; p++)
        if (*p == '_') *p = ' ';
    char *a = args ? cJSON_PrintUnformatted(args) : NULL;
    static const char *exts[] = {"png", "jpg", "txt", "pdf", "json"};
    switch (gen_below(r, 10)) {
    case 0: snprintf(buf, sizeof buf, "done"); break;
    case 1: snprintf(buf, sizeof buf, "ok"); break;
    case 2: snprintf(buf, sizeof buf, "%s: done", fn); break;
    case 3: snprintf(buf, sizeof buf, "%s finished", name); break;
    case 4: snprintf(buf, sizeof buf, "%s %s", fn, a ? a : "{}"); break;
    case 5:
        snprintf(buf, sizeof buf, "would %s (no control for it on this machine; recorded in /home/%s/.local/share/octo/%s)",
                 name, word(words, r), word(words, r));
        break;
    case 6:
        snprintf(buf, sizeof buf, "saved /home/%s/%s/%s-%d.%s", word(words, r), word(words, r), word(words, r),
                 1000 + gen_below(r, 9000), exts[gen_below(r, 5)]);
        break;
    case 7: snprintf(buf, sizeof buf, "{\"status\": \"ok\", \"result\": \"%s\"}", word(words, r)); break;
    case 8: snprintf(buf, sizeof buf, "%s %s %s", word(words, r), word(words, r), word(words, r)); break;
    default: snprintf(buf, sizeof buf, "%s: %s %s, %d%%", word(words, r), word(words, r), name, gen_below(r, 101));
    }
    free(a);
    return strdup(buf);
}
