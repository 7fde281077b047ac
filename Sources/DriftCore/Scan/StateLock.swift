import DriftGit
import DriftSystem
import Synchronization

/// An exclusive `flock` on `SDIR/lock`, held for a whole run. The kernel drops it when
/// the holder dies (even by SIGKILL), so a crash never leaves a stale lock.
public final class StateLock {
    private let lock: FileLock
    private let statePath: [UInt8]
    /// The state dirs this process holds the lock of (by `--state` as given), with how many
    /// holders: a state of another base is archived only by a holder (`StateArchive`).
    private static let held = Mutex<[[UInt8]: Int]>([:])

    /// Whether this process holds `state`'s lock.
    static func holds(_ state: StateDirectory) -> Bool { held.withLock { ($0[state.path] ?? 0) > 0 } }

    /// - Parameter seconds: how long to wait for another run's lock (`--wait`); 0 tries once.
    public init(state: StateDirectory, wait seconds: Double) throws {
        try state.ensure()
        let path = state.file("lock")
        do { lock = try Self.take(path, wait: seconds) } catch {
            switch error {
            case .open(let e): throw DriftError(.io, path: path, "cannot open the state lock", errno: e)
            case .lock(let e): throw DriftError(.io, path: path, "cannot lock", errno: e)
            case .busy:
                let waited = seconds.isFinite ? Int(min(max(seconds, 0), 1e9)) : 0
                // Named when the kernel says who (a watcher recording a big batch, a cron scan).
                let who = LockHolder.holder(of: path).map { "\($0.name), pid \($0.pid); " } ?? ""
                throw DriftError(.lockBusy, path: state.path, "another drift run holds the state lock "
                                    + "(\(who)waited \(waited)s); try again later or wait longer (--wait S)")
            }
        }
        // Holding the lock, no other writer is mid-write: temp files left are from a crash.
        if let names = directoryEntries(state.path) {
            for n in names where n.contains(text: ".tmp.") {
                try? FileSystem.unlink(PathBytes.join(state.path, n))
            }
        }
        // So are libgit2's ref locks in the journal (a writer killed mid ref update leaves
        // `refs/heads/journal.lock`, and every later update would fail on it).
        Self.removeStaleLocks(in: state.file("journal.git"), depth: 0)
        statePath = state.path
        Self.held.withLock { $0[state.path, default: 0] += 1 }
    }

    /// Tries once; when that is busy and there is time to wait, says once on stderr whom it
    /// waits for (a minute of silence reads as a hang), then waits.
    private static func take(_ path: [UInt8], wait seconds: Double) throws(FileLock.Failure) -> FileLock {
        do { return try FileLock(path: path, wait: 0) } catch {
            guard error == .busy, seconds > 0 else { throw error }
        }
        let who = LockHolder.holder(of: path).map { " (\($0.name), pid \($0.pid))" } ?? ""
        let limit = seconds.isFinite ? "up to \(Int(min(seconds, 1e9)))s " : ""
        Output.stderr("drift: note: another drift run holds the state lock\(who); waiting \(limit)for it\n")
        return try FileLock(path: path, wait: seconds)
    }

    deinit {
        let p = statePath
        Self.held.withLock { $0[p] = ($0[p] ?? 1) > 1 ? $0[p].map { $0 - 1 } : nil }
    }

    /// Removes `*.lock` files at the top of a bare repository and anywhere under `refs/`,
    /// never following a symlink; objects and packs are left alone.
    private static func removeStaleLocks(in dir: [UInt8], depth: Int) {
        guard depth < 32, let names = directoryEntries(dir) else { return }
        for n in names {
            let p = PathBytes.join(dir, n)
            guard let kind = try? FileSystem.lstat(p).kind else { continue }
            if kind == .regular, n.hasSuffix(text: ".lock") {
                try? FileSystem.unlink(p)
            } else if kind == .directory, depth > 0 || n == Array("refs".utf8) {
                removeStaleLocks(in: p, depth: depth + 1)
            }
        }
    }
}
