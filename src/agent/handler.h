/* handler.h - executing a function call on this machine.
 *
 * exec handlers run argv directly (fork + execvp, never a shell): each
 * "{param}" placeholder becomes exactly one argv element holding the
 * argument's value as inert data, whatever characters it contains. stdout
 * is the observation; a non-zero exit, a signal or the timeout is a failure.
 * http handlers POST the arguments as a JSON object (libcurl); a 2xx
 * response body is the observation, anything else a failure.
 */
#ifndef OCTO_AGENT_HANDLER_H
#define OCTO_AGENT_HANDLER_H

#include "agent/funcset.h"

/* Returns 0 with *observation (malloc'd) set, or -1 with the error set
 * (octo_last_error) and *observation holding what output there was (or NULL).
 * A function without a handler fails with "no handler". */
int octo_handler_run(const octo_function *f, const cJSON *args, char **observation);

#endif
