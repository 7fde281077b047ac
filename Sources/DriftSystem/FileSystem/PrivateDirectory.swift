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
    /// swap what drift keeps there) and tightens one it owns that others can reach. The path
    /// itself is opened without following a symbolic link, and the mode is checked and changed
    /// on that descriptor: a link to someone's directory is refused before its mode is touched.
    /// - Throws: `DriftError` naming the directory and the problem.
    public static func secure(_ path: String) throws -> Outcome {
        try secure(Array(path.utf8))
    }

    /// `secure(_:)` of a byte path (a name that is not UTF-8 included).
    public static func secure(_ path: [UInt8]) throws -> Outcome {
        let fd = withCPath(path) { open($0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        if fd < 0 {
            let e = errno
            if e == ENOENT { return .fine }
            // O_NOFOLLOW on a link gives ELOOP; O_DIRECTORY on a file gives ENOTDIR.
            if e == ELOOP || e == ENOTDIR {
                throw DriftError(.unsafeTarget, path: path, "exists and is not a directory")
            }
            throw DriftError(.io, path: path, "cannot check the state directory", errno: Errno(e))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw DriftError(.io, path: path, "cannot check the state directory", errno: .current)
        }
        let me = geteuid()
        guard st.st_uid == me else {
            throw DriftError(.stateDamaged, path: path,
                "state directory is owned by uid \(st.st_uid), not by drift's user (uid \(me)); "
                + "refusing to keep the journal where another user controls it (chown it, or use --state)")
        }
        let mode = UInt32(st.st_mode & 0o7777)
        if mode & 0o077 == 0 { return .fine }
        guard fchmod(fd, 0o700) == 0 else {
            throw DriftError(.stateDamaged, path: path,
                "state directory is readable by others (mode \(String(mode, radix: 8))) "
                + "and chmod 0700 failed: \(errnoText(errno))")
        }
        return .tightened(from: mode)
    }
}
