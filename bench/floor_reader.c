/* The practical floor of a first scan (docs/benchmarks.md, issue 26 round six): what the best
   plain reader pays on this machine for the same bytes with the same page cache. One thread
   walks (lstat every entry, keep the regular files), then THREADS threads take files from a
   shared counter and SHA-256 each (OpenSSL EVP): open, fstat, read into one reused 1 MiB
   buffer (files of 4 MiB and more: 8 MiB MAP_POPULATE windows, as drift does), close. No
   safety (paths from /, symlinks not guarded), no manifest, no state: a lower bound.
   Build: cc -O2 -o floor_reader floor_reader.c -lcrypto -lpthread
   Usage: floor_reader ROOT [THREADS]; prints files, bytes, walk and read+hash seconds. */
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char **paths;
static long count, cap;
static atomic_long next;

static void add(const char *p) {
    if (count == cap) {
        cap = cap ? cap * 2 : 4096;
        paths = realloc(paths, cap * sizeof *paths);
        if (!paths) exit(1);
    }
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
        else if (S_ISREG(st.st_mode)) add(p);
    }
    closedir(d);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *work(void *arg) {
    (void)arg;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char *buf = aligned_alloc(4096, 1 << 20), md[32];
    unsigned len;
    long bytes = 0;
    for (;;) {
        long i = atomic_fetch_add(&next, 1);
        if (i >= count) break;
        int fd = open(paths[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        struct stat st;
        fstat(fd, &st);
        EVP_DigestInit_ex(c, EVP_sha256(), NULL);
        if (st.st_size >= (4 << 20)) {
            for (off_t off = 0; off < st.st_size;) {
                size_t n = st.st_size - off < (8 << 20) ? (size_t)(st.st_size - off) : (8 << 20);
                void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, off);
                if (p == MAP_FAILED) break;
                EVP_DigestUpdate(c, p, n);
                munmap(p, n);
                off += n;
            }
        } else {
            ssize_t r;
            off_t got = 0;
            while (got < st.st_size && (r = read(fd, buf, 1 << 20)) > 0) {
                EVP_DigestUpdate(c, buf, r);
                got += r;
            }
        }
        EVP_DigestFinal_ex(c, md, &len);
        bytes += st.st_size;
        close(fd);
    }
    return (void *)bytes;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    if (threads < 1 || threads > 64) return 2;
    double t0 = now();
    walk(argv[1]);
    double t1 = now();
    pthread_t th[64];
    long total = 0;
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, work, NULL);
    for (int i = 0; i < threads; i++) {
        void *r;
        pthread_join(th[i], &r);
        total += (long)r;
    }
    double t2 = now();
    printf("files %ld bytes %ld walk %.3f s read+hash %.3f s\n", count, total, t1 - t0, t2 - t1);
    return 0;
}
