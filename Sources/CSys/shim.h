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
/* getdents64(2) into the caller's buffer (glibc 2.30 has a wrapper, but only under _GNU_SOURCE):
   bytes filled, 0 at the end, -1 and errno on failure. */
static inline long drift_getdents64(int fd, void *buf, unsigned long n) {
    return syscall(SYS_getdents64, fd, buf, n);
}
/* Gives the heap's free pages back to the kernel (a long-running process after a big scan). */
#include <malloc.h>
static inline int drift_malloc_trim(void) { return malloc_trim(0); }
/* At most `n` malloc arenas (M_ARENA_MAX): threads started later share them. */
static inline int drift_malloc_arena_max(int n) { return mallopt(M_ARENA_MAX, n); }
/* Process spawning with descriptor hygiene. pipe2 and posix_spawn_file_actions_addclosefrom_np
   (glibc 2.34) are declared only under _GNU_SOURCE, which a module header cannot count on:
   declared here with glibc's own signatures. */
#include <fcntl.h>
#include <spawn.h>
int pipe2(int pipefd[2], int flags);
int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

/* A pipe whose two ends close on exec, atomically (no other thread's spawn can inherit them). */
static inline int drift_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

/* The child closes every descriptor from `from` up before exec. */
static inline int drift_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
/* The pid and uid of the process at the other end of a connected unix socket (SO_PEERCRED;
   struct ucred needs _GNU_SOURCE, so its layout is declared here: pid, uid, gid). */
#include <sys/socket.h>
struct drift_ucred { int pid; unsigned int uid; unsigned int gid; };
enum { DRIFT_SO_PEERCRED = 17 };
static inline int drift_peer_cred(int fd, int *pid, unsigned int *uid) {
    struct drift_ucred c;
    socklen_t len = sizeof c;
    if (getsockopt(fd, SOL_SOCKET, DRIFT_SO_PEERCRED, &c, &len) != 0) return -1;
    *pid = c.pid;
    *uid = c.uid;
    return 0;
}
/* accept4 is declared only under _GNU_SOURCE: its glibc signature. */
int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
static inline int drift_accept_cloexec(int fd) { return accept4(fd, 0, 0, SOCK_CLOEXEC); }
#endif
