/* file_io.h - reading inputs and writing outputs for the CLI and reports.
 *
 * Whole-file reads with a size cap ("-" is standard input), durable writes
 * (written to a temporary name, fsync'd, renamed: a file is either absent or
 * complete, even if the process dies right after), and expansion of
 * FILE|DIR arguments into a sorted list of files. Errors come back in an
 * af_error; nothing here prints.
 */
#ifndef ASYNCFUZZ_FILE_IO_H
#define ASYNCFUZZ_FILE_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* Cap for fuzz inputs read by the CLI. */
#define AF_READ_MAX_BYTES (1024 * 1024)

/* Reads all of `path` ("-": stdin) into a malloc'd, NUL-terminated buffer.
 * Fails when the file is larger than `max` bytes. Never blocks in open(2):
 * a FIFO nobody writes to reads as empty. */
int af_read_file(const char *path, size_t max, char **data, size_t *len, af_error *err);

/* Writes `len` bytes durably to `path` (NULL or "-": stdout, flushed and
 * checked). `path` must be a regular file (replaced atomically: written
 * under a temporary name, fsync'd, renamed) or not exist: a device, FIFO,
 * socket, directory or symbolic link is refused with an error. */
int af_write_file(const char *path, const void *data, size_t len, af_error *err);

/* Flushes standard output; a write error (a full disk, a closed pipe) is an
 * error. Commands that print call it before they exit. */
int af_flush_stdout(af_error *err);

/* Every byte of data written to, or len bytes read from, a file descriptor
 * (short transfers and EINTR retried): 0, or -1 on an error or (reading)
 * the end of input. */
int af_write_fd_all(int fd, const void *data, size_t len);
int af_read_fd_all(int fd, void *data, size_t len);

/* Creates `dir` and its parents (mode 0777 & umask); ok if it exists. */
int af_make_dirs(const char *dir, af_error *err);

typedef struct af_path_list {
    char **paths;
    size_t count, cap;
} af_path_list;

/* Adds `arg`: a directory adds every regular file in it whose name ends in
 * `suffix`, sorted by name; anything else is added as given. Returns -1 with
 * errno set when a directory cannot be read or memory runs out. */
int af_path_list_add_arg(af_path_list *list, const char *arg, const char *suffix);
void af_path_list_free(af_path_list *list);

#endif
