/* remote.h - a runner in a process of its own (harness/run/remote.c).
 *
 * runner.c uses the client half for af_runner_new_remote; main.c enters
 * the server half for `asyncfuzz --serve-runner`. A remote runner's runs
 * come back as traces (JSON lines): the client judges them as its own.
 */
#ifndef ASYNCFUZZ_REMOTE_H
#define ASYNCFUZZ_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "harness/run/runner.h"
#include "harness/run/target.h"
#include "harness/run/trace.h"
#include "scenarios/ir.h"

typedef struct af_remote af_remote;

/* Start the server (this executable, --serve-runner), hand it opts and
 * wait until its target is loaded: its declarations into info, its LOOP
 * into loop_mode. NULL with err set (the server's own error when its
 * target did not load). */
af_remote *af_remote_start(const af_runner_options *opts, af_target_info *info, char *loop_mode,
                           size_t cap, af_error *err);
/* Run s there; its trace into tr. 0, or -1 with err set (*adapter_failed:
 * an adapter error, as af_runner_adapter_failed). */
int af_remote_run(af_remote *rm, const af_scenario *s, af_trace *tr, bool *adapter_failed,
                  af_error *err);
/* Ask the server to tear its target down and exit; wait for it. */
void af_remote_stop(af_remote *rm);

/* The server: reads requests on fd 3, replies on fd 4 (remote.c says how)
 * until its input ends. Returns the process's exit code. */
int af_remote_serve(void);

#endif
