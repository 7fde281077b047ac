#ifndef DRIFT_CLIBGIT2_SHIM_H
#define DRIFT_CLIBGIT2_SHIM_H
#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <git2/sys/config.h>
#include <stdlib.h>
#include <string.h>
#include <git2/email.h>
#include <zlib.h>

/* libgit2 1.5 has no git_email_create_options_init(); the INIT macro does not import. */
static inline git_email_create_options drift_email_create_options(void) {
    git_email_create_options opts = GIT_EMAIL_CREATE_OPTIONS_INIT;
    opts.flags = GIT_EMAIL_CREATE_NO_RENAMES | GIT_EMAIL_CREATE_OMIT_NUMBERS;
    return opts;
}
/* git_libgit2_opts is variadic and does not import. drift opens repositories it baked
   (MDIR) or owns (SDIR) and never runs hooks, so git's safe.directory ownership check only
   gets in the way of a non-root scan of a root-owned image. */
static inline int drift_disable_owner_validation(void) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}
/* drift reads no user or system git configuration: its repositories are its own, and a
   non-root scan (cron or supervisord as a service user) often keeps a HOME it cannot read,
   where libgit2 would fail to stat ~/.gitconfig and refuse to open any repository. */
static inline int drift_ignore_global_config(void) {
    const int levels[] = { GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM,
                           GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL };
    for (unsigned i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        int e = git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
        if (e < 0) return e;
    }
    return 0;
}
/* git_libgit2_opts is variadic: the CA file https pushes trust (mbedTLS in Debian's build). */
static inline int drift_set_ssl_cert_file(const char *file) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, (const char *)0);
}
/* A read-only configuration that answers only core.protectHFS and core.protectNTFS (both
   true), so libgit2's own tree-entry check applies every .git spelling it knows (case,
   NTFS 8.3 short names and trailing dots/spaces, HFS ignorable code points) without a
   config file on disk. Everything else is "not found". */
static void drift_protect_entry_free(git_config_entry *e) { free(e); }
static int drift_protect_get(git_config_backend *b, const char *key, git_config_entry **out) {
    (void)b;
    const char *name = 0;
    if (strcmp(key, "core.protecthfs") == 0) name = "core.protecthfs";
    if (strcmp(key, "core.protectntfs") == 0) name = "core.protectntfs";
    if (!name) return GIT_ENOTFOUND;
    git_config_entry *e = calloc(1, sizeof *e);
    if (!e) return -1;
    e->name = name;
    e->value = "true";
    e->level = GIT_CONFIG_LEVEL_APP;
    e->free = drift_protect_entry_free;
    *out = e;
    return 0;
}
static int drift_protect_open(git_config_backend *b, git_config_level_t l, const git_repository *r) {
    (void)b; (void)l; (void)r;
    return 0;
}
static int drift_protect_set(git_config_backend *b, const char *k, const char *v) {
    (void)b; (void)k; (void)v;
    return -1;
}
static int drift_protect_set_multivar(git_config_backend *b, const char *n, const char *r, const char *v) {
    (void)b; (void)n; (void)r; (void)v;
    return -1;
}
static int drift_protect_del(git_config_backend *b, const char *k) { (void)b; (void)k; return -1; }
static int drift_protect_del_multivar(git_config_backend *b, const char *k, const char *r) {
    (void)b; (void)k; (void)r;
    return -1;
}
static int drift_protect_iter_next(git_config_entry **e, git_config_iterator *it) {
    (void)e; (void)it;
    return GIT_ITEROVER;
}
static void drift_protect_iter_free(git_config_iterator *it) { free(it); }
static int drift_protect_iterator(git_config_iterator **out, git_config_backend *b) {
    git_config_iterator *it = calloc(1, sizeof *it);
    if (!it) return -1;
    it->backend = b;
    it->next = drift_protect_iter_next;
    it->free = drift_protect_iter_free;
    *out = it;
    return 0;
}
static int drift_protect_lock(git_config_backend *b) { (void)b; return 0; }
static int drift_protect_unlock(git_config_backend *b, int ok) { (void)b; (void)ok; return 0; }
static void drift_protect_free(git_config_backend *b) { free(b); }
static git_config_backend *drift_protect_backend_new(int readonly);
static int drift_protect_snapshot(git_config_backend **out, git_config_backend *b) {
    (void)b;
    *out = drift_protect_backend_new(1);
    return *out ? 0 : -1;
}
static git_config_backend *drift_protect_backend_new(int readonly) {
    git_config_backend *b = calloc(1, sizeof *b);
    if (!b) return 0;
    b->version = GIT_CONFIG_BACKEND_VERSION;
    b->readonly = readonly;
    b->open = drift_protect_open;
    b->get = drift_protect_get;
    b->set = drift_protect_set;
    b->set_multivar = drift_protect_set_multivar;
    b->del = drift_protect_del;
    b->del_multivar = drift_protect_del_multivar;
    b->iterator = drift_protect_iterator;
    b->snapshot = drift_protect_snapshot;
    b->lock = drift_protect_lock;
    b->unlock = drift_protect_unlock;
    b->free = drift_protect_free;
    return b;
}
/* A configuration holding only that backend (the caller frees it with git_config_free). */
static inline int drift_protect_config(git_config **out) {
    int e = git_config_new(out);
    if (e < 0) return e;
    git_config_backend *b = drift_protect_backend_new(0);
    if (!b) { git_config_free(*out); return -1; }
    e = git_config_add_backend(*out, b, GIT_CONFIG_LEVEL_APP, 0, 0);
    if (e < 0) { b->free(b); git_config_free(*out); }
    return e;
}
#endif
