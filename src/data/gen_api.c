/* gen_api.c - the public (include/octo.h) face of the offline generator:
 * load the phrasings for each set, generate, write atomically. */
#include <stdlib.h>

#include "base/error.h"
#include "base/file.h"
#include "data/generator.h"
#include "octo.h"

#define GEN_API_MAX_SETS 64

int octo_data_generate(const octo_funcset *const *sets, int n_sets, const char *phrasings_root, int n,
                       uint64_t seed, int holdout, const char *out_path) {
    if (!sets || n_sets <= 0 || n_sets > GEN_API_MAX_SETS || !out_path)
        return octo_fail("octo_data_generate: 1 to %d sets and an output path needed", GEN_API_MAX_SETS);
    if (holdout < 0 || holdout > 2) return octo_fail("octo_data_generate: holdout must be 0, 1 or 2");
    octo_phrasebook *books[GEN_API_MAX_SETS] = {0};
    int rc = -1;
    for (int i = 0; i < n_sets; i++) {
        char *root = phrasings_root ? NULL : octo_phrasings_root(sets[i]->path);
        books[i] = octo_phrasebook_load(phrasings_root ? phrasings_root : root, sets[i]);
        free(root);
        if (!books[i]) goto done;
    }
    octo_gen_opts o;
    octo_gen_opts_default(&o);
    o.seed = seed;
    o.n = n;
    o.holdout = (octo_holdout)holdout;
    octo_generator *g = octo_generator_new(sets, books, n_sets, &o);
    if (!g) goto done;
    octo_atomic_file af;
    if (octo_atomic_open(&af, out_path) == 0) {
        rc = octo_generator_write(g, af.fp);
        if (rc < 0) octo_atomic_abort(&af);
        else if (octo_atomic_commit(&af)) rc = -1;
    }
    octo_generator_free(g);
done:
    for (int i = 0; i < n_sets; i++) octo_phrasebook_free(books[i]);
    return rc;
}
