/* error.c - thread-local last-error message (see error.h). */
#include "base/error.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char g_error[1024];

int octo_failv(const char *fmt, va_list ap) {
    vsnprintf(g_error, sizeof g_error, fmt, ap);
    return -1;
}

int octo_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    octo_failv(fmt, ap);
    va_end(ap);
    return -1;
}

int octo_fail_context(const char *fmt, ...) {
    char prefix[512], old[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_error, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof g_error - 3) n = sizeof g_error - 3;
    memcpy(g_error, prefix, n);
    memcpy(g_error + n, ": ", 2);
    size_t m = strnlen(old, sizeof old);
    if (m > sizeof g_error - n - 3) m = sizeof g_error - n - 3;
    memcpy(g_error + n + 2, old, m);
    g_error[n + 2 + m] = 0;
    return -1;
}

const char *octo_last_error(void) { return g_error[0] ? g_error : "unknown error"; }
void octo_clear_error(void) { g_error[0] = 0; }
