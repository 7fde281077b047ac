import DriftSystem

/// A git remote as the command line gives it (`scan --upstream`, `export --push`, `push`'s
/// REMOTE): a URL, which is text, or a local repository named by bytes that are not UTF-8.
///
/// How the two are told apart: an argument that is UTF-8 is `url`, read exactly as before (a
/// URL, an scp-like `host:path` or a local path, as git tells them). One that is not UTF-8 is
/// no URL (RFC 3986: a URL is ASCII, other bytes percent-encoded), so it is a local path:
/// a leading `file://` is dropped and the bytes after it are the path (absolute: `file:///…`,
/// not percent-decoded); any other `scheme://`, a `file://host/…`, or a `:` before the first
/// `/` (git's scp-like `host:path`) is refused rather than guessed (give `./` before such a path).
public enum GitRemote: Sendable, Hashable {
    /// A URL, or a path whose name is UTF-8: parsed as text (scheme, user, host, port).
    case url(String)
    /// A local repository whose name is not UTF-8: its bytes, handed to the file system as they are.
    case path([UInt8])

    /// The remote an argument names (`url` when it is UTF-8).
    /// - Throws: `DriftError` (`.usage`) for a remote that is not UTF-8 and reads as a URL.
    public init(argument: [UInt8]) throws {
        if let text = String(validating: argument, as: UTF8.self) {
            self = .url(text)
            return
        }
        let file = Array("file://".utf8)
        let isFileURL = argument.starts(with: file)
        let path = isFileURL ? Array(argument.dropFirst(file.count)) : argument
        let firstSlash = path.firstIndex(of: UInt8(ascii: "/")) ?? path.endIndex
        let scheme = path.firstRange(of: Array("://".utf8)) != nil
        guard !scheme, !path[..<firstSlash].contains(UInt8(ascii: ":")), !path.isEmpty,
              !isFileURL || path.first == UInt8(ascii: "/") else {
            throw DriftError(.usage, path: argument, "a remote URL must be UTF-8 (percent-encode other bytes); "
                             + "a local repository whose name is not UTF-8 is taken as a path: give it as "
                             + "/…, ./… or file:///…")
        }
        self = .path(path)
    }

    /// The remote for messages and logs: a URL with its password or token redacted
    /// (`redact`), a path quoted (`PathBytes.display`).
    public var shown: String {
        switch self {
        case .url(let u): return redact(u)
        case .path(let p): return PathBytes.display(p)
        }
    }

    /// What libgit2 is handed (a C string: any bytes but NUL).
    var bytes: [UInt8] {
        switch self {
        case .url(let u): return Array(u.utf8)
        case .path(let p): return p
        }
    }

    /// The parts drift checks (host keys, credentials): none for a path.
    var parsed: RemoteURL {
        switch self {
        case .url(let u): return RemoteURL(u)
        case .path: return RemoteURL("/")
        }
    }
}
