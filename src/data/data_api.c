/* data_api.c - the public (include/octo.h) face of function sets and the
 * dataset tools: thin wrappers over agent/funcset, agent/handler and
 * data/{convert_taskbench,validate}, taking text where the internal API
 * takes cJSON and counts where it takes option structs. */
#include "octo.h"
#include "agent/funcset.h"
#include "agent/handler.h"
#include "base/error.h"
#include "data/convert_taskbench.h"
#include "data/validate.h"

#include <stdlib.h>

int octo_funcset_size(const octo_funcset *fs) { return fs ? fs->n : 0; }

const char *octo_funcset_function_name(const octo_funcset *fs, int i) {
    return fs && i >= 0 && i < fs->n ? fs->fns[i].name : NULL;
}

/* The function and its parsed arguments, or -1 with the error set. */
static int lookup(const octo_funcset *fs, const char *function, const char *arguments, const octo_function **f,
                  cJSON **args) {
    int k = octo_funcset_find(fs, function);
    if (k < 0) return octo_fail("%s has no function \"%s\"", fs ? fs->name : "(no set)", function ? function : "");
    *f = &fs->fns[k];
    *args = cJSON_Parse(arguments && arguments[0] ? arguments : "{}");
    if (!cJSON_IsObject(*args)) {
        cJSON_Delete(*args);
        return octo_fail("%s: arguments: expected a JSON object", function);
    }
    return 0;
}

int octo_funcset_check_call(const octo_funcset *fs, const char *function, const char *arguments) {
    const octo_function *f = NULL;
    cJSON *args = NULL;
    if (lookup(fs, function, arguments, &f, &args) != 0) return -1;
    char why[512];
    int rc = octo_args_validate(f, args, why, sizeof why) == 0 ? 0 : octo_fail("%s: %s", function, why);
    cJSON_Delete(args);
    return rc;
}

int octo_funcset_call(const octo_funcset *fs, const char *function, const char *arguments, char **observation) {
    *observation = NULL;
    const octo_function *f = NULL;
    cJSON *args = NULL;
    if (lookup(fs, function, arguments, &f, &args) != 0) return -1;
    int rc = octo_handler_run(f, args, observation);
    cJSON_Delete(args);
    return rc;
}

int octo_data_convert_taskbench(const char *in_path, const char *out_path, const octo_funcset *fs,
                                const char *rejects_path, int *n_converted, int *n_rejected) {
    octo_tb_opts o = {fs, NULL, NULL, rejects_path, false};
    octo_tb_stats st;
    if (octo_convert_taskbench(in_path, out_path, &o, &st) != 0) return -1;
    if (n_converted) *n_converted = st.n_out;
    if (n_rejected) *n_rejected = st.n_rejected;
    return 0;
}

int octo_data_validate(const octo_funcset *fs, const char *in_path, const char *kept_path, const char *rejected_path,
                       int *n_kept, int *n_rejected) {
    octo_validate_opts o;
    octo_validate_opts_default(&o);
    octo_validate_stats st;
    if (octo_validate_file(fs, in_path, kept_path, rejected_path, &o, NULL, &st) != 0) return -1;
    if (n_kept) *n_kept = st.n_kept;
    if (n_rejected) *n_rejected = st.n_rejected;
    return 0;
}
