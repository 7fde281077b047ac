#if canImport(Glibc)
import Glibc
#endif

/// An errno value from a failed system call: drift's one errno type, typed so it can travel
/// in a `Result` or a typed `throws`. The layers above compare it with the named constants
/// below instead of importing the C library for `ENOENT` and friends.
public struct Errno: Error, Sendable, Hashable, CustomStringConvertible {
    /// The raw `errno` value.
    public var code: Int32

    public init(_ code: Int32) { self.code = code }

    /// The calling thread's `errno` right now (read it before any other call can change it).
    public static var current: Errno { Errno(errno) }

    /// `strerror` text, e.g. "No such file or directory".
    public var description: String { errnoText(code) }

    /// `ENOENT`.
    public static let noSuchFileOrDirectory = Errno(ENOENT)
    /// `ENOTDIR`.
    public static let notDirectory = Errno(ENOTDIR)
    /// `ELOOP`: a symlink where none may be (`O_NOFOLLOW`, `RESOLVE_NO_SYMLINKS`).
    public static let tooManySymbolicLinkLevels = Errno(ELOOP)
    /// `EXDEV`: a beneath lookup that would leave its root.
    public static let improperLink = Errno(EXDEV)
    /// `EACCES`.
    public static let permissionDenied = Errno(EACCES)
    /// `EPERM`.
    public static let notPermitted = Errno(EPERM)
    /// `EINTR`.
    public static let interrupted = Errno(EINTR)
    /// `EWOULDBLOCK` (`EAGAIN` on Linux).
    public static let wouldBlock = Errno(EWOULDBLOCK)
    /// `ESRCH`: no such process.
    public static let noSuchProcess = Errno(ESRCH)
    /// `EINVAL`.
    public static let invalidArgument = Errno(EINVAL)
    /// `EEXIST`.
    public static let fileExists = Errno(EEXIST)
    /// `ENOSPC`: also inotify's "no watches left" (`fs.inotify.max_user_watches`).
    public static let noSpace = Errno(ENOSPC)
    /// `ENOMEM`.
    public static let outOfMemory = Errno(ENOMEM)
}
