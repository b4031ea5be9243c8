/* handler.h - executing a function call on this machine.
 *
 * exec handlers run argv directly (fork + execvp, never a shell): an argv
 * element that is exactly "{param}" becomes the argument's value as inert
 * data, whatever characters it contains; a placeholder inside a longer
 * element is replaced as text within that one element. Strings go as they
 * are, numbers as JSON writes them, booleans as true/false, arrays and
 * objects as compact JSON, an absent optional argument as "". stdin is
 * /dev/null; stdout is the observation (at most 8 MiB); a non-zero exit, a
 * signal or the timeout (the process group is killed) is a failure whose
 * message carries stderr's first line.
 * http handlers POST the arguments as a JSON object (libcurl); a 2xx
 * response body is the observation, anything else a failure.
 * Arguments are checked against the function's schema first.
 */
#ifndef OCTO_AGENT_HANDLER_H
#define OCTO_AGENT_HANDLER_H

#include "agent/funcset.h"

/* Returns 0 with *observation (malloc'd) set, or -1 with the error set
 * (octo_last_error) and *observation holding what output there was (or NULL).
 * A function without a handler fails with "no handler". */
int octo_handler_run(const octo_function *f, const cJSON *args, char **observation);

#endif
