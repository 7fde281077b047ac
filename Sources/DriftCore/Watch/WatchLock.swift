import DriftGit
import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `SDIR/watch.lock` for a watcher's whole life: one `drift watch`
/// per state dir. Separate from the state lock, which the watcher takes only to write.
/// The kernel drops it when the process dies, even by SIGKILL.
final class WatchLock {
    private let fd: Int32

    init(state: StateDirectory) throws {
        let path = state.file("watch.lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 { throw DriftError("\(path): cannot open the watch lock: \(errnoText(errno))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            close(fd)
            guard e == EWOULDBLOCK else { throw DriftError("\(path): cannot lock: \(errnoText(e))") }
            let who = WatchStatus.read(state).map { " (pid \($0.pid), since \($0.started))" } ?? ""
            throw StateBusy(
                "\(state.path): another drift watch\(who) is watching with this state dir")
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
