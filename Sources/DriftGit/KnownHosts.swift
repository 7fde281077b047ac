import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// An OpenSSH `known_hosts` file, read the way `ssh` reads it: plain host patterns
/// (comma-separated, `*`/`?` wildcards, `!` negation), hashed `|1|salt|hmac` entries,
/// `[host]:port` for ports other than 22, `@revoked` lines; `@cert-authority` lines are
/// skipped (drift does not verify host certificates).
public struct KnownHosts: Sendable {
    struct Line: Sendable {
        var number: Int
        var patterns: [String]
        var revoked: Bool
        var keyType: String
        var key: [UInt8]
    }

    public let file: String
    var lines: [Line] = []

    /// The verdict on a server's host key.
    public enum Verdict: Equatable, Sendable {
        case known
        /// No line names this host.
        case unknown
        /// Lines name this host, but with other keys (types listed).
        case changed(knownTypes: [String], line: Int)
        case revoked(line: Int)
    }

    /// Parses `text`; lines it cannot read are ignored, as ssh ignores them.
    public init(file: String, text: [UInt8]) {
        self.file = file
        for (i, raw) in text.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            var fields = String(decoding: raw, as: UTF8.self)
                .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var revoked = false
            if first.hasPrefix("@") {
                guard first == "@revoked" else { continue }
                revoked = true
                fields.removeFirst()
            }
            guard fields.count >= 3, let key = Data(base64Encoded: fields[2]) else { continue }
            let patterns = fields[0].split(separator: ",").map(String.init)
            lines.append(Line(number: i + 1, patterns: patterns, revoked: revoked, keyType: fields[1], key: Array(key)))
        }
    }

    /// Reads `file`; a missing file knows no hosts.
    public static func load(_ file: [UInt8]) throws -> KnownHosts {
        let shown = PathBytes.display(file)
        if (try? FileSystem.stat(file)) == nil && errno == ENOENT { return KnownHosts(file: shown, text: []) }
        return KnownHosts(file: shown, text: try readWholeFile(file, limit: 64 << 20))
    }

    /// The name ssh looks a host up by: `host`, or `[host]:port` off port 22.
    static func lookupName(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    /// Judges `key` (the SSH wire blob the server sent) for `name` (see `lookupName`).
    public func check(name: String, key: [UInt8]) -> Verdict {
        let matching = lines.filter { Self.matches($0.patterns, name.lowercased()) }
        if let r = matching.first(where: { $0.revoked && $0.key == key }) { return .revoked(line: r.number) }
        let valid = matching.filter { !$0.revoked }
        if valid.contains(where: { $0.key == key }) { return .known }
        guard let first = valid.first else { return .unknown }
        return .changed(knownTypes: Array(Set(valid.map(\.keyType))).sorted(), line: first.number)
    }

    /// One line's host patterns against a name: a negated match vetoes, else any match wins.
    static func matches(_ patterns: [String], _ name: String) -> Bool {
        var hit = false
        for p in patterns {
            if p.hasPrefix("|1|") {
                if hashedMatch(p, name) { hit = true }
            } else if p.hasPrefix("!") {
                if wildcard(Array(p.dropFirst().lowercased().utf8), Array(name.utf8)) { return false }
            } else if wildcard(Array(p.lowercased().utf8), Array(name.utf8)) {
                hit = true
            }
        }
        return hit
    }

    /// OpenSSH's host pattern match: only `*` and `?` are special (so `[host]:port` is literal).
    static func wildcard(_ p: [UInt8], _ s: [UInt8]) -> Bool {
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == s[si]) {
                pi += 1
                si += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = si
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                si = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `ssh-keygen -H` writes.
    static func hashedMatch(_ pattern: String, _ name: String) -> Bool {
        let parts = pattern.split(separator: "|", omittingEmptySubsequences: true)
        guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])),
              let want = Data(base64Encoded: String(parts[2])) else { return false }
        return HMAC.sha1(key: Array(salt), Array(name.utf8)) == Array(want)
    }

    /// The key type named inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, …).
    static func keyType(_ blob: [UInt8]) -> String {
        guard blob.count >= 4 else { return "unknown" }
        let n = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
        guard n > 0, n <= 64, blob.count >= 4 + n, let s = String(validating: blob[4..<(4 + n)], as: UTF8.self),
              s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-@.".contains($0)) }) else {
            return "unknown"
        }
        return s
    }

    /// OpenSSH's `SHA256:<base64, no padding>` fingerprint of a key blob.
    public static func fingerprint(_ blob: [UInt8]) -> String {
        guard let d = try? SHA256Hasher.digest(blob) else { return "" }
        let b64 = Data(d.bytes).base64EncodedString()
        return "SHA256:" + b64.replacingEvery("=", with: "")
    }
}
