/* The practical floor of a first scan, with the reader's variants (docs/benchmarks.md, issue 26
   rounds six and ten). One thread walks (lstat every entry, keep the regular files), then THREADS
   threads take files from a shared counter and SHA-256 each (OpenSSL EVP). No safety (paths from /,
   symlinks not guarded), no manifest, no state: a lower bound for any reader of these bytes.
   Default (no options) = the round-six reader: open, fstat, read into one reused 1 MiB buffer;
   files of 4 MiB and more through 8 MiB MAP_POPULATE windows; close.
   Build: cc -O2 -o floor_reader floor_reader.c -lcrypto -lpthread
   Usage: floor_reader ROOT [THREADS] [OPTION...]
     small=read:N | small=mmap | small=none   how files under the threshold are read (N bytes buffer)
     big=read:N | big=map:W:HOW | big=none     how files of threshold and more are read; W window
                                               bytes (0: whole file); HOW: populate (MAP_POPULATE),
                                               madvpop (MADV_POPULATE_READ), huge (MADV_HUGEPAGE then
                                               MADV_POPULATE_READ), seq (MADV_SEQUENTIAL, faults),
                                               fault (plain faults)
     threshold=N        the size from which a file is big (default 4M); N takes K, M suffixes
     fadv=none|seq|rand|noreuse   posix_fadvise on every file before reading
     noatime            O_NOATIME on every open
     nohash             read only (no SHA-256; one byte a mapped page touched): the kernel's share
     fused              no separate walk: THREADS workers take directories from a shared stack,
                        list them with getdents64 (d_type, no lstat) and open each regular file
                        relative to its directory's fd (one component to resolve), fstat the
                        descriptor, read and hash it (round ten's best variant)
   Prints files, bytes, walk seconds, and for the read+hash phase (fused: all of it) wall, user and
   sys seconds (getrusage). bench/floor_variants.py runs the variants side by side. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static char **paths;
static off_t *sizes;
static long count, cap;
static atomic_long next;

enum how { H_READ, H_MAP, H_NONE };
enum mapping { M_POPULATE, M_MADVPOP, M_HUGE, M_SEQ, M_FAULT };
static enum how small_how = H_READ, big_how = H_MAP;
static long small_buf = 1 << 20, big_buf = 1 << 20, big_window = 8 << 20, threshold = 4 << 20;
static enum mapping big_map = M_POPULATE;
static int fadv = -1, open_flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, hash = 1;

static void add(const char *p, off_t size) {
    if (count == cap) {
        cap = cap ? cap * 2 : 4096;
        paths = realloc(paths, cap * sizeof *paths);
        sizes = realloc(sizes, cap * sizeof *sizes);
        if (!paths || !sizes) exit(1);
    }
    sizes[count] = size;
    paths[count++] = strdup(p);
}

static void walk(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st)) continue;
        if (S_ISDIR(st.st_mode)) walk(p);
        else if (S_ISREG(st.st_mode)) add(p, st.st_size);
    }
    closedir(d);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void update(EVP_MD_CTX *c, const void *p, size_t n) {
    if (hash) {
        EVP_DigestUpdate(c, p, n);
        return;
    }
    /* Touch one byte a page, so mapped pages are read as a hash would. */
    volatile const char *b = p;
    for (size_t i = 0; i < n; i += 4096) (void)b[i];
}

static void read_loop(int fd, off_t size, long bufsize, unsigned char *buf, EVP_MD_CTX *c) {
    ssize_t r;
    off_t got = 0;
    while (got < size && (r = read(fd, buf, bufsize)) > 0) {
        update(c, buf, r);
        got += r;
    }
}

static void map_file(int fd, off_t size, long window, enum mapping how, EVP_MD_CTX *c) {
    if (window == 0) window = size;
    for (off_t off = 0; off < size;) {
        size_t n = size - off < window ? (size_t)(size - off) : (size_t)window;
        void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE | (how == M_POPULATE ? MAP_POPULATE : 0), fd, off);
        if (p == MAP_FAILED) break;
        if (how == M_HUGE) madvise(p, n, MADV_HUGEPAGE);
        if (how == M_SEQ) madvise(p, n, MADV_SEQUENTIAL);
        if (how == M_MADVPOP || how == M_HUGE) madvise(p, n, MADV_POPULATE_READ);
        update(c, p, n);
        munmap(p, n);
        off += n;
    }
}

/* Fused walk and read: workers take directories from a shared stack, list them with getdents64
   (d_type: no lstat), and open each regular file relative to its directory's fd (one component
   to resolve), fstat it on the descriptor, read and hash it. */
static int fused;
static char **dirs;
static long ndirs, dcap, busy;
static pthread_mutex_t dmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dcv = PTHREAD_COND_INITIALIZER;
static atomic_long fused_files, fused_bytes;

static void push_dir(char *p) {
    pthread_mutex_lock(&dmu);
    if (ndirs == dcap) {
        dcap = dcap ? dcap * 2 : 1024;
        dirs = realloc(dirs, dcap * sizeof *dirs);
        if (!dirs) exit(1);
    }
    dirs[ndirs++] = p;
    pthread_cond_signal(&dcv);
    pthread_mutex_unlock(&dmu);
}

static char *pop_dir(void) {
    pthread_mutex_lock(&dmu);
    while (ndirs == 0 && busy > 0) pthread_cond_wait(&dcv, &dmu);
    char *p = NULL;
    if (ndirs > 0) {
        p = dirs[--ndirs];
        busy++;
    } else {
        pthread_cond_broadcast(&dcv);
    }
    pthread_mutex_unlock(&dmu);
    return p;
}

static void done_dir(void) {
    pthread_mutex_lock(&dmu);
    busy--;
    if (busy == 0 && ndirs == 0) pthread_cond_broadcast(&dcv);
    pthread_mutex_unlock(&dmu);
}

struct linux_dirent64 {
    unsigned long d_ino;
    long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int hash_fd(int fd, off_t size, EVP_MD_CTX *c, unsigned char *buf);

static void *fused_work(void *arg) {
    (void)arg;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    long bufsize = small_buf > big_buf ? small_buf : big_buf;
    unsigned char *buf = aligned_alloc(4096, bufsize);
    static __thread char dents[1 << 16];
    char *dir;
    while ((dir = pop_dir())) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd >= 0) {
            long n;
            while ((n = syscall(SYS_getdents64, dfd, dents, sizeof dents)) > 0) {
                for (long off = 0; off < n;) {
                    struct linux_dirent64 *e = (void *)(dents + off);
                    off += e->d_reclen;
                    const char *nm = e->d_name;
                    if (nm[0] == '.' && (!nm[1] || (nm[1] == '.' && !nm[2]))) continue;
                    if (e->d_type == DT_DIR) {
                        size_t l = strlen(dir), m = strlen(nm);
                        char *p = malloc(l + m + 2);
                        memcpy(p, dir, l);
                        p[l] = '/';
                        memcpy(p + l + 1, nm, m + 1);
                        push_dir(p);
                    } else if (e->d_type == DT_REG) {
                        int fd = openat(dfd, nm, open_flags);
                        if (fd < 0) continue;
                        struct stat st;
                        fstat(fd, &st);
                        if (S_ISREG(st.st_mode) && st.st_size > 0 && hash_fd(fd, st.st_size, c, buf))
                            atomic_fetch_add(&fused_bytes, st.st_size);
                        atomic_fetch_add(&fused_files, 1);
                        close(fd);
                    }
                }
            }
            close(dfd);
        }
        free(dir);
        done_dir();
    }
    return NULL;
}

static int hash_fd(int fd, off_t size, EVP_MD_CTX *c, unsigned char *buf) {
    unsigned char md[32];
    unsigned len;
    int big = size >= threshold;
    enum how how = big ? big_how : small_how;
    if (how == H_NONE) return 0;
    if (fadv >= 0) posix_fadvise(fd, 0, 0, fadv);
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    if (how == H_MAP) map_file(fd, size, big ? big_window : 0, big ? big_map : M_POPULATE, c);
    else read_loop(fd, size, big ? big_buf : small_buf, buf, c);
    EVP_DigestFinal_ex(c, md, &len);
    return 1;
}

static void *work(void *arg) {
    (void)arg;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    long bufsize = small_buf > big_buf ? small_buf : big_buf;
    unsigned char *buf = aligned_alloc(4096, bufsize), md[32];
    unsigned len;
    long bytes = 0;
    for (;;) {
        long i = atomic_fetch_add(&next, 1);
        if (i >= count) break;
        /* A class read with "none" is not even opened (the walk's size decides). */
        if ((sizes[i] >= threshold ? big_how : small_how) == H_NONE) continue;
        int fd = open(paths[i], open_flags);
        if (fd < 0) continue;
        struct stat st;
        fstat(fd, &st);
        int big = st.st_size >= threshold;
        enum how how = big ? big_how : small_how;
        if (how == H_NONE || st.st_size == 0) {
            close(fd);
            continue;
        }
        if (fadv >= 0) posix_fadvise(fd, 0, 0, fadv);
        EVP_DigestInit_ex(c, EVP_sha256(), NULL);
        if (how == H_MAP) map_file(fd, st.st_size, big ? big_window : 0, big ? big_map : M_POPULATE, c);
        else read_loop(fd, st.st_size, big ? big_buf : small_buf, buf, c);
        EVP_DigestFinal_ex(c, md, &len);
        bytes += st.st_size;
        close(fd);
    }
    return (void *)bytes;
}

static long size_arg(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*end == 'K' || *end == 'k') v <<= 10;
    if (*end == 'M' || *end == 'm') v <<= 20;
    if (*end == 'G' || *end == 'g') v <<= 30;
    return v;
}

static int option(const char *o) {
    if (!strncmp(o, "small=read:", 11)) small_how = H_READ, small_buf = size_arg(o + 11);
    else if (!strcmp(o, "small=mmap")) small_how = H_MAP;
    else if (!strcmp(o, "small=none")) small_how = H_NONE;
    else if (!strncmp(o, "big=read:", 9)) big_how = H_READ, big_buf = size_arg(o + 9);
    else if (!strcmp(o, "big=none")) big_how = H_NONE;
    else if (!strncmp(o, "big=map:", 8)) {
        char *colon;
        big_how = H_MAP;
        big_window = size_arg(o + 8);
        colon = strchr(o + 8, ':');
        if (!colon) return 0;
        const char *h = colon + 1;
        if (!strcmp(h, "populate")) big_map = M_POPULATE;
        else if (!strcmp(h, "madvpop")) big_map = M_MADVPOP;
        else if (!strcmp(h, "huge")) big_map = M_HUGE;
        else if (!strcmp(h, "seq")) big_map = M_SEQ;
        else if (!strcmp(h, "fault")) big_map = M_FAULT;
        else return 0;
    } else if (!strncmp(o, "threshold=", 10)) threshold = size_arg(o + 10);
    else if (!strcmp(o, "fadv=none")) fadv = -1;
    else if (!strcmp(o, "fadv=seq")) fadv = POSIX_FADV_SEQUENTIAL;
    else if (!strcmp(o, "fadv=rand")) fadv = POSIX_FADV_RANDOM;
    else if (!strcmp(o, "fadv=noreuse")) fadv = POSIX_FADV_NOREUSE;
    else if (!strcmp(o, "noatime")) open_flags |= O_NOATIME;
    else if (!strcmp(o, "nohash")) hash = 0;
    else if (!strcmp(o, "fused")) fused = 1;
    else return 0;
    return 1;
}

static double secs(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    if (threads < 1 || threads > 64) return 2;
    for (int a = 3; a < argc; a++) {
        if (!option(argv[a])) {
            fprintf(stderr, "floor_reader: unknown option %s\n", argv[a]);
            return 2;
        }
    }
    double t0 = now();
    if (fused) {
        struct rusage f0, f1;
        getrusage(RUSAGE_SELF, &f0);
        push_dir(strdup(argv[1]));
        pthread_t th[64];
        for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, fused_work, NULL);
        for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
        getrusage(RUSAGE_SELF, &f1);
        printf("files %ld bytes %ld walk %.3f s read+hash %.3f s user %.3f s sys %.3f s\n", (long)fused_files,
               (long)fused_bytes, 0.0, now() - t0, secs(f1.ru_utime) - secs(f0.ru_utime),
               secs(f1.ru_stime) - secs(f0.ru_stime));
        return 0;
    }
    walk(argv[1]);
    double t1 = now();
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    pthread_t th[64];
    long total = 0;
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, work, NULL);
    for (int i = 0; i < threads; i++) {
        void *r;
        pthread_join(th[i], &r);
        total += (long)r;
    }
    double t2 = now();
    getrusage(RUSAGE_SELF, &r1);
    printf("files %ld bytes %ld walk %.3f s read+hash %.3f s user %.3f s sys %.3f s\n", count, total, t1 - t0,
           t2 - t1, secs(r1.ru_utime) - secs(r0.ru_utime), secs(r1.ru_stime) - secs(r0.ru_stime));
    return 0;
}
