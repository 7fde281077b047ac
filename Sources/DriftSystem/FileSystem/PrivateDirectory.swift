#if canImport(Glibc)
import Glibc
#endif

/// A directory only drift's user may read: the state dir holds the journal (hotfix content)
/// and caches. Checked before anything is written into it.
public enum PrivateDirectory {
    /// What `secure` did.
    public enum Outcome: Equatable, Sendable {
        /// Absent (it is created 0700 when first written), or already private.
        case fine
        /// Owned by drift's user but readable or writable by others: now 0700 (the old mode).
        case tightened(from: UInt32)
    }

    /// Files and directories drift creates from here on are private (0600/0700) unless it sets
    /// a mode itself (`AtomicFile.write` does, with `fchmod`): libgit2 creates journal objects
    /// and directories with the process umask.
    public static func privateUmask() {
        _ = umask(0o077)
    }

    /// Refuses a directory drift's effective user does not own (another user could read or
    /// swap what drift keeps there) and tightens one it owns that others can reach.
    /// - Throws: `DriftError` naming the directory and the problem.
    public static func secure(_ path: String) throws -> Outcome {
        var st = stat()
        if stat(path, &st) != 0 {
            if errno == ENOENT { return .fine }
            throw DriftError(.io, path: path, "cannot check the state directory", errno: .current)
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw DriftError(.unsafeTarget, path: path, "exists and is not a directory")
        }
        let me = geteuid()
        guard st.st_uid == me else {
            throw DriftError(.stateDamaged, path: path,
                "state directory is owned by uid \(st.st_uid), not by drift's user (uid \(me)); "
                + "refusing to keep the journal where another user controls it (chown it, or use --state)")
        }
        let mode = UInt32(st.st_mode & 0o7777)
        if mode & 0o077 == 0 { return .fine }
        guard chmod(path, 0o700) == 0 else {
            throw DriftError(.stateDamaged, path: path,
                "state directory is readable by others (mode \(String(mode, radix: 8))) "
                + "and chmod 0700 failed: \(errnoText(errno))")
        }
        return .tightened(from: mode)
    }
}
