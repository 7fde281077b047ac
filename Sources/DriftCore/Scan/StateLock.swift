import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Another drift run holds the state directory's lock (or its watch lock).
public struct StateBusy: Error, Sendable, CustomStringConvertible {
    /// The sentence naming the state directory.
    public let message: String
    public var description: String { message }

    init(_ message: String) {
        self.message = DriftError.neutralised(message)
    }
}

/// An exclusive `flock` on `SDIR/lock`, held for a whole run. The kernel drops it when
/// the holder dies (even by SIGKILL), so a crash never leaves a stale lock.
public final class StateLock {
    private let fd: Int32

    public init(state: StateDirectory, wait seconds: Double) throws {
        try state.ensure()
        let path = state.file("lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 { throw DriftError("\(path): cannot open the state lock: \(errnoText(errno))") }
        let deadline = Date().addingTimeInterval(max(0, seconds))
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            guard e == EWOULDBLOCK || e == EINTR else {
                close(fd)
                throw DriftError("\(path): cannot lock: \(errnoText(e))")
            }
            if Date() >= deadline {
                close(fd)
                let waited = seconds.isFinite ? Int(min(max(seconds, 0), 1e9)) : 0
                throw StateBusy("\(state.path): another drift run holds the state lock "
                                    + "(waited \(waited)s); try again later")
            }
            usleep(50_000)
        }
        self.fd = fd
        // Holding the lock, no other writer is mid-write: temp files left are from a crash.
        if let names = directoryNames(state.path) {
            for n in names where n.contains(".tmp.") { unlink(state.file(n)) }
        }
        // So are libgit2's ref locks in the journal (a writer killed mid ref update leaves
        // `refs/heads/journal.lock`, and every later update would fail on it).
        Self.removeStaleLocks(in: state.file("journal.git"), depth: 0)
    }

    /// Removes `*.lock` files at the top of a bare repository and anywhere under `refs/`,
    /// never following a symlink; objects and packs are left alone.
    private static func removeStaleLocks(in dir: String, depth: Int) {
        guard depth < 32, let names = directoryNames(dir) else { return }
        for n in names {
            let p = dir + "/" + n
            var st = stat()
            guard lstat(p, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFREG, n.hasSuffix(".lock") {
                unlink(p)
            } else if (st.st_mode & S_IFMT) == S_IFDIR, depth > 0 || n == "refs" {
                removeStaleLocks(in: p, depth: depth + 1)
            }
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
