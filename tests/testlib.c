/* testlib.c - see testlib.h */
#include "testlib.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int t_failed_checks, t_skipped;
const char *t_skip_reason;
int t_passed_total, t_failed_total, t_skipped_total;

void t_run(const char *name, void (*fn)(void)) {
    t_failed_checks = 0;
    t_skipped = 0;
    t_skip_reason = NULL;
    fn();
    if (t_failed_checks) {
        printf("FAIL %s (%d checks)\n", name, t_failed_checks);
        t_failed_total++;
    } else if (t_skipped) {
        printf("SKIP %s: %s\n", name, t_skip_reason ? t_skip_reason : "");
        t_skipped_total++;
    } else {
        printf("PASS %s\n", name);
        t_passed_total++;
    }
    fflush(stdout);
}

static char g_tmpdir[256];

static void rm_tmpdir(void) {
    if (g_tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmpdir);
        if (system(cmd) != 0) { /* best effort */
        }
    }
}

const char *t_tmpdir(void) {
    if (!g_tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(g_tmpdir, sizeof g_tmpdir, "%s/octo-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(g_tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(rm_tmpdir);
    }
    return g_tmpdir;
}

int t_finish(void) {
    printf("%d passed, %d failed, %d skipped\n", t_passed_total, t_failed_total, t_skipped_total);
    return t_failed_total ? 1 : 0;
}

const char *t_shared_dir(void) {
    static char dir[1024];
    static int done;
    if (!done) {
        done = 1;
        const char *env = getenv("OCTO_SHARED");
        snprintf(dir, sizeof dir, "%s", env && *env ? env : "../shared");
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) dir[0] = 0;
    }
    return dir[0] ? dir : NULL;
}

const char *t_shared_path(const char *rel) {
    static char buf[4][2048];
    static int k;
    const char *d = t_shared_dir();
    if (!d) return NULL;
    char *b = buf[k++ & 3];
    snprintf(b, sizeof buf[0], "%s/%s", d, rel);
    return b;
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

uint64_t t_rand_u64(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

float t_rand_uniform(float lo, float hi) {
    return lo + (hi - lo) * (float)((t_rand_u64() >> 11) * (1.0 / 9007199254740992.0));
}

float t_rand_normal(void) {
    float u1 = t_rand_uniform(1e-7f, 1.0f), u2 = t_rand_uniform(0.0f, 1.0f);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}
