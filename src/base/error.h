/* error.h - the library's one error channel.
 *
 * Every failing octo function returns NULL / -1 / false and leaves a one-line
 * message here, naming the file or field and what was expected.  The message
 * is thread-local so concurrent callers never see each other's errors; the
 * CLI prints it and exits non-zero.
 */
#ifndef OCTO_BASE_ERROR_H
#define OCTO_BASE_ERROR_H

#include <stdarg.h>

/* Set the current thread's error message (printf-style). Always returns -1
 * so callers can write `return octo_fail("...")`. */
int octo_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int octo_failv(const char *fmt, va_list ap);

/* Prefix the current message with more context: "ctx: old message". */
int octo_fail_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

const char *octo_last_error(void);
void octo_clear_error(void);

#endif
