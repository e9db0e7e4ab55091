/* remote.c - a runner in a process of its own (remote.h).
 *
 * A target adapter that patches asyncio for the whole process
 * (PROCESS_WIDE: nest_asyncio replaces asyncio.run, Task and Future) leaves
 * no stock asyncio in its process to compare it with. The reference then
 * runs in a fresh asyncfuzz process (`asyncfuzz --serve-runner`, the same
 * executable), and this file is the wire between the two: the client half
 * (af_remote_start / run / stop, used by runner.c) and the server half
 * (af_remote_serve, entered from main.c).
 *
 * The protocol, on the server's fds 3 (requests) and 4 (replies), so that
 * whatever the adapter prints on stdout or stderr stays out of it; every
 * message is a 32-bit length (host order: both ends are this executable)
 * and that many bytes:
 *   client -> server  the af_runner_options struct, once;
 *   server -> client  "ok" + af_target_info + loop mode, or an error text;
 *   client -> server  a scenario's canonical JSON (af_json_write), or an
 *                     empty message: tear down and exit;
 *   server -> client  a status byte ('t' trace, 'e' error, 'a' adapter
 *                     error) and the trace as JSON lines (TRACE.md) or the
 *                     error text.
 *
 * What it must not do: judge (the client judges the trace it gets back),
 * print (errors go up in af_error), or outlive the client (the server gets
 * SIGKILL when its parent dies, and exits at the end of its input).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness/run/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file_io.h"
#include "scenarios/json.h"

#define REQUEST_FD 3
#define REPLY_FD 4
/* Largest message accepted: a full trace's JSON lines. */
#define MAX_MESSAGE (64u * 1024 * 1024)

struct af_remote {
    pid_t pid;
    int to_server;   /* its REQUEST_FD */
    int from_server; /* its REPLY_FD */
};

/* ---- messages ------------------------------------------------------------ */

/* One message: its length, then head (hlen bytes) and body (blen bytes). */
static int send_message(int fd, const void *head, size_t hlen, const void *body, size_t blen)
{
    uint32_t n = (uint32_t)(hlen + blen);
    return af_write_fd_all(fd, &n, sizeof n) < 0 || af_write_fd_all(fd, head, hlen) < 0 ||
                   af_write_fd_all(fd, body, blen) < 0
               ? -1
               : 0;
}

/* One message, malloc'd and NUL-terminated into *out (length *len). 0, or
 * -1 at the end of input or on a read error. */
static int receive_message(int fd, char **out, size_t *len)
{
    uint32_t n;
    *out = NULL;
    if (af_read_fd_all(fd, &n, sizeof n) < 0 || n > MAX_MESSAGE)
        return -1;
    char *buf = malloc((size_t)n + 1);
    if (!buf || af_read_fd_all(fd, buf, n) < 0) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* ---- the client ----------------------------------------------------------- */

/* The server's hello: "ok", its target and loop mode; or an error text. */
static int read_hello(af_remote *rm, af_target_info *info, char *loop_mode, size_t cap,
                      af_error *err)
{
    char *msg;
    size_t len;
    if (receive_message(rm->from_server, &msg, &len) < 0) {
        af_error_set(err, "", "the reference's process ended while loading its target");
        return -1;
    }
    size_t want = 2 + sizeof *info + 16;
    int rc = -1;
    if (len == want && memcmp(msg, "ok", 2) == 0) {
        memcpy(info, msg + 2, sizeof *info);
        snprintf(loop_mode, cap, "%.15s", msg + 2 + sizeof *info);
        rc = 0;
    } else {
        af_error_set(err, "", "%s", msg);
    }
    free(msg);
    return rc;
}

/* The server process: this executable, `--serve-runner`, its fds 3 and 4
 * the pipes' ends. */
static pid_t spawn_server(int req[2], int rep[2])
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Out of the way first (a pipe end may be fd 3 or 4 already), then in
     * place; dup2 leaves the copies open across exec. */
    int in = fcntl(req[0], F_DUPFD, 10), out = fcntl(rep[1], F_DUPFD, 10);
    if (in < 0 || out < 0 || dup2(in, REQUEST_FD) < 0 || dup2(out, REPLY_FD) < 0)
        _exit(127);
    close(in);
    close(out);
    for (int i = 0; i < 2; i++) {
        if (req[i] != REQUEST_FD && req[i] != REPLY_FD)
            close(req[i]);
        if (rep[i] != REQUEST_FD && rep[i] != REPLY_FD)
            close(rep[i]);
    }
    char *argv[] = {"asyncfuzz", "--serve-runner", NULL};
    execv("/proc/self/exe", argv);
    _exit(127);
}

af_remote *af_remote_start(const af_runner_options *opts, af_target_info *info, char *loop_mode,
                           size_t cap, af_error *err)
{
    af_remote *rm = calloc(1, sizeof *rm);
    int req[2] = {-1, -1}, rep[2] = {-1, -1};
    if (!rm || pipe2(req, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
        af_error_set(err, "", "starting the reference's process: %s", strerror(errno));
        goto fail;
    }
    rm->pid = spawn_server(req, rep);
    if (rm->pid < 0) {
        af_error_set(err, "", "starting the reference's process: %s", strerror(errno));
        goto fail;
    }
    close(req[0]);
    close(rep[1]);
    rm->to_server = req[1];
    rm->from_server = rep[0];
    signal(SIGPIPE, SIG_IGN); /* a dead server is a write error, not our death */
    if (send_message(rm->to_server, opts, sizeof *opts, NULL, 0) < 0 ||
        read_hello(rm, info, loop_mode, cap, err) < 0) {
        af_remote_stop(rm);
        return NULL;
    }
    return rm;
fail:
    for (int i = 0; i < 2; i++) {
        if (req[i] >= 0)
            close(req[i]);
        if (rep[i] >= 0)
            close(rep[i]);
    }
    free(rm);
    return NULL;
}

int af_remote_run(af_remote *rm, const af_scenario *s, af_trace *tr, bool *adapter_failed,
                  af_error *err)
{
    *adapter_failed = false;
    char *text = af_json_write(s), *reply = NULL;
    size_t len = 0;
    if (!text) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    int sent = send_message(rm->to_server, text, strlen(text), NULL, 0);
    free(text);
    if (sent < 0 || receive_message(rm->from_server, &reply, &len) < 0 || len < 1) {
        af_error_set(err, "", "the reference's process (pid %d) died during a run", (int)rm->pid);
        free(reply);
        return -1;
    }
    int rc = -1;
    if (reply[0] == 't') {
        af_trace_reset(tr);
        rc = af_trace_read_jsonl(reply + 1, len - 1, tr, err);
    } else {
        *adapter_failed = reply[0] == 'a';
        af_error_set(err, "", "%s", reply + 1);
    }
    free(reply);
    return rc;
}

void af_remote_stop(af_remote *rm)
{
    if (!rm)
        return;
    if (rm->to_server >= 0) {
        send_message(rm->to_server, "", 0, NULL, 0); /* tear down and exit */
        close(rm->to_server);
    }
    if (rm->from_server >= 0)
        close(rm->from_server);
    if (rm->pid > 0)
        while (waitpid(rm->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    free(rm);
}

/* ---- the server ----------------------------------------------------------- */

/* One request: the scenario text -> the reply. 0, or -1 when the reply
 * could not be written. */
static int serve_one(af_runner *r, const char *text, size_t len, af_trace *tr)
{
    af_scenario *s = malloc(sizeof *s);
    af_error err;
    memset(&err, 0, sizeof err);
    char *lines = NULL;
    size_t n = 0;
    char status = 'e';
    if (!s) {
        af_error_set(&err, "", "out of memory");
    } else if (af_json_read(text, len, s, &err) == 0) {
        if (af_runner_run(r, s, tr, &err) == 0) {
            FILE *f = open_memstream(&lines, &n);
            if (f && af_trace_fwrite_jsonl(tr, f) == 0 && fclose(f) == 0)
                status = 't';
            else
                af_error_set(&err, "", "out of memory writing the trace");
        } else if (af_runner_adapter_failed(r)) {
            status = 'a';
        }
    }
    free(s);
    int rc = status == 't' ? send_message(REPLY_FD, &status, 1, lines, n)
                           : send_message(REPLY_FD, &status, 1, err.message, strlen(err.message));
    free(lines);
    return rc;
}

int af_remote_serve(void)
{
    char *msg = NULL;
    size_t len = 0;
    af_runner_options opts;
    if (receive_message(REQUEST_FD, &msg, &len) < 0 || len != sizeof opts) {
        free(msg);
        return 2;
    }
    memcpy(&opts, msg, sizeof opts);
    free(msg);
    af_error err;
    memset(&err, 0, sizeof err);
    af_runner *r = af_runner_new(&opts, &err);
    if (!r) { /* the client reports it */
        send_message(REPLY_FD, err.message, strlen(err.message), NULL, 0);
        return 2;
    }
    char hello[2 + sizeof(af_target_info) + 16] = "ok";
    memcpy(hello + 2, af_runner_target(r), sizeof(af_target_info));
    snprintf(hello + 2 + sizeof(af_target_info), 16, "%s", af_runner_loop_mode(r));
    af_trace tr;
    int rc =
        send_message(REPLY_FD, hello, sizeof hello, NULL, 0) < 0 || af_trace_init(&tr, 0, 0) < 0;
    while (rc == 0 && receive_message(REQUEST_FD, &msg, &len) == 0 && len > 0) {
        rc = serve_one(r, msg, len, &tr);
        free(msg);
        msg = NULL;
    }
    free(msg);
    if (rc == 0)
        af_trace_free(&tr);
    af_runner_teardown(r, &err);
    af_runner_free(r);
    return rc ? 2 : 0;
}
