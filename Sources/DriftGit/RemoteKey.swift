import DriftSystem

/// How drift keys a remote in `state.json`'s `pushed` and names it in `drift status`: one
/// remote, one key, however it was spelled. The scheme and host are lower-cased, a default
/// port, trailing slashes and a URL's `.git` suffix dropped, a local path resolved to its real
/// absolute path; the user stays, a password or token is `***` (as `redact` shows it).
public enum RemoteKey {
    /// The key for `url` (also for a key an older drift wrote: keys are read through this).
    public static func key(_ url: String) -> String {
        // A key this function made for a byte path (`key(_: GitRemote)`): keyed the same again.
        if url.hasPrefix("\""), let bytes = PathBytes.unquoteC(url.utf8),
           String(validating: bytes, as: UTF8.self) == nil {
            return key(.path(bytes))
        }
        let shown = redact(url)
        if let r = shown.firstRange(of: "://") {
            let scheme = shown[..<r.lowerBound].lowercased()
            let rest = shown[r.upperBound...]
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            if scheme == "file" { return localPath(String(rest[slash...])) }
            var authority = String(rest[..<slash])
            var user = ""
            if let at = authority.lastIndex(of: "@") {
                user = String(authority[...at])
                authority = String(authority[authority.index(after: at)...])
            }
            authority = authority.lowercased()
            if let port = RemoteURL.defaultPorts[scheme], authority.hasSuffix(":\(port)") {
                authority.removeLast(":\(port)".count)
            }
            return "\(scheme)://\(user)\(authority)\(repositoryPath(String(rest[slash...])))"
        }
        let parsed = RemoteURL(shown)
        guard parsed.scheme == "ssh", let colon = shown.firstIndex(of: ":") else { return localPath(shown) }
        // scp-like `[user@]host:path`.
        let user = parsed.user.map { $0 + "@" } ?? ""
        return "\(user)\(parsed.host.lowercased()):\(repositoryPath(String(shown[shown.index(after: colon)...])))"
    }

    /// The key for a remote: a URL's as `key(_: String)`, a byte path's its real absolute path
    /// quoted (`PathBytes.display`: `state.json` is text; the quoted form reads back as the bytes).
    public static func key(_ remote: GitRemote) -> String {
        switch remote {
        case .url(let u): return key(u)
        case .path(let p): return PathBytes.display(localPath(p))
        }
    }

    /// The key without its user: two keys with the same identity are the same remote
    /// (`ssh://git@host/r` and `ssh://host/r`).
    public static func identity(_ key: String) -> String {
        if key.hasPrefix("\"") { return key }
        if let r = key.firstRange(of: "://") {
            let rest = key[r.upperBound...]
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            guard let at = rest[..<slash].lastIndex(of: "@") else { return key }
            return String(key[..<r.upperBound]) + String(rest[rest.index(after: at)...])
        }
        guard !key.hasPrefix("/"), let colon = key.firstIndex(of: ":"),
              let at = key[..<colon].lastIndex(of: "@") else { return key }
        return String(key[key.index(after: at)...])
    }

    /// A URL's path: no trailing `/`, no `.git` suffix (servers answer both spellings).
    static func repositoryPath(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        if p.hasSuffix(".git") && p.count > 4 { p.removeLast(4) }
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return String(p)
    }

    /// `localPath(_:)` over bytes (a name that is not UTF-8).
    static func localPath(_ path: [UInt8]) -> [UInt8] {
        if let real = canonicalPath(path) { return real }
        let slash = UInt8(ascii: "/")
        var p = path.first == slash ? path : WorkingDirectory.bytes() + [slash] + path
        while p.count > 1 && p.last == slash { p.removeLast() }
        return p
    }

    /// A local path: its real absolute path when it exists, else absolute without trailing `/`.
    static func localPath(_ path: String) -> String {
        if let real = canonicalPath(path) { return real }
        var p = path.hasPrefix("/") ? Substring(path) : Substring(WorkingDirectory.path() + "/" + path)
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return String(p)
    }
}
