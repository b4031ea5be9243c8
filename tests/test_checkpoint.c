/* test_checkpoint.c - checkpoints: a round trip that continues bit for bit,
 * refusal of truncated, damaged and mismatched files, and a writer killed
 * with SIGKILL at random moments that never leaves a checkpoint which fails
 * to load.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "train/checkpoint.h"

typedef struct {
    octo_param p[3];
    octo_adamw *opt;
} run;

static void run_init(run *r, int64_t big) {
    static const char *names[3] = {"blk.0.attn_q.weight", "blk.0.attn_norm.weight", "output.weight"};
    const int64_t rows[3] = {big, 16, 33}, cols[3] = {8, 1, 7};
    for (int k = 0; k < 3; k++) {
        octo_param *p = &r->p[k];
        memset(p, 0, sizeof *p);
        p->name = (char *)names[k];
        p->rows = rows[k];
        p->cols = cols[k];
        p->n = rows[k] * cols[k];
        p->decay = cols[k] > 1;
        p->data = malloc((size_t)p->n * 4);
        p->grad = calloc((size_t)p->n, 4);
        for (int64_t i = 0; i < p->n; i++) p->data[i] = (float)((i * 7 + k) % 13) * 0.01f;
    }
    octo_adamw_opts o;
    octo_adamw_defaults(&o);
    o.weight_decay = 0.01;
    r->opt = octo_adamw_new(r->p, 3, &o);
}

static void run_steps(run *r, int from, int to) {
    for (int t = from; t < to; t++) {
        for (int k = 0; k < 3; k++)
            for (int64_t i = 0; i < r->p[k].n; i++) r->p[k].grad[i] = sinf((float)(i + 31 * t + 7 * k));
        octo_adamw_step(r->opt, 1e-2);
    }
}

static void run_free(run *r) {
    octo_adamw_free(r->opt);
    for (int k = 0; k < 3; k++) {
        free(r->p[k].data);
        free(r->p[k].grad);
    }
}

static const char *CFG = "{\"mode\":\"lora\",\"lora_rank\":8,\"lr\":0.0001,\"seq_len\":256}";

static char *dir_path(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", t_tmpdir(), name);
    return buf;
}

TEST(round_trip_continues_bit_for_bit) {
    run a, b;
    run_init(&a, 100);
    run_init(&b, 100);
    REQUIRE(a.opt && b.opt);
    run_steps(&a, 0, 3);
    octo_ckpt_pos pos = {3, 1, 17, 12345, 0xdeadbeefcafef00dull}, got = {0};
    const char *dir = dir_path("rt");
    REQUIRE(octo_ckpt_save(dir, &pos, CFG, a.p, 3, a.opt) == 0);
    CHECK(octo_ckpt_load(dir, CFG, &got, b.p, 3, b.opt) == 0);
    CHECK(got.step == 3 && got.epoch == 1 && got.batch == 17 && got.tokens == 12345 && got.rng == pos.rng);
    CHECK(octo_adamw_t(b.opt) == 3);
    run_steps(&a, 3, 6);
    run_steps(&b, 3, 6);
    for (int k = 0; k < 3; k++) CHECK(memcmp(a.p[k].data, b.p[k].data, (size_t)a.p[k].n * 4) == 0);
    /* saving again replaces the file and leaves no temp file */
    pos.step = 6;
    REQUIRE(octo_ckpt_save(dir, &pos, CFG, a.p, 3, a.opt) == 0);
    REQUIRE(octo_ckpt_load(dir, CFG, &got, b.p, 3, b.opt) == 0);
    CHECK(got.step == 6);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(ls '%s' | wc -l) -eq 1", dir);
    CHECK(system(cmd) == 0);
    run_free(&a);
    run_free(&b);
}

static int copy_prefix(const char *from, const char *to, long n, long flip_at) {
    size_t size;
    char *d = octo_read_file(from, &size);
    if (!d) return -1;
    if (n < 0) n = (long)size;
    if (flip_at >= 0) d[flip_at] ^= 0x10;
    mkdir(to, 0755);
    FILE *f = fopen(octo_ckpt_file(to), "wb");
    fwrite(d, 1, (size_t)n, f);
    fclose(f);
    free(d);
    return (int)size;
}

TEST(damaged_files_are_refused) {
    run a, b;
    run_init(&a, 100);
    run_init(&b, 100);
    REQUIRE(a.opt && b.opt);
    run_steps(&a, 0, 2);
    octo_ckpt_pos pos = {2, 0, 2, 100, 1}, got = {0};
    const char *dir = dir_path("good");
    REQUIRE(octo_ckpt_save(dir, &pos, CFG, a.p, 3, a.opt) == 0);
    char good[600];
    snprintf(good, sizeof good, "%s", octo_ckpt_file(dir));
    float before = b.p[0].data[5];

    int size = copy_prefix(good, dir_path("trunc"), 1000, -1);
    REQUIRE(size > 2000);
    CHECK(octo_ckpt_load(dir_path("trunc"), CFG, &got, b.p, 3, b.opt) != 0);
    CHECK(strstr(octo_last_error(), "truncated") != NULL);
    copy_prefix(good, dir_path("trunc2"), size - 1, -1);
    CHECK(octo_ckpt_load(dir_path("trunc2"), CFG, &got, b.p, 3, b.opt) != 0);
    copy_prefix(good, dir_path("short"), 20, -1);
    CHECK(octo_ckpt_load(dir_path("short"), CFG, &got, b.p, 3, b.opt) != 0);
    CHECK(strstr(octo_last_error(), "not an octo checkpoint") != NULL);
    for (long at = 40; at < size; at += size / 7) { /* meta, parameters, optimizer state */
        copy_prefix(good, dir_path("flip"), -1, at);
        CHECK(octo_ckpt_load(dir_path("flip"), CFG, &got, b.p, 3, b.opt) != 0);
        CHECK(strstr(octo_last_error(), "checksum") != NULL);
    }
    CHECK(octo_ckpt_load(dir_path("absent"), CFG, &got, b.p, 3, b.opt) != 0);
    CHECK(strstr(octo_last_error(), "absent/checkpoint.bin") != NULL);
    /* nothing was touched by the failed loads */
    CHECK(b.p[0].data[5] == before && octo_adamw_t(b.opt) == 0);
    run_free(&a);
    run_free(&b);
}

TEST(mismatched_runs_are_refused) {
    run a, b;
    run_init(&a, 100);
    REQUIRE(a.opt);
    octo_ckpt_pos pos = {1, 0, 1, 10, 0}, got = {0};
    const char *dir = dir_path("mm");
    REQUIRE(octo_ckpt_save(dir, &pos, CFG, a.p, 3, a.opt) == 0);
    CHECK(octo_ckpt_load(dir, "{\"mode\":\"lora\",\"lora_rank\":16,\"lr\":0.0001,\"seq_len\":256}", &got, a.p, 3,
                         a.opt) != 0);
    CHECKF(strstr(octo_last_error(), "lora_rank=8, this run has lora_rank=16") != NULL, "%s", octo_last_error());
    CHECK(octo_ckpt_load(dir, "{\"mode\":\"lora\",\"lora_rank\":8,\"lr\":0.0001}", &got, a.p, 3, a.opt) != 0);
    CHECK(strstr(octo_last_error(), "seq_len") != NULL);
    /* other tensor shapes: the model is not the one the checkpoint was made for */
    run_init(&b, 101);
    REQUIRE(b.opt);
    CHECK(octo_ckpt_load(dir, CFG, &got, b.p, 3, b.opt) != 0);
    CHECKF(strstr(octo_last_error(), "blk.0.attn_q.weight [101 x 8]") != NULL, "%s", octo_last_error());
    run_free(&a);
    run_free(&b);
}

TEST(killed_writer_never_leaves_a_bad_checkpoint) {
    /* A child saves a 4 MB checkpoint over and over with a growing step; it
     * is killed at a moment that lands anywhere in a save. The directory
     * must then always hold a checkpoint that loads. */
    const char *dir = dir_path("kill");
    run a;
    run_init(&a, 128 * 1024);
    REQUIRE(a.opt);
    octo_ckpt_pos pos = {0, 0, 0, 0, 0}, got;
    REQUIRE(octo_ckpt_save(dir, &pos, CFG, a.p, 3, a.opt) == 0);
    int loaded = 0, temps = 0;
    for (int round = 0; round < 6; round++) {
        fflush(NULL);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            for (int64_t s = 1;; s++) {
                pos.step = s;
                octo_ckpt_save(dir, &pos, CFG, a.p, 3, a.opt);
            }
        }
        struct timespec ts = {0, 3000000L + 7000000L * round};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", dir);
        temps += system(cmd) == 0;
        if (octo_ckpt_load(dir, CFG, &got, a.p, 3, a.opt) == 0) loaded++;
        else fprintf(stderr, "    round %d: %s\n", round, octo_last_error());
    }
    CHECK(loaded == 6);
    printf("    6 kills, %d of them mid-write (a temp file left and ignored)\n", temps);
    /* the next save clears the leftovers */
    REQUIRE(octo_ckpt_save(dir, &pos, CFG, a.p, 3, a.opt) == 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", dir);
    CHECK(system(cmd) != 0);
    run_free(&a);
}

int main(void) {
    RUN(round_trip_continues_bit_for_bit);
    RUN(damaged_files_are_refused);
    RUN(mismatched_runs_are_refused);
    RUN(killed_writer_never_leaves_a_bad_checkpoint);
    return t_finish();
}
