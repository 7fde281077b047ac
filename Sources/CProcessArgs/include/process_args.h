#ifndef DRIFT_PROCESS_ARGS_H
#define DRIFT_PROCESS_ARGS_H
/* The process's argc/argv as the C library hands them to constructors, before main.
   Swift's CommandLine.arguments on Linux can come from /proc/self/cmdline, which a bare
   chroot does not have; this copy does not depend on /proc. */
int drift_process_argc(void);
char *const *drift_process_argv(void);
#endif
