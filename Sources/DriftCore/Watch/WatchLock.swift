import DriftGit
import DriftSystem

/// An exclusive `flock` on `SDIR/watch.lock` for a watcher's whole life: one `drift watch`
/// per state dir. Separate from the state lock, which the watcher takes only to write.
/// The kernel drops it when the process dies, even by SIGKILL.
final class WatchLock {
    private let lock: FileLock

    init(state: StateDirectory) throws {
        let path = state.file("watch.lock")
        do { lock = try FileLock(path: path) } catch {
            switch error {
            case .open(let e): throw DriftError(.io, path: path, "cannot open the watch lock", errno: e)
            case .lock(let e): throw DriftError(.io, path: path, "cannot lock", errno: e)
            case .busy:
                let who = WatchStatus.read(state).map { " (pid \($0.pid), since \($0.started))" } ?? ""
                throw DriftError(.lockBusy, path: state.path,
                    "another drift watch\(who) is watching with this state dir")
            }
        }
    }
}
