import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// The repository this test file lives in.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The dist binary (`scripts/dist.sh`) for the current sources: built once per hash of
/// Sources, Package.swift and the dist script, cached under /var/cache/drift-build/dist/<hash>
/// so the suite pays the release build only when the code changed.
enum DistBuild {
    static let cacheRoot = ProcessInfo.processInfo.environment["DRIFT_BUILD_CACHE"].map { $0 + "/dist" }
        ?? "/var/cache/drift-build/dist"

    struct Built {
        let binary: String
        /// dist.sh's exit code: 0, or 1 when one of its checks (NEEDED, glibc, size) failed.
        let checks: Int32
        let log: String
    }

    static let built: Result<Built, DriftError> = {
        do {
            let key = try sh("""
                cd '\(repositoryRoot)' && { find Sources scripts/dist scripts/dist.sh Package.swift -type f -print0; \
                [ -f Package.resolved ] && printf 'Package.resolved\\0'; true; } | sort -z | xargs -0 sha256sum \
                | sha256sum | cut -c1-16
                """).trimmingWhitespace()
            let dir = cacheRoot + "/" + key
            if let b = binary(in: dir) {
                let log = (try? String(contentsOfFile: dir + "/dist.log", encoding: .utf8)) ?? ""
                let rc = (try? String(contentsOfFile: dir + "/dist.rc", encoding: .utf8))?.trimmingWhitespace()
                let code = Int32(rc ?? "0") ?? 0
                return .success(Built(binary: b, checks: code, log: log))
            }
            let tmp = dir + ".tmp-\(getpid())"
            try? FileManager.default.removeItem(atPath: tmp)
            let r = try run([repositoryRoot + "/scripts/dist.sh"], cwd: repositoryRoot, env: ["DRIFT_DIST_DIR": tmp],
                            timeout: 3600)
            guard r.code == 0 || r.code == 1, binary(in: tmp) != nil else {
                try? FileManager.default.removeItem(atPath: tmp)
                return .failure(DriftError("scripts/dist.sh failed (exit \(r.code)): \(r.err.suffix(3000))"))
            }
            try r.err.write(toFile: tmp + "/dist.log", atomically: false, encoding: .utf8)
            try "\(r.code)\n".write(toFile: tmp + "/dist.rc", atomically: false, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: dir)
            try FileManager.default.moveItem(atPath: tmp, toPath: dir)
            return .success(Built(binary: binary(in: dir) ?? "", checks: r.code, log: r.err))
        } catch let e as DriftError {
            return .failure(e)
        } catch {
            return .failure(DriftError("dist build: \(error)"))
        }
    }()

    private static func binary(in dir: String) -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.first { $0.hasPrefix("drift-") && !$0.hasSuffix(".sha256") }.map { dir + "/" + $0 }
    }
}

/// A Debian bookworm `minbase` root file system with python3, python3-venv and supervisor,
/// made by debootstrap from this machine's apt mirror once a day and kept as a tarball under
/// /var/cache/drift-build/rootfs.
enum RootfsBase {
    enum Outcome {
        case ready(String)
        case skip(String)
        case failed(String)
    }

    static let cacheRoot = ProcessInfo.processInfo.environment["DRIFT_BUILD_CACHE"].map { $0 + "/rootfs" }
        ?? "/var/cache/drift-build/rootfs"
    static let packages = "python3,python3-venv,supervisor"

    static let tarball: Outcome = {
        let day = Timestamp.format(Date()).prefix(10).replacingEvery("-", with: "")
        let tar = "\(cacheRoot)/bookworm-minbase-\(day).tar"
        if FileManager.default.fileExists(atPath: tar) { return .ready(tar) }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/debootstrap") else {
            return .skip("skipped: debootstrap is not installed (Debian package debootstrap, scripts/apt/image.list)")
        }
        let mirror = aptMirror()
        let fetch = "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=15)"
        let probe = try? run(["python3", "-c", fetch, mirror + "/dists/bookworm/Release"], timeout: 60)
        guard probe?.code == 0 else {
            return .skip("skipped: the Debian mirror \(mirror) cannot be reached for debootstrap")
        }
        do {
            let work = cacheRoot + "/build-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: work) }
            try FileManager.default.createDirectory(atPath: cacheRoot, withIntermediateDirectories: true)
            let argv = ["/usr/sbin/debootstrap", "--variant=minbase", "--include=\(packages)", "bookworm", work, mirror]
            let r = try run(argv, timeout: 1800)
            guard r.code == 0 else { return .failed("debootstrap failed (exit \(r.code)): \(r.err.suffix(2000))") }
            try sh("""
                rm -f '\(work)'/var/cache/apt/archives/*.deb && tar -C '\(work)' -cf '\(tar).tmp' . \
                && mv '\(tar).tmp' '\(tar)' && find '\(cacheRoot)' -maxdepth 1 -name 'bookworm-minbase-*.tar' \
                ! -name 'bookworm-minbase-\(day).tar' -delete
                """)
            return .ready(tar)
        } catch {
            return .failed("rootfs: \(error)")
        }
    }()

    /// The first non-security Debian mirror in this machine's apt sources.
    static func aptMirror() -> String {
        let text = ((try? sh("cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null; true")) ?? "")
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if line.hasPrefix("URIs:"), words.count > 1, !line.contains("security"), line.contains("debian") {
                return String(words[1]).trimming(of: "/")
            }
            if line.hasPrefix("deb "), words.count > 2, words[2] == "bookworm" { return String(words[1]) }
        }
        return "http://deb.debian.org/debian"
    }
}

/// Commands in a root file system the way a container runs them: chroot, a clean environment,
/// and (unless `proc: false`) /proc and /dev mounted in a private mount namespace, so the mounts
/// vanish with the namespace's last process on every exit path and the host never sees them.
struct Chroot {
    let root: String

    @discardableResult
    func run(_ script: String, proc: Bool = true, env: [String: String] = [:],
             timeout: TimeInterval = 300) throws -> Run {
        var vars = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"]
        vars += env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let inner = ["/usr/bin/env", "-i"] + vars + ["/bin/sh", "-c", script]
        if !proc {
            return try DriftBinaryTests.run(["/usr/sbin/chroot", root] + inner, timeout: timeout)
        }
        let mountAndEnter = "mount -t proc proc \"$0/proc\" && mount --rbind /dev \"$0/dev\""
            + " && exec chroot \"$0\" \"$@\""
        return try DriftBinaryTests.run(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                                       mountAndEnter, root] + inner, timeout: timeout)
    }

    /// A crontab command as cron runs it: bash (the crontab's SHELL) with cron's environment
    /// and nothing else — PATH=/usr/bin:/bin, HOME, LOGNAME, SHELL; no DRIFT_* variable.
    @discardableResult
    func cron(_ command: String, timeout: TimeInterval = 300) throws -> Run {
        let inner = ["/usr/bin/env", "-i", "HOME=/root", "LOGNAME=root", "SHELL=/bin/bash", "PATH=/usr/bin:/bin",
                     "/bin/bash", "-c", command]
        let mountAndEnter = "mount -t proc proc \"$0/proc\" && mount --rbind /dev \"$0/dev\""
            + " && exec chroot \"$0\" \"$@\""
        return try DriftBinaryTests.run(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                                       mountAndEnter, root] + inner, timeout: timeout)
    }

    /// Starts a daemon that forks away (supervisord). Foundation's `Process` lost the exit of
    /// such a direct child (left a zombie, waited forever), so this goes through system(3), which
    /// waits for its own child; the daemon's stdio is /dev/null. Returns the exit status.
    func startDaemon(_ command: String) -> Int32 {
        let quoted = "'" + command.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let line = "R='\(root)' /usr/bin/unshare --mount --propagation private /bin/sh -c "
            + "'mount -t proc proc \"$R/proc\" && mount --rbind /dev \"$R/dev\" && exec chroot \"$R\" /usr/bin/env -i "
            + "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /bin/sh -c \"$0\"' "
            + quoted + " </dev/null >/dev/null 2>&1"
        let status = system(line)
        return status == -1 ? -1 : (status >> 8) & 0xFF
    }

    /// Kills every process whose root directory is this root file system (daemons it started).
    func killAll() {
        let canonical = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), pid != getpid(),
                  let r = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(name)/root"),
                  r == canonical else { continue }
            kill(pid, SIGKILL)
        }
    }
}
