/* file_io.c - whole-file reads, durable writes, FILE|DIR expansion.
 * See file_io.h. Never prints; errors go back in af_error.
 */
#include "base/file_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_stream(FILE *f, size_t max, char **data, size_t *len, af_error *err)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > max) {
            free(buf);
            af_error_set(err, "", "input is larger than %zu bytes", max);
            return -1;
        }
        if (got == 0 || n < cap) {
            if (ferror(f)) {
                af_error_set(err, "", "read error: %s", strerror(errno));
                free(buf);
                return -1;
            }
            if (feof(f))
                break;
        }
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    if (!buf) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* Opens path for reading without blocking in open(2) (a FIFO with no
 * writer would block there), then reads it blocking: a FIFO whose writer
 * never comes reads as empty, a pipe with a writer as its data. */
static FILE *open_for_reading(const char *path, af_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        af_error_set(err, "", "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        af_error_set(err, "", "%s", S_ISDIR(st.st_mode) ? "is a directory" : strerror(errno));
        close(fd);
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        af_error_set(err, "", "cannot read: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        af_error_set(err, "", "cannot read: %s", strerror(errno));
        close(fd);
    }
    return f;
}

int af_read_file(const char *path, size_t max, char **data, size_t *len, af_error *err)
{
    if (strcmp(path, "-") == 0)
        return read_stream(stdin, max, data, len, err);
    FILE *f = open_for_reading(path, err);
    if (!f)
        return -1;
    int rc = read_stream(f, max, data, len, err);
    fclose(f);
    return rc;
}

/* Every byte through read() or write() (`out`), across short transfers and
 * EINTR: 0, or -1 on an error or the end of input. */
static int transfer_all(int fd, char *p, size_t len, bool out)
{
    while (len > 0) {
        ssize_t n = out ? write(fd, p, len) : read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int af_write_fd_all(int fd, const void *data, size_t len)
{
    return transfer_all(fd, (char *)data, len, true);
}

int af_read_fd_all(int fd, void *data, size_t len)
{
    return transfer_all(fd, data, len, false);
}

/* fsync the folder holding path, so that a rename into it is durable. */
static int fsync_parent(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Where a durable write may go: a regular file (replaced atomically) or a
 * path that does not exist yet. Anything else (a device, a FIFO, a socket,
 * a directory, a symbolic link: rename(2) would replace the link, not what
 * it points at) is refused, so that `-o /dev/full` cannot replace a device
 * node with a regular file. */
static int check_output_path(const char *path, af_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        af_error_set(err, "", "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode))
        return 0;
    af_error_set(err, "", "%s: not a regular file (%s): refusing to replace it", path,
                 S_ISLNK(st.st_mode)    ? "a symbolic link"
                 : S_ISDIR(st.st_mode)  ? "a directory"
                 : S_ISFIFO(st.st_mode) ? "a FIFO"
                 : S_ISCHR(st.st_mode)  ? "a character device"
                 : S_ISBLK(st.st_mode)  ? "a block device"
                                        : "a socket");
    return -1;
}

/* Standard output: every byte written and flushed, or an error. */
static int write_stdout(const void *data, size_t len, af_error *err)
{
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0 || ferror(stdout)) {
        af_error_set(err, "", "write error on standard output: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int af_write_file(const char *path, const void *data, size_t len, af_error *err)
{
    if (!path || strcmp(path, "-") == 0)
        return write_stdout(data, len, err);
    if (check_output_path(path, err) < 0)
        return -1;
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -1 : af_write_fd_all(fd, data, len);
    if (rc == 0)
        rc = fsync(fd);
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc != 0) {
        af_error_set(err, "", "%s: cannot write: %s", path, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    } else if (fsync_parent(path) != 0) {
        af_error_set(err, "", "%s: fsync of its folder failed: %s", path, strerror(errno));
        rc = -1;
    }
    free(tmp);
    return rc == 0 ? 0 : -1;
}

int af_flush_stdout(af_error *err)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        af_error_set(err, "", "write error on standard output: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int af_make_dirs(const char *dir, af_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        af_error_set(err, "", "path too long");
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    af_error_set(err, "", "cannot create directory %s: %s", buf, strerror(errno));
    return -1;
}

static int list_push(af_path_list *list, char *path)
{
    if (!path)
        return -1;
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        char **bigger = realloc(list->paths, cap * sizeof *bigger);
        if (!bigger) {
            free(path);
            errno = ENOMEM;
            return -1;
        }
        list->paths = bigger;
        list->cap = cap;
    }
    list->paths[list->count++] = path;
    return 0;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int add_dir(af_path_list *list, const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t first = list->count;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, suffix))
            continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        if (p)
            snprintf(p, n, "%s/%s", dir, e->d_name);
        rc = list_push(list, p);
    }
    closedir(d);
    if (list->count - first > 1)
        qsort(list->paths + first, list->count - first, sizeof(char *), compare_paths);
    return rc;
}

int af_path_list_add_arg(af_path_list *list, const char *arg, const char *suffix)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
        return add_dir(list, arg, suffix);
    return list_push(list, strdup(arg));
}

void af_path_list_free(af_path_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->paths[i]);
    free(list->paths);
    memset(list, 0, sizeof *list);
}
