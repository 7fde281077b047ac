import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a push may authenticate with and whom it trusts — from the environment or a
/// credential file. Secrets are handed to libgit2 only inside its callbacks and scrubbed
/// from every message (`scrub(_:)`).
public struct GitCredentials: Sendable {
    public var username: String?
    public var password: String?
    /// An https token (sent as the basic-auth password, user `x-access-token` by default).
    public var token: String?
    /// Private key file for ssh (its passphrase, if any, is `password`), named by bytes.
    var sshKey: [UInt8]?
    /// known_hosts file for ssh host keys (default `~/.ssh/known_hosts`), named by bytes.
    var knownHosts: [UInt8]?
    /// PEM file of the CAs an https server's certificate must chain to (default: the system's).
    var caFile: [UInt8]?
    /// A credential file the box has that this run was not given (`/etc/drift-push/credentials`):
    /// a host key refused against the default known_hosts names it. Its name only, never read here.
    public var unusedFile: [UInt8]?

    public init(username: String? = nil, password: String? = nil, token: String? = nil, sshKey: [UInt8]? = nil,
                knownHosts: [UInt8]? = nil, caFile: [UInt8]? = nil) {
        self.username = username
        self.password = password
        self.token = token
        self.sshKey = sshKey
        self.knownHosts = knownHosts
        self.caFile = caFile
    }

    /// The environment (`DRIFT_GIT_USERNAME`, `DRIFT_GIT_PASSWORD`, `DRIFT_GIT_TOKEN`,
    /// `DRIFT_GIT_SSH_KEY`, `DRIFT_GIT_KNOWN_HOSTS`, `DRIFT_GIT_CA_FILE`), overridden by a
    /// file of `username=`, `password=`, `token=`, `ssh_key=`, `known_hosts=`, `ca_file=` lines.
    /// The three files are named by bytes, from the environment and the file alike (a name that
    /// is not UTF-8 reaches libgit2 as given, never repaired into another file's name).
    /// - Parameters:
    ///   - file: the credential file, or nil for the environment alone.
    ///   - env: `$NAME`'s bytes (the process's environment by default; tests pass their own).
    /// - Returns: the credentials.
    /// - Throws: `DriftError` naming the file and line (never its value).
    public static func load(file: String?,
                            environment env: (String) -> [UInt8]? = RawEnvironment.value) throws
        -> GitCredentials {
        try load(fileBytes: file.map { Array($0.utf8) }, environment: env)
    }

    /// `load(file:environment:)` for a credential file named by bytes (`--credentials` as
    /// given, a name that is not UTF-8 included).
    public static func load(fileBytes file: [UInt8]?,
                            environment env: (String) -> [UInt8]? = RawEnvironment.value) throws
        -> GitCredentials {
        func path(_ k: String) -> [UInt8]? { env(k).flatMap { $0.isEmpty ? nil : $0 } }
        // Secrets and user names are text (libgit2 takes them as C strings all the same).
        func text(_ k: String) -> String? { path(k).map { String(decoding: $0, as: UTF8.self) } }
        var c = GitCredentials(username: text("DRIFT_GIT_USERNAME"), password: text("DRIFT_GIT_PASSWORD"),
                               token: text("DRIFT_GIT_TOKEN"), sshKey: path("DRIFT_GIT_SSH_KEY"),
                               knownHosts: path("DRIFT_GIT_KNOWN_HOSTS"), caFile: path("DRIFT_GIT_CA_FILE"))
        guard let file else { return c }
        let bytes = try readWholeFile(file, limit: 64 << 10)
        for (n, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let trimmed = trimmingSpaces(line)
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
            // Never echo the line: it may hold a secret.
            guard let eq = trimmed.firstIndex(of: UInt8(ascii: "=")) else {
                throw DriftError(.credentials, path: file, "line \(n + 1) is not key=value")
            }
            let key = String(decoding: trimmingSpaces(trimmed[..<eq]), as: UTF8.self)
            let value = Array(trimmingSpaces(trimmed[(eq + 1)...]))
            let valueText = String(decoding: value, as: UTF8.self)
            switch key {
            case "username": c.username = valueText
            case "password": c.password = valueText
            case "token": c.token = valueText
            case "ssh_key": c.sshKey = value
            case "known_hosts": c.knownHosts = value
            case "ca_file": c.caFile = value
            default:
                throw DriftError(.credentials, path: file, "line \(n + 1) has an unknown credential key "
                    + "(expected username, password, token, ssh_key, known_hosts, ca_file)")
            }
        }
        return c
    }

    /// `line` without leading and trailing blanks (space, tab, CR).
    private static func trimmingSpaces(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0B || $0 == 0x0C }
        guard let first = line.firstIndex(where: { !blank($0) }) else { return [] }
        let last = line.lastIndex(where: { !blank($0) }) ?? first
        return line[first...last]
    }

    /// The secret strings (password, token) that must never appear in output.
    var secrets: [String] { [password, token].compactMap { $0 }.filter { !$0.isEmpty } }

    /// `text` with every secret replaced by `***`.
    func scrub(_ text: String) -> String {
        var out = text
        for s in secrets {
            out = out.replacing(s, with: "***")
            let pct = s.percentEncodingNonAlphanumerics()
            if pct != s {
                out = out.replacing(pct, with: "***")
            }
        }
        return out
    }
}
