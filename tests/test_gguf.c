/* test_gguf.c - GGUF reader and writer: round trips of every metadata type,
 * and hostile files (truncated at every byte, bit-flipped, oversized counts,
 * bad offsets) that must give a clean error, never a crash or a read out of
 * bounds.  The buffers under test are copied into exactly-sized heap blocks
 * so that AddressSanitizer/valgrind builds catch any overread.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "octo.h"
#include "base/error.h"
#include "gguf/gguf.h"
#include "testlib.h"

static float g_w[4 * 64], g_b[64];
static uint8_t g_q[2 * 34 * 2];

static char *path_in_tmp(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", t_tmpdir(), name);
    return buf;
}

/* A small file with every metadata type and three tensors. */
static int write_sample(const char *path) {
    gguf_writer *w = gguf_writer_new();
    gguf_set_str(w, "general.architecture", "llama");
    gguf_set_u32(w, "test.u32", 4000000000u);
    gguf_set_i32(w, "test.i32", -7);
    gguf_set_u64(w, "test.u64", 1ull << 40);
    gguf_set_f32(w, "test.f32", 0.25f);
    gguf_set_bool(w, "test.bool", true);
    int16_t i16[3] = {-1, 2, -3};
    gguf_set_arr(w, "test.arr_i16", GGUF_TYPE_INT16, i16, 3);
    double f64[2] = {1.5, -2.5};
    gguf_set_arr(w, "test.arr_f64", GGUF_TYPE_FLOAT64, f64, 2);
    const char *strs[3] = {"a", "", "héllo"};
    gguf_set_arr_str(w, "test.arr_str", strs, 3);
    gguf_set_str(w, "test.replaced", "old");
    gguf_set_str(w, "test.replaced", "new");
    for (int i = 0; i < 4 * 64; i++) g_w[i] = (float)i * 0.5f;
    for (int i = 0; i < 64; i++) g_b[i] = -(float)i;
    for (size_t i = 0; i < sizeof g_q; i++) g_q[i] = (uint8_t)(i * 7);
    int64_t ne_w[2] = {64, 4}, ne_b[1] = {64}, ne_q[2] = {64, 2};
    int rc = gguf_add_tensor(w, "w", OCTO_TYPE_F32, 2, ne_w, g_w);
    rc |= gguf_add_tensor(w, "b", OCTO_TYPE_F32, 1, ne_b, g_b);
    rc |= gguf_add_tensor(w, "q", OCTO_TYPE_Q8_0, 2, ne_q, g_q);
    rc |= gguf_writer_write(w, path);
    gguf_writer_free(w);
    return rc;
}

static uint8_t *load_bytes(const char *path, size_t *n) {
    size_t size;
    char *text = octo_read_file(path, &size);
    *n = size;
    return (uint8_t *)text;
}

TEST(round_trip_every_type) {
    const char *p = path_in_tmp("sample.gguf");
    REQUIRE(write_sample(p) == 0);
    gguf_file *f = gguf_open(p);
    REQUIRE(f);
    CHECK(f->version == 3);
    uint32_t u32;
    int64_t i64;
    float f32;
    bool b;
    char *s = NULL;
    CHECK(gguf_get_u32(f, "test.u32", &u32) == 0 && u32 == 4000000000u);
    CHECK(gguf_get_i64(f, "test.i32", &i64) == 0 && i64 == -7);
    CHECK(gguf_get_i64(f, "test.u64", &i64) == 0 && i64 == (1ll << 40));
    CHECK(gguf_get_u32(f, "test.u64", &u32) == -1); /* out of range for u32 */
    CHECK(gguf_get_u32(f, "test.i32", &u32) == -1); /* negative */
    CHECK(gguf_get_f32(f, "test.f32", &f32) == 0 && f32 == 0.25f);
    CHECK(gguf_get_bool(f, "test.bool", &b) == 0 && b);
    CHECK(gguf_get_bool(f, "test.f32", &b) == -1);
    CHECK(gguf_get_str(f, "test.replaced", &s) == 0 && strcmp(s, "new") == 0);
    free(s);
    CHECK(gguf_get_u32(f, "absent", &u32) == 1);
    const gguf_kv *arr;
    CHECK(gguf_get_arr(f, "test.arr_i16", GGUF_TYPE_INT16, &arr) == 0 && arr->arr_n == 3 &&
          gguf_arr_i64(arr, 2) == -3);
    CHECK(gguf_get_arr(f, "test.arr_f64", GGUF_TYPE_FLOAT64, &arr) == 0 && gguf_arr_f64(arr, 1) == -2.5);
    CHECK(gguf_get_arr(f, "test.arr_f64", GGUF_TYPE_INT16, &arr) == -1);
    REQUIRE(gguf_get_arr(f, "test.arr_str", GGUF_TYPE_STRING, &arr) == 0);
    CHECK(arr->arr_n == 3 && gguf_str_eq(arr->arr_strs[2], "héllo") && arr->arr_strs[1].len == 0);
    const gguf_tensor *t = gguf_find_tensor(f, "w");
    REQUIRE(t);
    CHECK(t->ne[0] == 64 && t->ne[1] == 4 && t->type == OCTO_TYPE_F32);
    CHECK(memcmp(t->data, g_w, sizeof g_w) == 0);
    CHECK(((uintptr_t)t->data - (uintptr_t)f->base) % 32 == 0);
    t = gguf_find_tensor(f, "q");
    REQUIRE(t);
    CHECK(t->nbytes == sizeof g_q && memcmp(t->data, g_q, sizeof g_q) == 0);
    gguf_close(f);
}

TEST(copy_file_through_writer) {
    const char *p = path_in_tmp("sample.gguf"), *p2 = path_in_tmp("copy.gguf");
    REQUIRE(write_sample(p) == 0);
    gguf_file *f = gguf_open(p);
    REQUIRE(f);
    gguf_writer *w = gguf_writer_new();
    for (uint64_t i = 0; i < f->n_kv; i++) gguf_set_kv(w, &f->kv[i]);
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)f->tensors[i].name.len, f->tensors[i].name.ptr);
        CHECK(gguf_add_tensor(w, name, f->tensors[i].type, (int)f->tensors[i].n_dims, f->tensors[i].ne,
                              f->tensors[i].data) == 0);
    }
    REQUIRE(gguf_writer_write(w, p2) == 0);
    gguf_writer_free(w);
    size_t n1, n2;
    uint8_t *a = load_bytes(p, &n1), *b = load_bytes(p2, &n2);
    CHECK(n1 == n2 && memcmp(a, b, n1) == 0); /* byte-identical */
    free(a);
    free(b);
    gguf_close(f);
}

TEST(writer_rejects_bad_tensors) {
    gguf_writer *w = gguf_writer_new();
    int64_t ne[2] = {33, 2};
    CHECK(gguf_add_tensor(w, "x", OCTO_TYPE_Q8_0, 2, ne, g_q) == -1); /* 33 not a multiple of 32 */
    CHECK(strstr(octo_last_error(), "block size") != NULL);
    int64_t ok[1] = {64};
    CHECK(gguf_add_tensor(w, "y", OCTO_TYPE_F32, 1, ok, g_b) == 0);
    CHECK(gguf_add_tensor(w, "y", OCTO_TYPE_F32, 1, ok, g_b) == -1); /* duplicate */
    CHECK(gguf_add_tensor(w, "z", OCTO_TYPE_F32, 5, ok, g_b) == -1);
    gguf_writer_free(w);
}

/* Parse a heap copy of exactly n bytes: any overread is outside the block. */
static gguf_file *parse_copy(const uint8_t *data, size_t n) {
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, data, n);
    gguf_file *f = gguf_open_buffer(copy, n, "hostile.gguf");
    if (f) {
        /* touch every tensor byte the reader vouched for */
        volatile uint8_t sink = 0;
        for (uint64_t i = 0; i < f->n_tensors; i++)
            for (size_t k = 0; k < f->tensors[i].nbytes; k += 64) sink ^= ((const uint8_t *)f->tensors[i].data)[k];
        (void)sink;
        gguf_close(f);
        free(copy);
        return (gguf_file *)1;
    }
    free(copy);
    return NULL;
}

TEST(truncated_at_every_byte) {
    const char *p = path_in_tmp("sample.gguf");
    REQUIRE(write_sample(p) == 0);
    size_t n;
    uint8_t *data = load_bytes(p, &n);
    REQUIRE(data);
    size_t first_accepted = n;
    for (size_t cut = 0; cut < n; cut++) {
        octo_clear_error();
        if (parse_copy(data, cut)) {
            if (cut < first_accepted) first_accepted = cut;
        } else if (cut == n / 2) {
            CHECKF(strstr(octo_last_error(), "hostile.gguf") != NULL, "%s", octo_last_error());
        }
    }
    /* only cuts inside the padding after the last tensor leave a whole file */
    CHECK(first_accepted >= n - 31);
    CHECK(parse_copy(data, n) != NULL);
    free(data);
}

TEST(bit_flips_never_crash) {
    const char *p = path_in_tmp("sample.gguf");
    REQUIRE(write_sample(p) == 0);
    size_t n;
    uint8_t *data = load_bytes(p, &n);
    REQUIRE(data);
    size_t header = n - 4 * 64 * 4 - 64 * 4 - sizeof g_q; /* roughly: flips in metadata matter */
    for (int trial = 0; trial < 20000; trial++) {
        uint8_t *copy = malloc(n);
        memcpy(copy, data, n);
        int flips = 1 + (int)(t_rand_u64() % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)(t_rand_u64() % (header + 64));
            copy[at] ^= (uint8_t)(1u << (t_rand_u64() % 8));
        }
        parse_copy(copy, n);
        free(copy);
    }
    free(data);
}

/* Hand-built headers with hostile counts. */
typedef struct {
    uint8_t b[512];
    size_t n;
} raw;
static void put(raw *r, const void *p, size_t n) {
    memcpy(r->b + r->n, p, n);
    r->n += n;
}
static void put_u32(raw *r, uint32_t v) { put(r, &v, 4); }
static void put_u64(raw *r, uint64_t v) { put(r, &v, 8); }
static void put_str(raw *r, const char *s) {
    put_u64(r, strlen(s));
    put(r, s, strlen(s));
}
static void header(raw *r, uint64_t n_tensors, uint64_t n_kv) {
    r->n = 0;
    put(r, "GGUF", 4);
    put_u32(r, 3);
    put_u64(r, n_tensors);
    put_u64(r, n_kv);
}

/* trailing bytes so that the counts pass the "can it fit" check and the
 * parser reaches the field under test */
static void pad(raw *r, size_t n) {
    memset(r->b + r->n, 0, n);
    r->n += n;
}

static void expect_error(raw *r, const char *fragment) {
    octo_clear_error();
    CHECK(parse_copy(r->b, r->n) == NULL);
    CHECKF(strstr(octo_last_error(), fragment) != NULL, "error \"%s\" lacks \"%s\"", octo_last_error(), fragment);
}

TEST(hostile_counts_and_offsets) {
    raw r;
    header(&r, 0, 1ull << 60);
    expect_error(&r, "key/value count");
    header(&r, 1ull << 62, 0);
    expect_error(&r, "tensor count");
    header(&r, 0, 1);
    put_u64(&r, 1ull << 62); /* key length */
    pad(&r, 16);
    expect_error(&r, "string length");
    header(&r, 0, 1);
    put_str(&r, "k");
    put_u32(&r, 99);
    pad(&r, 16);
    expect_error(&r, "unknown value type");
    header(&r, 0, 1);
    put_str(&r, "k");
    put_u32(&r, GGUF_TYPE_ARRAY);
    put_u32(&r, GGUF_TYPE_UINT64);
    put_u64(&r, 1ull << 61);
    expect_error(&r, "array of");
    header(&r, 0, 1);
    put_str(&r, "k");
    put_u32(&r, GGUF_TYPE_ARRAY);
    put_u32(&r, GGUF_TYPE_STRING);
    put_u64(&r, 1ull << 40);
    expect_error(&r, "strings");
    header(&r, 0, 1);
    put_str(&r, "k");
    put_u32(&r, GGUF_TYPE_ARRAY);
    put_u32(&r, GGUF_TYPE_ARRAY);
    put_u64(&r, 1);
    expect_error(&r, "array element type");
    /* tensors */
    header(&r, 1, 0);
    put_str(&r, "t");
    put_u32(&r, 5);
    pad(&r, 40);
    expect_error(&r, "n_dims");
    header(&r, 1, 0);
    put_str(&r, "t");
    put_u32(&r, 2);
    put_u64(&r, 1ull << 40);
    put_u64(&r, 1ull << 40);
    put_u32(&r, 0);
    put_u64(&r, 0);
    expect_error(&r, "overflows");
    header(&r, 1, 0);
    put_str(&r, "t");
    put_u32(&r, 1);
    put_u64(&r, 32);
    put_u32(&r, 77);
    put_u64(&r, 0);
    expect_error(&r, "unknown tensor type");
    header(&r, 1, 0);
    put_str(&r, "t");
    put_u32(&r, 1);
    put_u64(&r, 8);
    put_u32(&r, 0);
    put_u64(&r, 3); /* misaligned */
    while (r.n % 32) r.b[r.n++] = 0;
    for (int i = 0; i < 64; i++) r.b[r.n++] = 0;
    expect_error(&r, "not aligned");
    header(&r, 1, 0);
    put_str(&r, "t");
    put_u32(&r, 1);
    put_u64(&r, 8);
    put_u32(&r, 0);
    put_u64(&r, 1024); /* past the end */
    while (r.n % 32) r.b[r.n++] = 0;
    for (int i = 0; i < 32; i++) r.b[r.n++] = 0;
    expect_error(&r, "past the end");
    header(&r, 0, 1);
    put_str(&r, "general.alignment");
    put_u32(&r, GGUF_TYPE_UINT32);
    put_u32(&r, 24);
    expect_error(&r, "power of two");
    r.n = 0;
    put(&r, "GGML", 4);
    expect_error(&r, "bad magic");
    header(&r, 0, 0);
    memcpy(r.b + 4, "\x07\0\0\0", 4);
    expect_error(&r, "version");
}

TEST(missing_and_empty_files) {
    CHECK(gguf_open(path_in_tmp("does-not-exist.gguf")) == NULL);
    CHECK(strstr(octo_last_error(), "does-not-exist.gguf") != NULL);
    const char *empty = path_in_tmp("empty.gguf");
    FILE *f = fopen(empty, "wb");
    fclose(f);
    CHECK(gguf_open(empty) == NULL);
    CHECK(strstr(octo_last_error(), "empty") != NULL);
}

TEST(atomic_write_leaves_no_temp_on_failure) {
    /* writing into a directory that does not exist fails cleanly */
    gguf_writer *w = gguf_writer_new();
    gguf_set_u32(w, "a", 1);
    char p[600];
    snprintf(p, sizeof p, "%s/no/such/dir/x.gguf", t_tmpdir());
    CHECK(gguf_writer_write(w, p) == -1);
    gguf_writer_free(w);
}

int main(void) {
    RUN(round_trip_every_type);
    RUN(copy_file_through_writer);
    RUN(writer_rejects_bad_tensors);
    RUN(truncated_at_every_byte);
    RUN(bit_flips_never_crash);
    RUN(hostile_counts_and_offsets);
    RUN(missing_and_empty_files);
    RUN(atomic_write_leaves_no_temp_on_failure);
    return t_finish();
}
