import CLibGit2
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Credentials for pushing, from the environment or a credential file — never printed.
public struct GitCredentials: Sendable {
    public var username: String?
    public var password: String?
    public var sshKey: String?

    /// `DRIFT_GIT_USERNAME`, `DRIFT_GIT_PASSWORD`, `DRIFT_GIT_SSH_KEY`, overridden by a
    /// file of `username=`, `password=`, `ssh_key=` lines when given.
    public static func load(file: String?) throws -> GitCredentials {
        let env = ProcessInfo.processInfo.environment
        var c = GitCredentials(username: env["DRIFT_GIT_USERNAME"], password: env["DRIFT_GIT_PASSWORD"], sshKey: env["DRIFT_GIT_SSH_KEY"])
        if let file {
            for line in String(decoding: try readWholeFile(file, limit: 64 << 10), as: UTF8.self).split(whereSeparator: \.isNewline) {
                let kv = line.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
                guard kv.count == 2 else { continue }
                switch kv[0] {
                case "username": c.username = kv[1]
                case "password": c.password = kv[1]
                case "ssh_key": c.sshKey = kv[1]
                default: throw DriftError("\(file): unknown credential key '\(kv[0])' (username, password, ssh_key)")
                }
            }
        }
        return c
    }
}

/// State shared with libgit2's C callbacks during one push.
private final class PushContext {
    let credentials: GitCredentials
    var attempts = 0
    var rejected: [String] = []
    init(_ c: GitCredentials) { credentials = c }
}

extension GitRepository {
    /// Pushes `localRef` to `remoteRef` on `url` (local path, file://, git://, ssh://, https://).
    public func push(url: String, localRef: String, remoteRef: String, credentials: GitCredentials) throws {
        var remote: OpaquePointer?
        try check(git_remote_create_anonymous(&remote, pointer, url), "git_remote_create_anonymous", redact(url))
        defer { git_remote_free(remote) }
        var opts = git_push_options()
        try check(git_push_options_init(&opts, UInt32(GIT_PUSH_OPTIONS_VERSION)), "git_push_options_init")
        let ctx = PushContext(credentials)
        let payload = Unmanaged.passRetained(ctx)
        defer { payload.release() }
        opts.callbacks.payload = payload.toOpaque()
        opts.callbacks.credentials = { out, _, userFromURL, allowed, payload in
            guard let payload, let out else { return -1 }
            let ctx = Unmanaged<PushContext>.fromOpaque(payload).takeUnretainedValue()
            ctx.attempts += 1
            if ctx.attempts > 3 { return -1 } // wrong credentials: stop asking
            let c = ctx.credentials
            let user = c.username ?? userFromURL.map { String(cString: $0) } ?? "git"
            if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0, let key = c.sshKey {
                return git_credential_ssh_key_new(out, user, nil, key, c.password)
            }
            if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
                return git_credential_ssh_key_from_agent(out, user)
            }
            if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0, let p = c.password {
                return git_credential_userpass_plaintext_new(out, user, p)
            }
            return Int32(GIT_PASSTHROUGH.rawValue)
        }
        opts.callbacks.push_update_reference = { refname, status, payload in
            if let status, let payload {
                let ctx = Unmanaged<PushContext>.fromOpaque(payload).takeUnretainedValue()
                ctx.rejected.append("\(refname.map { String(cString: $0) } ?? "?"): \(String(cString: status))")
            }
            return 0
        }
        let spec = "\(localRef):\(remoteRef)"
        let rc: Int32 = spec.withCString { s in
            var p: UnsafeMutablePointer<CChar>? = UnsafeMutablePointer(mutating: s)
            return withUnsafeMutablePointer(to: &p) { pp in
                var arr = git_strarray(strings: pp, count: 1)
                return git_remote_push(remote, &arr, &opts)
            }
        }
        try check(rc, "git_remote_push", redact(url))
        if let r = ctx.rejected.first { throw DriftError("\(redact(url)): push rejected: \(r)") }
    }

    /// Every reference name under `prefix`.
    public func references(under prefix: String) throws -> [String] {
        var arr = git_strarray()
        try check(git_reference_list(&arr, pointer), "git_reference_list", path)
        defer { git_strarray_dispose(&arr) }
        var out: [String] = []
        for i in 0..<arr.count {
            if let s = arr.strings[i] {
                let name = String(cString: s)
                if name.hasPrefix(prefix) { out.append(name) }
            }
        }
        return out.sorted()
    }
}

/// A URL with any `user:password@` removed, for messages.
public func redact(_ url: String) -> String {
    guard let scheme = url.firstRange(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
    return String(url[..<scheme.upperBound]) + "***@" + String(url[url.index(after: at)...])
}
