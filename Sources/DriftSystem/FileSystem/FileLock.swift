#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock(2)` on a file, held for the object's lifetime: the descriptor is
/// unlocked and closed in `deinit`, and the kernel drops the lock when the holder dies (even
/// by SIGKILL), so a crash never leaves a stale lock.
public final class FileLock {
    /// Why a lock was not taken.
    public enum Failure: Error, Sendable, Equatable {
        /// The lock file could not be opened or created.
        case open(Errno)
        /// `flock` failed for another reason than a holder.
        case lock(Errno)
        /// Another descriptor still held it when the wait ran out.
        case busy
    }

    private let fd: Int32

    /// Opens (creating it with `mode`, never through a symlink) and locks `path`.
    /// - Parameter wait: seconds to keep retrying while another holder has it (every 50 ms);
    ///   0 tries once; infinity waits for ever.
    public convenience init(path: String, mode: UInt32 = 0o600, wait: Double = 0) throws(Failure) {
        try self.init(path: Array(path.utf8), mode: mode, wait: wait)
    }

    /// `init(path:mode:wait:)` for a path held as bytes (a name that is not UTF-8 included).
    public init(path: [UInt8], mode: UInt32 = 0o600, wait: Double = 0) throws(Failure) {
        let fd = withCPath(path) { open($0, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode) }
        if fd < 0 { throw .open(.current) }
        let start = SystemProcess.monotonicSeconds()
        let limit = max(0, wait.isNaN ? 0 : wait)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = Errno.current
            if e == .interrupted { continue }
            guard e == .wouldBlock else {
                close(fd)
                throw .lock(e)
            }
            if SystemProcess.monotonicSeconds() - start >= limit {
                close(fd)
                throw .busy
            }
            SystemProcess.sleep(seconds: 0.05)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
