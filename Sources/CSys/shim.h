#ifndef DRIFT_CSYS_SHIM_H
#define DRIFT_CSYS_SHIM_H
/* Raw Linux syscalls Swift cannot call: syscall(2) is variadic, and glibc before 2.36 has
   no openat2() wrapper (drift must run on glibc 2.35). */
#include <stdint.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define DRIFT_RESOLVE_NO_MAGICLINKS 0x02
#define DRIFT_RESOLVE_NO_SYMLINKS 0x04
#define DRIFT_RESOLVE_BENEATH 0x08

/* O_PATH needs _GNU_SOURCE, which a module header cannot count on; the value is the one of
   x86_64 and aarch64 (asm-generic). */
enum { DRIFT_O_PATH = 010000000 };

struct drift_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

/* openat2(dirfd, path, {flags, 0, BENEATH|NO_SYMLINKS|NO_MAGICLINKS}); -1 and errno on failure. */
static inline int drift_openat2_beneath(int dirfd, const char *path, int flags) {
    struct drift_open_how how;
    how.flags = (uint64_t)(unsigned int)flags;
    how.mode = 0;
    how.resolve = DRIFT_RESOLVE_BENEATH | DRIFT_RESOLVE_NO_SYMLINKS | DRIFT_RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}
/* Gives the heap's free pages back to the kernel (a long-running process after a big scan). */
#include <malloc.h>
static inline int drift_malloc_trim(void) { return malloc_trim(0); }
#endif
