#ifndef DRIFT_CLIBGIT2_SHIM_H
#define DRIFT_CLIBGIT2_SHIM_H
#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
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
#endif
