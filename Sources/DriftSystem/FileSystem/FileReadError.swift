#if canImport(Glibc)
import Glibc
#endif

/// Why `FileReader` could not read a file below the root. Typed, so a caller can tell a file
/// that moved under it (gone, replaced, truncated: the next scan settles it) from one that
/// cannot be read at all (permissions, I/O) without looking at the words.
public struct FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Cause: Sendable, Equatable {
        /// A system call failed with this `errno`.
        case system(call: String, errno: Errno)
        /// The name no longer holds a regular file.
        case notRegular
        /// The file got shorter while it was hashed.
        case shrank
        /// The file changed while it was read (size or times moved; a rewrite in progress).
        case changedWhileRead
        /// The file is larger than the caller's limit.
        case overLimit(Int64)
    }

    /// The path relative to the reader's root, as bytes.
    public let path: [UInt8]
    public let cause: Cause

    public init(_ path: [UInt8], _ cause: Cause) {
        self.path = path
        self.cause = cause
    }

    /// Whether the failure says the file changed under the reader rather than that it is
    /// unreadable: it vanished, a component became something else (a symlink, a file), it is
    /// no longer a regular file, or it shrank.
    public var moved: Bool {
        switch cause {
        case .notRegular, .shrank, .changedWhileRead:
            return true
        case .overLimit:
            return false
        case .system(_, let errno):
            let e = errno.code
            return e == ENOENT || e == ENOTDIR || e == ELOOP || e == EXDEV || e == ESTALE || e == EAGAIN
        }
    }

    /// The one-line sentence naming the file (the words drift always printed).
    public var description: String { PathBytes.display(path) + ": " + reason }

    /// What went wrong, without the name (`open failed: Permission denied`).
    public var reason: String {
        switch cause {
        case .system(let call, let e): return "\(call) failed: \(e)"
        case .notRegular: return "not a regular file any more"
        case .shrank: return "shrank while it was hashed"
        case .changedWhileRead: return "changed while it was read"
        case .overLimit(let n): return "larger than \(n) bytes"
        }
    }

    /// The cause alone, in a few words (`Permission denied`), for a record that names the file
    /// elsewhere.
    public var causeText: String {
        switch cause {
        case .system(_, let e): return e.description
        case .notRegular: return "not a regular file"
        case .shrank: return "shrank while read"
        case .changedWhileRead: return "changed while read"
        case .overLimit(let n): return "larger than \(n) bytes"
        }
    }
}

/// Why a read failed, without the file's name, for a report that names the file itself.
/// - Parameter error: what a `FileReader` call threw.
/// - Returns: `FileReadError.reason`, or the error's own text for anything else.
public func readFailureReason(_ error: any Error) -> String {
    (error as? FileReadError)?.reason ?? errorText(error)
}
