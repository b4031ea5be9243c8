/* test_optimizer.c - AdamW, gradient clipping and the learning-rate schedule.
 *
 * AdamW is checked against a hand-computed first step, against its closed
 * form for a constant gradient, and element by element against PyTorch's
 * torch.optim.AdamW + clip_grad_norm_ (tests/optim_ref.py; skipped without
 * python3-torch). Clipping is seen through the first moment it leaves in the
 * saved state. The schedules are checked at their boundaries against the
 * formulas of transformers' get_*_schedule_with_warmup, and the state
 * round trip continues a run bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"
#include "train/optimizer.h"

/* a parameter with its own buffers */
static octo_param make_param(const char *name, int64_t n, bool decay) {
    octo_param p = {0};
    p.name = (char *)name;
    p.rows = n;
    p.cols = 1;
    p.n = n;
    p.decay = decay;
    p.data = calloc((size_t)n, sizeof(float));
    p.grad = calloc((size_t)n, sizeof(float));
    return p;
}

static void free_param(octo_param *p) {
    free(p->data);
    free(p->grad);
}

/* first moment of parameter 0, element i, read through the saved state */
static float state_m(const octo_adamw *a, int64_t n0, int64_t i) {
    size_t bytes = octo_adamw_state_bytes(a);
    unsigned char *buf = malloc(bytes);
    octo_adamw_state_save(a, buf);
    float m;
    memcpy(&m, buf + 16 + 8 + (size_t)i * 4, 4);
    (void)n0;
    free(buf);
    return m;
}

TEST(first_step_by_hand) {
    /* p = 1, g = 0.5, lr 0.1, wd 0.01:
     * p = 1 * (1 - 0.001) = 0.999; m = 0.05; v = 0.00025;
     * denom = sqrt(0.00025) / sqrt(0.001) + 1e-8 = 0.5 + 1e-8;
     * p = 0.999 - (0.1 / 0.1) * 0.05 / denom = 0.899 (+1e-9) */
    octo_param p = make_param("w", 1, true);
    p.data[0] = 1.0f;
    p.grad[0] = 0.5f;
    octo_adamw_opts o;
    octo_adamw_defaults(&o);
    o.weight_decay = 0.01;
    o.max_grad_norm = 0;
    octo_adamw *a = octo_adamw_new(&p, 1, &o);
    REQUIRE(a);
    float norm = octo_adamw_step(a, 0.1);
    CHECK_NEAR(norm, 0.5, 1e-7);
    CHECK_NEAR(p.data[0], 0.899, 2e-7);
    CHECK(p.grad[0] == 0.0f); /* gradients are zeroed */
    CHECK(octo_adamw_t(a) == 1);
    CHECK_NEAR(state_m(a, 1, 0), 0.05, 1e-8);
    octo_adamw_free(a);
    free_param(&p);
}

TEST(constant_gradient_closed_form) {
    /* With a constant gradient g the bias-corrected moments are exactly g and
     * g^2, so every step moves by lr * g / (|g| + eps): after T steps
     * p = p0 - T * lr * g / (|g| + eps). No decay on a norm-like parameter. */
    const int T = 50;
    const float g[4] = {0.3f, -2.0f, 1e-3f, 7.5f};
    octo_param p = make_param("norm", 4, false);
    octo_adamw_opts o;
    octo_adamw_defaults(&o);
    o.weight_decay = 0.1; /* must not apply: decay = false */
    o.max_grad_norm = 0;
    o.eps = 1e-3;
    octo_adamw *a = octo_adamw_new(&p, 1, &o);
    REQUIRE(a);
    for (int t = 0; t < T; t++) {
        memcpy(p.grad, g, sizeof g);
        octo_adamw_step(a, 0.01);
    }
    for (int i = 0; i < 4; i++) {
        double expect = -T * 0.01 * g[i] / (fabs(g[i]) + 1e-3);
        CHECK_NEAR(p.data[i], expect, 1e-5 * fabs(expect) + 1e-7);
    }
    octo_adamw_free(a);
    free_param(&p);
}

TEST(clipping_scales_to_max_norm) {
    /* grads (3, 4) in two parameters: norm 5; max_norm 1 scales them by
     * 1 / (5 + 1e-6), so the first moment after one step is 0.1 * 3 / 5 */
    octo_param ps[2] = {make_param("a", 1, true), make_param("b", 1, true)};
    ps[0].grad[0] = 3.0f;
    ps[1].grad[0] = 4.0f;
    octo_adamw_opts o;
    octo_adamw_defaults(&o);
    o.max_grad_norm = 1.0f;
    octo_adamw *a = octo_adamw_new(ps, 2, &o);
    REQUIRE(a);
    float norm = octo_adamw_step(a, 1e-3);
    CHECK_NEAR(norm, 5.0, 1e-6);
    CHECK_NEAR(state_m(a, 1, 0), 0.1 * 3.0 / 5.000001, 1e-8);
    octo_adamw_free(a);
    /* below the threshold nothing is scaled */
    ps[0].grad[0] = 0.3f;
    ps[1].grad[0] = 0.4f;
    a = octo_adamw_new(ps, 2, &o);
    REQUIRE(a);
    norm = octo_adamw_step(a, 1e-3);
    CHECK_NEAR(norm, 0.5, 1e-7);
    CHECK(state_m(a, 1, 0) == (float)(1.0 - 0.9) * 0.3f);
    octo_adamw_free(a);
    free_param(&ps[0]);
    free_param(&ps[1]);
}

/* A run of `steps` AdamW steps with pseudo-random gradients from `seed`. */
static void random_grads(octo_param *ps, int n, uint64_t seed) {
    uint64_t s = seed;
    for (int k = 0; k < n; k++)
        for (int64_t i = 0; i < ps[k].n; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            ps[k].grad[i] = (float)((double)(s >> 40) / (double)(1ull << 24) - 0.5) * (k + 1);
        }
}

TEST(threads_do_not_change_bits) {
    octo_param p1[2] = {make_param("a", 100003, true), make_param("b", 777, false)};
    octo_param p2[2] = {make_param("a", 100003, true), make_param("b", 777, false)};
    octo_adamw_opts o;
    octo_adamw_defaults(&o);
    o.weight_decay = 0.05;
    o.max_grad_norm = 10.0f;
    octo_adamw *a1 = octo_adamw_new(p1, 2, &o);
    o.n_threads = 2;
    octo_adamw *a2 = octo_adamw_new(p2, 2, &o);
    REQUIRE(a1 && a2);
    for (int t = 0; t < 5; t++) {
        random_grads(p1, 2, 100 + t);
        random_grads(p2, 2, 100 + t);
        float n1 = octo_adamw_step(a1, 1e-2), n2 = octo_adamw_step(a2, 1e-2);
        CHECK(memcmp(&n1, &n2, 4) == 0);
    }
    CHECK(memcmp(p1[0].data, p2[0].data, 100003 * 4) == 0);
    CHECK(memcmp(p1[1].data, p2[1].data, 777 * 4) == 0);
    octo_adamw_free(a1);
    octo_adamw_free(a2);
    for (int k = 0; k < 2; k++) {
        free_param(&p1[k]);
        free_param(&p2[k]);
    }
}

TEST(state_round_trip_continues_bit_for_bit) {
    octo_param pa[2] = {make_param("a", 1000, true), make_param("b", 10, false)};
    octo_param pb[2] = {make_param("a", 1000, true), make_param("b", 10, false)};
    octo_adamw_opts o;
    octo_adamw_defaults(&o);
    o.weight_decay = 0.1;
    octo_adamw *a = octo_adamw_new(pa, 2, &o);
    REQUIRE(a);
    for (int t = 0; t < 3; t++) {
        random_grads(pa, 2, t);
        octo_adamw_step(a, 1e-3);
    }
    size_t bytes = octo_adamw_state_bytes(a);
    unsigned char *buf = malloc(bytes);
    octo_adamw_state_save(a, buf);
    /* a fresh optimizer over copies of the parameters, loaded from the state */
    for (int k = 0; k < 2; k++) memcpy(pb[k].data, pa[k].data, (size_t)pa[k].n * 4);
    octo_adamw *b = octo_adamw_new(pb, 2, &o);
    REQUIRE(b);
    CHECK(octo_adamw_state_load(b, buf, bytes) == 0);
    CHECK(octo_adamw_t(b) == 3);
    for (int t = 3; t < 6; t++) {
        random_grads(pa, 2, t);
        random_grads(pb, 2, t);
        octo_adamw_step(a, 1e-3);
        octo_adamw_step(b, 1e-3);
    }
    CHECK(memcmp(pa[0].data, pb[0].data, 1000 * 4) == 0);
    CHECK(memcmp(pa[1].data, pb[1].data, 10 * 4) == 0);
    /* a state of the wrong size or for other shapes is refused, untouched */
    CHECK(octo_adamw_state_load(b, buf, bytes - 4) != 0);
    CHECK(strstr(octo_last_error(), "expected") != NULL);
    octo_param pc[2] = {make_param("a", 999, true), make_param("b", 11, false)};
    octo_adamw *c = octo_adamw_new(pc, 2, &o);
    REQUIRE(c);
    CHECK(octo_adamw_state_load(c, buf, bytes) != 0);
    CHECK(strstr(octo_last_error(), "elements") != NULL);
    CHECK(octo_adamw_t(c) == 0);
    octo_adamw_free(c);
    free(buf);
    octo_adamw_free(a);
    octo_adamw_free(b);
    for (int k = 0; k < 2; k++) {
        free_param(&pa[k]);
        free_param(&pb[k]);
        free_param(&pc[k]);
    }
}

TEST(schedule_boundaries) {
    octo_schedule s = {OCTO_SCHED_LINEAR, 1e-3, 0, 0.2, 10};
    CHECK(octo_schedule_warmup_steps(&s) == 2);
    CHECK(octo_schedule_lr(&s, 0) == 0.0); /* transformers starts at 0 */
    CHECK_NEAR(octo_schedule_lr(&s, 1), 0.5e-3, 1e-18);
    CHECK_NEAR(octo_schedule_lr(&s, 2), 1e-3, 1e-18); /* peak right after warmup */
    CHECK_NEAR(octo_schedule_lr(&s, 6), 1e-3 * 4.0 / 8.0, 1e-18);
    CHECK_NEAR(octo_schedule_lr(&s, 9), 1e-3 * 1.0 / 8.0, 1e-18);
    CHECK(octo_schedule_lr(&s, 10) == 0.0);
    CHECK(octo_schedule_lr(&s, 12) == 0.0); /* clamped, never negative */
    s.kind = OCTO_SCHED_COSINE;
    CHECK_NEAR(octo_schedule_lr(&s, 2), 1e-3, 1e-18);
    CHECK_NEAR(octo_schedule_lr(&s, 6), 0.5e-3, 1e-15); /* half way: cos(pi/2) */
    CHECK_NEAR(octo_schedule_lr(&s, 4), 1e-3 * 0.5 * (1 + cos(M_PI * 0.25)), 1e-15);
    CHECK_NEAR(octo_schedule_lr(&s, 10), 0.0, 1e-18);
    s.kind = OCTO_SCHED_CONSTANT;
    CHECK(octo_schedule_lr(&s, 0) == 0.0);
    CHECK_NEAR(octo_schedule_lr(&s, 1), 0.5e-3, 1e-18);
    CHECK(octo_schedule_lr(&s, 2) == 1e-3 && octo_schedule_lr(&s, 10) == 1e-3);
    /* math.ceil(100 * 0.07) is 8 in double arithmetic (7.000000000000001) */
    s.total_steps = 100;
    s.warmup_ratio = 0.07;
    CHECK(octo_schedule_warmup_steps(&s) == 8);
    /* no warmup: the first step has the full rate */
    s = (octo_schedule){OCTO_SCHED_LINEAR, 2e-5, 0, 0, 100};
    CHECK(octo_schedule_lr(&s, 0) == 2e-5);
    CHECK_NEAR(octo_schedule_lr(&s, 50), 1e-5, 1e-18);
    /* a floor: the decay goes from lr to min_lr */
    s = (octo_schedule){OCTO_SCHED_COSINE, 1e-3, 1e-4, 0, 100};
    CHECK_NEAR(octo_schedule_lr(&s, 0), 1e-3, 1e-15);
    CHECK_NEAR(octo_schedule_lr(&s, 100), 1e-4, 1e-15);
    CHECK_NEAR(octo_schedule_lr(&s, 50), 5.5e-4, 1e-15);
    CHECK(octo_sched_parse("cosine") == OCTO_SCHED_COSINE && octo_sched_parse("nope") == -1);
    CHECK(!strcmp(octo_sched_name(OCTO_SCHED_LINEAR), "linear"));
}

TEST(bad_options_refused) {
    octo_param p = make_param("w", 1, true);
    octo_adamw_opts o;
    octo_adamw_defaults(&o);
    o.beta1 = 1.0;
    CHECK(octo_adamw_new(&p, 1, &o) == NULL);
    CHECK(strstr(octo_last_error(), "beta1") != NULL);
    free_param(&p);
}

/* ---- against PyTorch ---- */

static const char *torch_python(void) {
    static const char *cands[] = {"python3", "/usr/bin/python3"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s -c 'import torch, numpy' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0) return cands[i];
    }
    return NULL;
}

static void put(FILE *f, const void *p, size_t n) { fwrite(p, 1, n, f); }

/* 20 steps of AdamW (weight decay on two of three parameters, a cosine
 * schedule with warmup) here and in PyTorch on the same gradients; returns
 * the share of elements that came out bit-identical, or -1. */
static double compare_with_torch(const char *py, float max_norm, double *max_rel_out) {
    enum { NP = 3, STEPS = 20 };
    const int64_t sizes[NP] = {5000, 64, 1234};
    const bool decay[NP] = {true, false, true};
    octo_param ps[NP];
    for (int k = 0; k < NP; k++) {
        ps[k] = make_param("p", sizes[k], decay[k]);
        for (int64_t i = 0; i < sizes[k]; i++) ps[k].data[i] = t_rand_normal() * 0.1f;
    }
    octo_schedule s = {OCTO_SCHED_COSINE, 3e-2, 0, 0.2, STEPS};
    char in_path[512], out_path[512];
    snprintf(in_path, sizeof in_path, "%s/adamw.in", t_tmpdir());
    snprintf(out_path, sizeof out_path, "%s/adamw.out", t_tmpdir());
    FILE *f = fopen(in_path, "wb");
    if (!f) return -1;
    int64_t hdr[2] = {NP, STEPS};
    put(f, hdr, 16);
    for (int k = 0; k < NP; k++) {
        int64_t sh[2] = {sizes[k], decay[k]};
        put(f, sh, 16);
    }
    for (int t = 0; t < STEPS; t++) {
        double sc[2] = {octo_schedule_lr(&s, t), max_norm};
        put(f, sc, 16);
    }
    for (int k = 0; k < NP; k++) put(f, ps[k].data, (size_t)sizes[k] * 4);
    octo_adamw_opts o;
    octo_adamw_defaults(&o);
    o.weight_decay = 0.1;
    o.max_grad_norm = max_norm;
    octo_adamw *a = octo_adamw_new(ps, NP, &o);
    float norms[STEPS];
    for (int t = 0; t < STEPS; t++) {
        random_grads(ps, NP, 1000 + t);
        if (t % 2) /* every other step the norm is below max_norm */
            for (int k = 0; k < NP; k++)
                for (int64_t i = 0; i < sizes[k]; i++) ps[k].grad[i] *= 0.01f;
        for (int k = 0; k < NP; k++) put(f, ps[k].grad, (size_t)sizes[k] * 4);
        norms[t] = octo_adamw_step(a, octo_schedule_lr(&s, t));
    }
    fclose(f);
    octo_adamw_free(a);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s tests/optim_ref.py '%s' '%s' 0.9 0.999 1e-8 0.1", py, in_path, out_path);
    size_t n = 0;
    float *ref = system(cmd) == 0 ? (float *)octo_read_file(out_path, &n) : NULL;
    int64_t total = sizes[0] + sizes[1] + sizes[2];
    double share = -1;
    if (ref && n == (size_t)(total + STEPS) * 4) {
        double max_rel = 0;
        int64_t exact = 0, off = 0;
        for (int k = 0; k < NP; k++)
            for (int64_t i = 0; i < sizes[k]; i++, off++) {
                double d = fabs((double)ps[k].data[i] - ref[off]) / (fabs(ref[off]) + 1e-6);
                if (d > max_rel) max_rel = d;
                exact += ps[k].data[i] == ref[off];
            }
        if (max_norm > 0)
            for (int t = 0; t < STEPS; t++) CHECK_NEAR(norms[t], ref[total + t], 1e-6 * ref[total + t]);
        printf("    %s: %lld of %lld elements bit-identical after 20 steps, max rel err %.2g\n",
               max_norm > 0 ? "clipped" : "unclipped", (long long)exact, (long long)total, max_rel);
        *max_rel_out = max_rel;
        share = (double)exact / (double)total;
    }
    free(ref);
    for (int k = 0; k < NP; k++) free_param(&ps[k]);
    return share;
}

TEST(matches_torch_adamw) {
    const char *py = torch_python();
    if (!py) SKIP("python3 with torch and numpy not found");
    double max_rel = 1;
    /* Without clipping the arithmetic is PyTorch's, operation for operation:
     * every element agrees to the bit (where torch's kernels fuse their
     * multiply-adds, i.e. on a CPU with FMA). */
    double share = compare_with_torch(py, 0.0f, &max_rel);
    REQUIRE(share >= 0);
#if defined(__x86_64__)
    if (__builtin_cpu_supports("fma")) CHECK(share == 1.0);
#endif
    CHECK(max_rel < 1e-6);
    /* Clipping: torch sums the squares in F32 lanes, we in double, so the
     * coefficient may differ in its last bit. */
    share = compare_with_torch(py, 2.0f, &max_rel);
    REQUIRE(share >= 0);
    CHECK(max_rel < 5e-5);
}

int main(void) {
    RUN(first_step_by_hand);
    RUN(constant_gradient_closed_form);
    RUN(clipping_scales_to_max_norm);
    RUN(threads_do_not_change_bits);
    RUN(state_round_trip_continues_bit_for_bit);
    RUN(schedule_boundaries);
    RUN(bad_options_refused);
    RUN(matches_torch_adamw);
    return t_finish();
}
