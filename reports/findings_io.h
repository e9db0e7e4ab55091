/* findings_io.h - what the findings store's files share (findings.c,
 * findings_summary.c, findings_table.c): the store's lock, small file
 * reads and writes, meta.json. Private to reports/; must not be included
 * from anywhere else (the store's interface is reports/findings.h).
 */
#ifndef ASYNCFUZZ_FINDINGS_IO_H
#define ASYNCFUZZ_FINDINGS_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reports/findings.h"

#define AF_STORE_PATH_CAP 4096

/* flock(2) STORE/.lock exclusively: the fd, or -1 with err set. */
int af_store_lock(const char *dir, af_error *err);
void af_store_unlock(int fd);

/* DIR/NAME, durably (base/file_io.h). */
int af_store_write_text(const char *dir, const char *name, const char *text, af_error *err);
/* DIR/NAME, a file of a folder being built: written, not fsync'd (the
 * folder's files are fsync'd together before it is renamed into place). */
int af_store_write_plain(const char *dir, const char *name, const void *data, size_t len,
                         af_error *err);
/* DIR/NAME as a malloc'd string (at most 1 MiB), or NULL. */
char *af_store_read_text(const char *dir, const char *name);

/* "YYYY-MM-DDTHH:MM:SSZ" of t. */
void af_store_iso_time(int64_t t, char *buf, size_t cap);

/* A folder's size and first-seen time from its meta.json (0), or -1 when
 * meta.json is missing or lacks the size. first_seen / first_unix may be
 * NULL. */
int af_store_read_meta(const char *sig_dir, af_findings_size *size, char *first_seen, size_t cap,
                       int64_t *first_unix);
/* The size of a folder: meta.json's, or its scenario.json's. 0 or -1. */
int af_store_folder_size(const char *sig_dir, af_findings_size *out);

/* meta.json's "baseline" object for a signature (cJSON, to be freed). */
struct cJSON *af_store_label_json(const af_baseline *b, uint64_t signature);
/* root as DIR/meta.json: durably, or (a folder being built) plain. */
int af_store_write_meta_json(const char *dir, struct cJSON *root, bool durable, af_error *err);

/* The signature folders' names of a store, sorted (findings_summary.c):
 * *names malloc'd, NULL with *n 0 when there is none or the store is
 * absent. 0, or -1 with err set (out of memory). */
int af_store_sig_names(const char *dir, char (**names)[17], size_t *n, af_error *err);

/* Regenerate summary.json with the store locked by the caller. */
int af_store_summary_locked(const char *dir, const af_findings_campaign *campaign, size_t *unique,
                            uint64_t *total, af_error *err);

#endif
