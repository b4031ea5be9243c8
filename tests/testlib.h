/* testlib.h - the tiny test harness every tests/test_*.c program uses.
 *
 * A test program is a list of TEST(name) functions run by RUN(name) from
 * main(); CHECK* record failures and go on, REQUIRE* stop the current test.
 * SKIP(reason) marks a test skipped (e.g. ../shared is absent).  The program
 * prints one line per test and exits 0 only if nothing failed; tests/run.sh
 * adds up the counts.
 */
#ifndef OCTO_TESTLIB_H
#define OCTO_TESTLIB_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int t_failed_checks; /* in the current test */
extern int t_skipped;
extern const char *t_skip_reason;
extern int t_passed_total, t_failed_total, t_skipped_total;

#define TEST(name) static void test_##name(void)

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            t_failed_checks++;                                                        \
            fprintf(stderr, "    %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

#define CHECKF(cond, ...)                                                    \
    do {                                                                     \
        if (!(cond)) {                                                       \
            t_failed_checks++;                                               \
            fprintf(stderr, "    %s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

#define REQUIRE(cond)                                                                   \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            t_failed_checks++;                                                          \
            fprintf(stderr, "    %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
            return;                                                                     \
        }                                                                               \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                  \
    do {                                                                                       \
        double _a = (a), _b = (b);                                                             \
        if (!(fabs(_a - _b) <= (tol))) {                                                       \
            t_failed_checks++;                                                                 \
            fprintf(stderr, "    %s:%d: %s=%g vs %s=%g (tol %g)\n", __FILE__, __LINE__, #a, _a, #b, _b, \
                    (double)(tol));                                                            \
        }                                                                                      \
    } while (0)

#define SKIP(reason)            \
    do {                        \
        t_skipped = 1;          \
        t_skip_reason = reason; \
        return;                 \
    } while (0)

void t_run(const char *name, void (*fn)(void));
int t_finish(void);

#define RUN(name) t_run(#name, test_##name)

/* ../shared/fixtures path helpers: OCTO_SHARED overrides the default
 * "../shared" (relative to the repository root, where tests run). Returns
 * NULL if the directory is absent. */
const char *t_shared_dir(void);
/* Build "<shared>/<rel>" into a static buffer (NULL if shared is absent). */
const char *t_shared_path(const char *rel);

/* Deterministic random numbers for tests. */
uint64_t t_rand_u64(void);
float t_rand_uniform(float lo, float hi);
float t_rand_normal(void);

/* A fresh temporary directory for the test program (removed at exit). */
const char *t_tmpdir(void);

#endif
