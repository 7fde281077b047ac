#ifndef DRIFT_CLIBGIT2_SHIM_H
#define DRIFT_CLIBGIT2_SHIM_H
#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <git2/email.h>

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
/* git_libgit2_opts is variadic: the CA file https pushes trust (mbedTLS in Debian's build). */
static inline int drift_set_ssl_cert_file(const char *file) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, (const char *)0);
}
#endif
