/* train_log.c - the progress line and the metrics log (see trainer.h). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"
#include "train/trainer.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void octo_format_duration(double s, char *buf, size_t cap) {
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, cap, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, cap, "%lds", t);
}

void octo_progress_init(octo_progress *pr, FILE *f) {
    memset(pr, 0, sizeof *pr);
    pr->f = f;
    pr->tty = f && isatty(fileno(f));
    pr->last_print_s = -1e9;
}

void octo_progress_update(octo_progress *pr, const octo_train_progress *p, bool last) {
    if (!pr->f) return;
    double t = now_s();
    bool has_eval = !isnan(p->eval_loss);
    bool must = last || p->step <= 1 || p->step >= p->total_steps || has_eval;
    if (!pr->tty && !must && t - pr->last_print_s < 2.0) return;
    pr->last_print_s = t;
    char eta[32], ev[48] = "";
    octo_format_duration(p->eta_s, eta, sizeof eta);
    if (has_eval) snprintf(ev, sizeof ev, " | eval %.4f", p->eval_loss);
    int ep = (int)ceil(p->epoch - 1e-9); /* the epoch this step belongs to, 1-based */
    if (ep < 1) ep = 1;
    if (ep > p->n_epochs) ep = p->n_epochs;
    fprintf(pr->f, "%sstep %lld/%lld | epoch %d/%d | loss %.4f%s | lr %.3g | %.0f tok/s | ETA %s%s",
            pr->tty ? "\r" : "", (long long)p->step, (long long)p->total_steps, ep, p->n_epochs, p->loss, ev,
            p->lr, p->tok_s, eta, pr->tty ? "\033[K" : "\n");
    pr->open_line = pr->tty;
    /* on a terminal an eval result stays on screen */
    if (pr->tty && has_eval) {
        fputc('\n', pr->f);
        pr->open_line = false;
    }
    fflush(pr->f);
}

void octo_progress_note(octo_progress *pr, const char *fmt, ...) {
    if (!pr->f) return;
    if (pr->open_line) fputc('\n', pr->f);
    pr->open_line = false;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(pr->f, fmt, ap);
    va_end(ap);
    fputc('\n', pr->f);
    fflush(pr->f);
}

void octo_progress_end(octo_progress *pr) {
    if (pr->f && pr->open_line) fputc('\n', pr->f);
    pr->open_line = false;
    if (pr->f) fflush(pr->f);
}

/* ---- metrics ---- */

/* The "step" of one log line, or -1. */
static long long line_step(const char *line, const char *end) {
    const char *k = strstr(line, "\"step\":");
    if (!k || k >= end) return -1;
    return strtoll(k + 7, NULL, 10);
}

FILE *octo_metrics_open(const char *path, int64_t resume_step) {
    if (resume_step >= 0 && access(path, F_OK) == 0) {
        size_t n;
        char *old = octo_read_file(path, &n);
        if (!old) return NULL;
        char *keep = malloc(n + 1);
        size_t kn = 0;
        if (!keep) {
            free(old);
            octo_fail("%s: out of memory", path);
            return NULL;
        }
        for (char *line = old; line < old + n;) {
            char *nl = memchr(line, '\n', (size_t)(old + n - line));
            char *end = nl ? nl + 1 : old + n;
            long long s = line_step(line, end);
            if (nl && s >= 0 && s <= resume_step) { /* complete lines of steps already done */
                memcpy(keep + kn, line, (size_t)(end - line));
                kn += (size_t)(end - line);
            }
            line = end;
        }
        int rc = octo_write_file_atomic(path, keep, kn);
        free(old);
        free(keep);
        if (rc != 0) return NULL;
    }
    FILE *f = fopen(path, resume_step >= 0 ? "a" : "w");
    if (!f) octo_fail("%s: cannot open the metrics log for writing", path);
    return f;
}

void octo_metrics_write(FILE *f, const octo_train_progress *p) {
    if (!f) return;
    /* %.9g: a float read back is the same float, so logs compare bit for bit */
    fprintf(f, "{\"step\":%lld,\"epoch\":%.6g,\"loss\":%.9g,\"lr\":%.9g,\"grad_norm\":%.9g,\"tokens\":%lld,\"tok_s\":%.1f",
            (long long)p->step, p->epoch, p->loss, p->lr, p->grad_norm, (long long)p->tokens, p->tok_s);
    if (!isnan(p->eval_loss)) fprintf(f, ",\"eval_loss\":%.9g", p->eval_loss);
    fputs("}\n", f);
    fflush(f);
}
