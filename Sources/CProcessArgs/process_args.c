#include "process_args.h"

static int saved_argc;
static char *const *saved_argv;

/* glibc calls .init_array functions with (argc, argv, envp); the pointers stay valid for the
   life of the process (they point into the initial stack). */
static void drift_capture_args(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

__attribute__((section(".init_array"), used))
static void (*const drift_capture_args_entry)(int, char **, char **) = drift_capture_args;

int drift_process_argc(void) { return saved_argc; }
char *const *drift_process_argv(void) { return saved_argv; }
