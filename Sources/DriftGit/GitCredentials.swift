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
    /// Private key file for ssh (its passphrase, if any, is `password`).
    var sshKey: String?
    /// known_hosts file for ssh host keys (default `~/.ssh/known_hosts`).
    var knownHosts: String?
    /// PEM file of the CAs an https server's certificate must chain to (default: the system's).
    var caFile: String?

    public init(username: String? = nil, password: String? = nil, token: String? = nil, sshKey: String? = nil,
                knownHosts: String? = nil, caFile: String? = nil) {
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
    /// - Parameters:
    ///   - file: the credential file, or nil for the environment alone.
    ///   - env: the environment to read (the process's by default; tests pass their own).
    /// - Returns: the credentials.
    /// - Throws: `DriftError` naming the file and line (never its value).
    public static func load(file: String?,
                            environment env: [String: String] = ProcessInfo.processInfo.environment) throws
        -> GitCredentials {
        try load(fileBytes: file.map { Array($0.utf8) }, environment: env)
    }

    /// `load(file:environment:)` for a credential file named by bytes (`--credentials` as
    /// given, a name that is not UTF-8 included).
    public static func load(fileBytes file: [UInt8]?,
                            environment env: [String: String] = ProcessInfo.processInfo.environment) throws
        -> GitCredentials {
        func get(_ k: String) -> String? { env[k].flatMap { $0.isEmpty ? nil : $0 } }
        var c = GitCredentials(username: get("DRIFT_GIT_USERNAME"), password: get("DRIFT_GIT_PASSWORD"),
                               token: get("DRIFT_GIT_TOKEN"), sshKey: get("DRIFT_GIT_SSH_KEY"),
                               knownHosts: get("DRIFT_GIT_KNOWN_HOSTS"), caFile: get("DRIFT_GIT_CA_FILE"))
        guard let file else { return c }
        let text = String(decoding: try readWholeFile(file, limit: 64 << 10), as: UTF8.self)
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            // Never echo the line: it may hold a secret.
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw DriftError(.credentials, path: file, "line \(n + 1) is not key=value")
            }
            let key = trimmed[..<eq].trimmingSpaces()
            let value = trimmed[trimmed.index(after: eq)...].trimmingSpaces()
            switch key {
            case "username": c.username = value
            case "password": c.password = value
            case "token": c.token = value
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
