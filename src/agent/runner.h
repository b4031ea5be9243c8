/* runner.h - the agent loop (octo_agent in octo.h): plan, then for each
 * step act and execute the call, feeding each observation to the next
 * step. Plan-then-act as in the paper: no re-planning; a step that maps to
 * no function or a call that fails stops the run with a report saying
 * which step, which call and why.
 *
 * Calls are executed by, in order of preference: a C callback registered
 * for the function, a callback registered for every function, the set's
 * exec/http handler (agent/handler.h). A function with none of these fails
 * ("no handler").
 */
#ifndef OCTO_AGENT_RUNNER_H
#define OCTO_AGENT_RUNNER_H

#include "octo.h"

#endif
