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
#endif
