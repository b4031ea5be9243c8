/* sampler.c - penalties, truncation and a seeded draw (see sampler.h). */
#include "model/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t id;
    float logit;
} cand;

struct octo_sampler {
    octo_sampler_params p;
    int n_vocab;
    cand *cands;
    int32_t *hist; /* ring buffer of the last repeat_last_n tokens */
    int hist_n, hist_pos;
    uint64_t rng[4];
};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** */
static uint64_t next_u64(uint64_t s[4]) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

void octo_sampler_defaults(octo_sampler_params *p) {
    p->temperature = 0.8f;
    p->top_k = 40;
    p->top_p = 0.95f;
    p->min_p = 0.05f;
    p->repeat_penalty = 1.0f;
    p->repeat_last_n = 64;
    p->seed = 42;
}

void octo_sampler_reset(octo_sampler *s) {
    uint64_t x = s->p.seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
    s->hist_n = s->hist_pos = 0;
}

octo_sampler *octo_sampler_new(const octo_sampler_params *p, int n_vocab) {
    octo_sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = *p;
    if (s->p.repeat_last_n < 0) s->p.repeat_last_n = 0;
    s->n_vocab = n_vocab;
    s->cands = malloc((size_t)n_vocab * sizeof(cand));
    s->hist = malloc((size_t)(s->p.repeat_last_n ? s->p.repeat_last_n : 1) * sizeof(int32_t));
    if (!s->cands || !s->hist) {
        octo_sampler_free(s);
        return NULL;
    }
    octo_sampler_reset(s);
    return s;
}

void octo_sampler_free(octo_sampler *s) {
    if (!s) return;
    free(s->cands);
    free(s->hist);
    free(s);
}

void octo_sampler_accept(octo_sampler *s, int32_t token) {
    if (s->p.repeat_last_n <= 0) return;
    s->hist[s->hist_pos] = token;
    s->hist_pos = (s->hist_pos + 1) % s->p.repeat_last_n;
    if (s->hist_n < s->p.repeat_last_n) s->hist_n++;
}

int32_t octo_argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int cmp_desc(const void *a, const void *b) {
    float x = ((const cand *)a)->logit, y = ((const cand *)b)->logit;
    if (x > y) return -1;
    if (x < y) return 1;
    return ((const cand *)a)->id - ((const cand *)b)->id;
}

/* Keep the k largest candidates at the front, sorted. */
static int top_k_sorted(cand *c, int n, int k) {
    if (k <= 0 || k > n) k = n;
    if (k < n) {
        /* partial selection: one pass keeps a sorted window of k */
        cand *top = malloc((size_t)k * sizeof(cand));
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (m == k && c[i].logit <= top[k - 1].logit) continue;
            int j = m < k ? m++ : k - 1;
            while (j > 0 && top[j - 1].logit < c[i].logit) {
                top[j] = top[j - 1];
                j--;
            }
            top[j] = c[i];
        }
        memcpy(c, top, (size_t)k * sizeof(cand));
        free(top);
    } else {
        qsort(c, (size_t)n, sizeof(cand), cmp_desc);
    }
    return k;
}

int32_t octo_sampler_sample(octo_sampler *s, const float *logits) {
    int n = s->n_vocab;
    cand *c = s->cands;
    for (int i = 0; i < n; i++) {
        c[i].id = i;
        c[i].logit = logits[i];
    }
    /* repetition penalty (each distinct token once, like llama.cpp) */
    if (s->p.repeat_penalty != 1.0f && s->hist_n > 0) {
        for (int h = 0; h < s->hist_n; h++) {
            int32_t t = s->hist[h];
            if (t < 0 || t >= n) continue;
            int seen = 0;
            for (int g = 0; g < h; g++) seen |= s->hist[g] == t;
            if (seen) continue;
            float *l = &c[t].logit;
            *l = *l > 0 ? *l / s->p.repeat_penalty : *l * s->p.repeat_penalty;
        }
    }
    if (s->p.temperature <= 0) {
        int32_t best = 0;
        for (int i = 1; i < n; i++)
            if (c[i].logit > c[best].logit) best = i;
        return best;
    }
    int k = top_k_sorted(c, n, s->p.top_k);
    /* softmax over the survivors (sorted descending) */
    float mx = c[0].logit;
    double sum = 0;
    float *pr = malloc((size_t)k * sizeof(float));
    for (int i = 0; i < k; i++) {
        pr[i] = expf(c[i].logit - mx);
        sum += pr[i];
    }
    if (s->p.top_p < 1.0f) {
        double cum = 0;
        int keep = k;
        for (int i = 0; i < k; i++) {
            cum += pr[i] / sum;
            if (cum >= s->p.top_p) {
                keep = i + 1;
                break;
            }
        }
        k = keep;
    }
    if (s->p.min_p > 0) {
        /* pr[0] is the max (exp(0) = 1) */
        int keep = 1;
        while (keep < k && pr[keep] >= s->p.min_p) keep++;
        k = keep;
    }
    /* temperature, then draw */
    double tot = 0;
    for (int i = 0; i < k; i++) {
        pr[i] = expf((c[i].logit - mx) / s->p.temperature);
        tot += pr[i];
    }
    double r = (double)(next_u64(s->rng) >> 11) * (1.0 / 9007199254740992.0) * tot;
    int32_t pick = c[k - 1].id;
    double acc = 0;
    for (int i = 0; i < k; i++) {
        acc += pr[i];
        if (r < acc) {
            pick = c[i].id;
            break;
        }
    }
    free(pr);
    return pick;
}
