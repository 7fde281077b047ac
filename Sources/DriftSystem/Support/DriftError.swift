#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// drift's one error for what a command reports: a `Code` naming the kind of failure (what
/// the exit code and any caller decide on), the file it is about as bytes, the lower layer's
/// own error that caused it (`Errno`, `GitError`, `FileReadError`, …), and a sentence.
///
/// The shape is swift-subprocess's and NIOFS's `FileSystemError`: callers and tests look at
/// `code` (and `path`, `underlying`), never at the words; the words are for people.
/// Which exit code a code gives is decided by the command line alone (`ExitCodes`).
public struct DriftError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The kind of failure. `ExitCodes` maps every case explicitly (no `default`), so a new
    /// case is a compile error there until its exit code is chosen.
    public enum Code: String, Sendable, CaseIterable {
        /// A flag, argument or value given on the command line the command cannot use.
        case usage
        /// The manifest directory: missing, malformed, truncated, or not matching a pin.
        case manifestInvalid
        /// The manifest's signature or a key: missing, malformed, untrusted, not verifying.
        case signatureInvalid
        /// The policy file (or a value in it) is not what drift reads.
        case policyInvalid
        /// The state directory (`state.json`, caches, journal) is damaged, of another base,
        /// or not drift's own (owner, mode).
        case stateDamaged
        /// Another run holds the state lock or the watch lock.
        case lockBusy
        /// A tree deeper than a walk reads: the command could not see all of it.
        case walkLimit
        /// An input file or directory is missing, unreadable, or not the kind of file it must be.
        case unreadable
        /// A place drift refuses to write or read through: inside the scanned root, a
        /// dangling symlink, a non-empty output directory.
        case unsafeTarget
        /// A system call writing drift's own files failed (create, write, fsync, rename).
        case io
        /// A git repository or object drift reads or writes is missing or not what it must be.
        case gitFailure
        /// pip's metadata (RECORD, METADATA, direct_url.json, the baseline) is malformed or
        /// cannot be verified.
        case pipInvalid
        /// A ledger entry or ledger ref failed one of the gate's checks.
        case ledgerInvalid
        /// A remote could not be reached, or refused the push or fetch.
        case network
        /// Credentials, a TLS certificate or known hosts were refused or are unreadable.
        case credentials
        /// An export or push would send a secret drift knows: nothing was sent.
        case secretWithheld
        /// What the command was asked for does not exist (an export, a snapshot, a ref).
        case notFound
        /// An id read at an edge (`--id`, a trailer, a ref name, a JSON record) is not a
        /// drift id or a git object id.
        case malformedID
        /// libcrypto failed (allocation, an unexpected return code).
        case crypto
        /// An invariant of drift itself failed (a bug).
        case `internal`
    }

    /// What kind of failure this is.
    public let code: Code
    /// The file, directory or repository the sentence is about, as bytes; nil when the
    /// sentence names no file (a flag, a ledger ref).
    public let path: [UInt8]?
    /// The line of `path` the sentence is about (a policy key, a RECORD row), when there is one.
    public let line: Int?
    /// The lower layer's error that caused this one (`Errno`, `GitError`, `FileReadError`, …).
    public let underlying: (any Error & Sendable)?
    /// The sentence after the name (or the whole sentence when `path` is nil), neutralised.
    public let reason: String

    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - path: the file the error is about; the sentence is rendered `PATH: reason` with
    ///     the name through `PathBytes.display`.
    ///   - line: the line of that file, rendered `PATH:LINE: reason`.
    ///   - reason: the sentence; newlines and control characters are neutralised.
    ///   - underlying: the lower layer's error, when there is one.
    public init(_ code: Code, path: [UInt8]? = nil, line: Int? = nil, _ reason: String,
                underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.path = path
        self.line = path == nil ? nil : line
        self.reason = DriftError.neutralised(reason)
        self.underlying = underlying
    }

    /// `init(_:path:line:_:underlying:)` for a path held as a Swift string (its UTF-8 bytes).
    public init(_ code: Code, path: String, line: Int? = nil, _ reason: String,
                underlying: (any Error & Sendable)? = nil) {
        self.init(code, path: Array(path.utf8), line: line, reason, underlying: underlying)
    }

    /// A failed system call: `PATH: what: <strerror>`, with the `Errno` as `underlying`.
    public init(_ code: Code, path: [UInt8]? = nil, _ what: String, errno: Errno) {
        self.init(code, path: path, "\(what): \(errno)", underlying: errno)
    }

    /// `init(_:path:_:errno:)` for a path held as a Swift string.
    public init(_ code: Code, path: String, _ what: String, errno: Errno) {
        self.init(code, path: Array(path.utf8), what, errno: errno)
    }

    /// The same error with another reason (a caller adding where it happened); code, path
    /// and underlying error are kept.
    public func withReason(_ reason: String) -> DriftError {
        DriftError(code, path: path, line: line, reason, underlying: underlying)
    }

    /// One line, suitable to print as is after `drift: `: `PATH: reason`, `PATH:LINE: reason`,
    /// or the reason alone.
    public var message: String {
        guard let path else { return reason }
        return PathBytes.display(path) + (line.map { ":\($0)" } ?? "") + ": " + reason
    }

    public var description: String { message }

    /// Equal when code, path, line and sentence are; the underlying error is not compared.
    public static func == (a: DriftError, b: DriftError) -> Bool {
        a.code == b.code && a.path == b.path && a.line == b.line && a.reason == b.reason
    }

    /// A newline becomes a space (one line per error); any other control character left in
    /// a message (a name some caller forgot to quote) becomes `\ooo`, so no error can carry
    /// a terminal escape or start a line of its own.
    public static func neutralised(_ text: String) -> String {
        var out = ""
        for u in text.unicodeScalars {
            if u == "\n" {
                out += " "
            } else if u.value < 0x20 || (0x7F...0x9F).contains(u.value) {
                out += u.value > 0xFF ? "?" : "\\" + String(u.value, radix: 8).leftPad(3)
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

extension DriftError {
    /// An error from a system call on `path`: `PATH: what failed: <strerror>`.
    public static func posix(_ code: Code, _ what: String, _ path: [UInt8], _ errno: Errno) -> DriftError {
        DriftError(code, path: path, "\(what) failed", errno: errno)
    }
}

/// `strerror` text for an errno value.
public func errnoText(_ code: Int32) -> String {
    guard let s = strerror(code) else { return "errno \(code)" }
    return String(cString: s)
}

/// A Swift string from a NUL-terminated `CChar` buffer filled by a C call.
func cBufferString(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
