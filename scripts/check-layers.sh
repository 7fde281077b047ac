#!/usr/bin/env bash
# Checks the layering (docs/architecture.md): each target imports only the targets below it,
# and C modules only in their one thin layer. Exits 1 naming every import that breaks it.
set -euo pipefail
cd "$(dirname "$0")/.."
allowed() {
    case "$1" in
        DriftSystem) echo "CCrypto CSys" ;;
        DriftGit) echo "DriftSystem CLibGit2" ;;
        DriftCore) echo "DriftSystem DriftGit" ;;
        DriftCLI) echo "DriftSystem DriftGit DriftCore CBuildInfo CProcessArgs ArgumentParser" ;;
        drift) echo "DriftCLI" ;;
    esac
}
project="DriftSystem DriftGit DriftCore DriftCLI CCrypto CSys CLibGit2 CBuildInfo CProcessArgs ArgumentParser"
status=0
for target in DriftSystem DriftGit DriftCore DriftCLI drift; do
    ok=" $(allowed "$target") "
    while IFS= read -r line; do
        file=${line%%:*}
        module=$(sed -E 's/^[^:]+:[0-9]+:[[:space:]]*(@testable[[:space:]]+)?import[[:space:]]+([A-Za-z0-9_]+).*/\2/' <<<"$line")
        case " $project " in *" $module "*) ;; *) continue ;; esac
        if [[ "$ok" != *" $module "* ]]; then
            echo "layer violation: $file imports $module (target $target may import: $(allowed "$target"))"
            status=1
        fi
    done < <(grep -rnE '^[[:space:]]*(@testable[[:space:]]+)?import[[:space:]]+[A-Za-z0-9_]+' "Sources/$target" || true)
done
# The domain and the CLI make no system call of their own: no C module, not even the C
# library (every syscall has a typed wrapper in DriftSystem, docs/architecture.md).
for target in DriftCore DriftCLI drift; do
    while IFS= read -r line; do
        file=${line%%:*}
        module=$(sed -E 's/^[^:]+:[0-9]+:[[:space:]]*(@testable[[:space:]]+)?import[[:space:]]+([A-Za-z0-9_]+).*/\2/' <<<"$line")
        case " Glibc SwiftGlibc Musl Darwin CSys CCrypto CLibGit2 " in
            *" $module "*)
                echo "layer violation: $file imports $module ($target makes no system calls; use DriftSystem)"
                status=1
                ;;
        esac
    done < <(grep -rnE '^[[:space:]]*(@testable[[:space:]]+)?import[[:space:]]+[A-Za-z0-9_]+' "Sources/$target" || true)
done
# Full Foundation re-exports Glibc on Linux, so the import check alone cannot see a raw call:
# reject the POSIX calls (and errno) themselves. A bare name the same file declares (its own
# `func read`, a `let close`) is that declaration, not the C function.
raw_calls=''
raw_calls+='open|openat|openat2|creat|close|read|write|pread|pwrite|readv|writev|flock|lockf|fcntl|ioctl|fstat'
raw_calls+='|fstatat|lstat|stat|statx|rename|renameat|renameat2|unlink|unlinkat|rmdir|mkdir|mkdirat|chmod|fchmod'
raw_calls+='|chown|fchown|symlink|readlink|link|truncate|ftruncate|fsync|fdatasync|sync|dup|dup2|dup3|pipe|pipe2'
raw_calls+='|poll|select|kill|raise|signal|sigaction|sigprocmask|pthread_sigmask|fork|vfork|execv|execve|execvp'
raw_calls+='|posix_spawn[A-Za-z_]*|wait|waitpid|wait4|getpid|getppid|getuid|geteuid|usleep|nanosleep|sleep'
raw_calls+='|clock_gettime|mmap|munmap|memcmp|memchr|memcpy|memmove|strerror|strdup|free|malloc|opendir|fdopendir'
raw_calls+='|readdir|closedir|inotify_init1|inotify_add_watch|syscall'
raw_found=$(while IFS= read -r f; do
    RAW="$raw_calls" perl -e '
        my $file = shift;
        open(my $in, "<", $file) or die "$file: $!";
        my @lines = <$in>;
        my %own;
        for (@lines) { $own{$1} = 1 while /\b(?:func|var|let|case)\s+(\w+)/g; }
        my $n = 0;
        for my $l (@lines) {
            $n++;
            (my $code = $l) =~ s/"(?:[^"\\]|\\.)*"/""/g;
            $code =~ s{//.*}{};
            while ($code =~ /(?<![\w.])($ENV{RAW})\(/g) {
                next if $own{$1};
                print "layer violation: $file:$n calls $1 (DriftCore makes no system calls; use DriftSystem)\n";
            }
            print "layer violation: $file:$n uses errno (DriftCore makes no system calls; use DriftSystem)\n"
                if $code =~ /(?<![\w.])errno(?!\w|:)/;   # `errno:` is an argument label (DriftError), not the C global
        }' "$f"
done < <(find Sources/DriftCore -name '*.swift' | sort))
if [[ -n "$raw_found" ]]; then
    echo "$raw_found"
    status=1
fi
# Package.swift must declare the same dependencies (no target may list one above it).
if [[ $status -eq 0 ]]; then echo "layers ok: DriftSystem -> DriftGit -> DriftCore -> DriftCLI -> drift"; fi
exit $status
