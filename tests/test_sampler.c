/* test_sampler.c - the sampling chain and the generation loop.
 *
 * Sampling is checked on hand-made logits whose distribution is known:
 * greedy picks the argmax, top-k / top-p / min-p never return a token they
 * exclude, temperature sharpens or flattens the empirical frequencies the
 * way softmax(l / T) says, the repetition penalty demotes seen tokens, and a
 * seed reproduces a sequence.  The generation loop (stop strings held back
 * across token boundaries, n_predict) runs on a fixture model.
 */
#include <math.h>
#include <string.h>

#include "octo.h"
#include "testlib.h"

#define NV 8
static const float k_logits[NV] = {1.0f, 3.0f, 2.5f, -1.0f, 0.0f, 2.9f, -5.0f, 0.5f};

static octo_sampler *make(float temp, int top_k, float top_p, float min_p, float rep, uint64_t seed) {
    octo_sampler_params p;
    octo_sampler_defaults(&p);
    p.temperature = temp;
    p.top_k = top_k;
    p.top_p = top_p;
    p.min_p = min_p;
    p.repeat_penalty = rep;
    p.seed = seed;
    return octo_sampler_new(&p, NV);
}

static void histogram(octo_sampler *s, int n, int *count) {
    memset(count, 0, NV * sizeof(int));
    for (int i = 0; i < n; i++) {
        int32_t t = octo_sampler_sample(s, k_logits);
        if (t >= 0 && t < NV) count[t]++;
    }
}

TEST(greedy_is_argmax) {
    octo_sampler *s = make(0.0f, 0, 1.0f, 0.0f, 1.0f, 1);
    for (int i = 0; i < 10; i++) CHECK(octo_sampler_sample(s, k_logits) == 1);
    octo_sampler_free(s);
    s = make(1.0f, 1, 1.0f, 0.0f, 1.0f, 1); /* top-k 1 is greedy too */
    for (int i = 0; i < 10; i++) CHECK(octo_sampler_sample(s, k_logits) == 1);
    octo_sampler_free(s);
}

TEST(top_k_excludes) {
    octo_sampler *s = make(1.0f, 3, 1.0f, 0.0f, 1.0f, 2);
    int c[NV];
    histogram(s, 3000, c);
    CHECK(c[1] > 0 && c[5] > 0 && c[2] > 0); /* the three largest: 3.0, 2.9, 2.5 */
    CHECK(c[0] + c[3] + c[4] + c[6] + c[7] == 0);
    octo_sampler_free(s);
}

TEST(top_p_excludes_the_tail) {
    /* probabilities sorted: 3.0, 2.9, 2.5, 1.0, 0.5, ... ; the first three
     * hold about 87% of the mass, so top-p 0.8 keeps exactly them */
    octo_sampler *s = make(1.0f, 0, 0.8f, 0.0f, 1.0f, 3);
    int c[NV];
    histogram(s, 3000, c);
    CHECK(c[0] + c[3] + c[4] + c[6] + c[7] == 0);
    CHECK(c[1] > 0 && c[5] > 0 && c[2] > 0);
    octo_sampler_free(s);
}

TEST(min_p_excludes_unlikely) {
    /* min-p 0.5: keep tokens with p >= 0.5 p_max, i.e. logit >= 3 - ln 2 = 2.31 */
    octo_sampler *s = make(1.0f, 0, 1.0f, 0.5f, 1.0f, 4);
    int c[NV];
    histogram(s, 3000, c);
    CHECK(c[1] > 0 && c[5] > 0 && c[2] > 0);
    CHECK(c[0] + c[3] + c[4] + c[6] + c[7] == 0);
    octo_sampler_free(s);
}

TEST(temperature_matches_softmax) {
    for (int ti = 0; ti < 2; ti++) {
        float T = ti == 0 ? 0.5f : 2.0f;
        octo_sampler *s = make(T, 0, 1.0f, 0.0f, 1.0f, 5 + ti);
        int c[NV], n = 40000;
        histogram(s, n, c);
        double z = 0, p[NV];
        for (int i = 0; i < NV; i++) z += exp(k_logits[i] / T);
        for (int i = 0; i < NV; i++) {
            p[i] = exp(k_logits[i] / T) / z;
            double sd = sqrt(n * p[i] * (1 - p[i])) + 1;
            CHECKF(fabs(c[i] - n * p[i]) < 5 * sd, "T=%g token %d: %d draws, expected %.0f", T, i, c[i], n * p[i]);
        }
        octo_sampler_free(s);
    }
}

TEST(repetition_penalty_demotes_seen_tokens) {
    octo_sampler *s = make(0.0f, 0, 1.0f, 0.0f, 1.5f, 1);
    CHECK(octo_sampler_sample(s, k_logits) == 1);
    octo_sampler_accept(s, 1); /* 3.0 -> 2.0: now 2.9 wins */
    CHECK(octo_sampler_sample(s, k_logits) == 5);
    octo_sampler_accept(s, 5); /* 2.9 -> 1.93: now 2.5 wins */
    CHECK(octo_sampler_sample(s, k_logits) == 2);
    octo_sampler_free(s);
}

TEST(seed_reproduces) {
    octo_sampler *a = make(1.0f, 0, 1.0f, 0.0f, 1.0f, 42), *b = make(1.0f, 0, 1.0f, 0.0f, 1.0f, 42),
                 *c = make(1.0f, 0, 1.0f, 0.0f, 1.0f, 43);
    int same_ab = 1, same_ac = 1;
    for (int i = 0; i < 64; i++) {
        int32_t x = octo_sampler_sample(a, k_logits), y = octo_sampler_sample(b, k_logits),
                z = octo_sampler_sample(c, k_logits);
        same_ab &= x == y;
        same_ac &= x == z;
    }
    CHECK(same_ab);
    CHECK(!same_ac);
    octo_sampler_free(a);
    octo_sampler_free(b);
    octo_sampler_free(c);
}

/* ---- the generation loop on a real model ---- */

typedef struct {
    char buf[4096];
    size_t n;
    int calls;
} sink;

static bool collect(void *user, const char *text, size_t len) {
    sink *s = user;
    if (s->n + len < sizeof s->buf) {
        memcpy(s->buf + s->n, text, len);
        s->n += len;
        s->buf[s->n] = 0;
    }
    s->calls++;
    return true;
}

TEST(stop_strings_and_streaming) {
    const char *mp = t_shared_path("fixtures/models/llama-spm-256-Q8_0.gguf");
    if (!mp) SKIP("../shared is absent");
    octo_model *m = octo_model_load(mp);
    REQUIRE(m);
    octo_ctx_params cp = {.n_ctx = 128, .n_threads = 2};
    octo_ctx *c = octo_ctx_new(m, &cp);
    REQUIRE(c);
    octo_generate_params gp;
    octo_generate_defaults(&gp);
    gp.sampling.temperature = 0;
    gp.n_predict = 24;
    sink s1 = {0};
    gp.on_text = collect;
    gp.user = &s1;
    octo_generate_stats st;
    char *full = octo_generate(c, "Hello world", &gp, &st);
    REQUIRE(full);
    CHECK(st.n_generated == 24 || st.stopped_by == 1);
    CHECK(strcmp(full, s1.buf) == 0); /* streamed text == returned text */
    size_t len = strlen(full);
    REQUIRE(len > 12);
    /* a stop string taken from the middle of the output: the run must end
     * right before it, and the streamed text must never contain any of it */
    char stop[8];
    memcpy(stop, full + len / 2, 5);
    stop[5] = 0;
    const char *first = strstr(full, stop);
    REQUIRE(first);
    const char *stops[1] = {stop};
    gp.stop = stops;
    gp.n_stop = 1;
    sink s2 = {0};
    gp.user = &s2;
    char *cut = octo_generate(c, "Hello world", &gp, &st);
    REQUIRE(cut);
    CHECK(st.stopped_by == 2);
    CHECK(strlen(cut) == (size_t)(first - full));
    CHECK(strncmp(cut, full, strlen(cut)) == 0);
    CHECK(strcmp(cut, s2.buf) == 0);
    free(full);
    free(cut);
    octo_ctx_free(c);
    octo_model_free(m);
}

int main(void) {
    RUN(greedy_is_argmax);
    RUN(top_k_excludes);
    RUN(top_p_excludes_the_tail);
    RUN(min_p_excludes_unlikely);
    RUN(temperature_matches_softmax);
    RUN(repetition_penalty_demotes_seen_tokens);
    RUN(seed_reproduces);
    RUN(stop_strings_and_streaming);
    return t_finish();
}
