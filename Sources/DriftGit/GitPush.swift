import CLibGit2
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// State shared with libgit2's C callbacks during one push.
final class PushContext {
    let credentials: GitCredentials
    let url: RemoteURL
    /// Credential callbacks answered; libgit2 asks again after every refusal, forever.
    var attempts = 0
    /// Answers that handed over a token, password or key (at most one per push).
    var secretsGiven = 0
    /// A host other than the remote's that the transport connected to (a redirect).
    var offsiteHost: String?
    var authGaveUp = false
    /// A sentence for the user when drift itself stopped the push (host key, missing key).
    var problem: String?
    var rejected: [String] = []
    /// What the remote said on the sideband (`remote: …` lines), for a rejection's reason.
    var remoteText = ""

    init(_ c: GitCredentials, _ u: RemoteURL) {
        credentials = c
        url = u
    }

    static let maxAttempts = 3
}

/// The parts of a remote URL drift needs for messages and host-key checks.
struct RemoteURL {
    var scheme: String
    var host: String
    var port: Int?
    var user: String?

    /// `scheme://[user[:pass]@]host[:port]/path`, or scp-like `[user@]host:path` (ssh).
    init(_ url: String) {
        if let r = url.firstRange(of: "://") {
            scheme = String(url[..<r.lowerBound]).lowercased()
            var authority = String(url[r.upperBound...].prefix { $0 != "/" })
            if let at = authority.lastIndex(of: "@") {
                user = String(authority[..<at].prefix { $0 != ":" })
                authority = String(authority[authority.index(after: at)...])
            }
            if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
                host = String(authority[authority.index(after: authority.startIndex)..<close])
                port = Int(authority[authority.index(after: close)...].dropFirst())
            } else if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                port = Int(authority[authority.index(after: colon)...])
            } else {
                host = authority
            }
        } else if !url.hasPrefix("/"), let colon = url.firstIndex(of: ":") {
            scheme = "ssh"
            var h = String(url[..<colon])
            if let at = h.lastIndex(of: "@") {
                user = String(h[..<at])
                h = String(h[h.index(after: at)...])
            }
            host = h
        } else {
            scheme = "file"
            host = ""
        }
    }

    static let defaultPorts = ["ssh": 22, "https": 443, "http": 80, "git": 9418]
    var defaultPort: Int { Self.defaultPorts[scheme] ?? 0 }
    var hostPort: String { "\(host):\(port ?? defaultPort)" }
}

extension GitRepository {
    /// Pushes `localRef` to `remoteRef` on `url` (local path, file://, git://, ssh://,
    /// https://). Returns false, pushing nothing, when the remote already has `remoteRef`.
    public func push(url: String, localRef: String, remoteRef: String, credentials: GitCredentials) throws -> Bool {
        let shown = credentials.scrub(redact(url))
        let ctx = PushContext(credentials, RemoteURL(url))
        do {
            return try push(url: url, shown: shown, localRef: localRef, remoteRef: remoteRef, ctx: ctx)
        } catch let e as GitError {
            // Belt and braces: no secret reaches a message, whatever libgit2 put in it.
            throw e.scrubbed(credentials.scrub)
        } catch let e as DriftError {
            throw DriftError(e.code, credentials.scrub(e.message))
        }
    }

    private func push(url: String, shown: String, localRef: String, remoteRef: String,
                      ctx: PushContext) throws -> Bool {
        try Self.checkLocalRemote(.url(url))
        try configureTLS(ctx.credentials)
        var remote: OpaquePointer?
        try check(git_remote_create_anonymous(&remote, pointer, url), "git_remote_create_anonymous", shown)
        defer { git_remote_free(remote) }
        let payload = Unmanaged.passRetained(ctx)
        defer { payload.release() }
        var callbacks = git_remote_callbacks()
        try check(git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION)),
                  "git_remote_init_callbacks")
        installCallbacks(&callbacks, payload.toOpaque())

        let connected = git_remote_connect(remote, GIT_DIRECTION_PUSH, &callbacks, nil, nil)
        if connected < 0 { throw pushError(connected, "connect", shown, ctx) }
        if try remoteHas(remote, remoteRef) {
            git_remote_disconnect(remote)
            return false
        }
        var opts = git_push_options()
        try check(git_push_options_init(&opts, UInt32(GIT_PUSH_OPTIONS_VERSION)), "git_push_options_init")
        opts.callbacks = callbacks
        let spec = "\(localRef):\(remoteRef)"
        let rc: Int32 = spec.withCString { s in
            var p: UnsafeMutablePointer<CChar>? = UnsafeMutablePointer(mutating: s)
            return withUnsafeMutablePointer(to: &p) { pp in
                var arr = git_strarray(strings: pp, count: 1)
                return git_remote_push(remote, &arr, &opts)
            }
        }
        if rc < 0 { throw pushError(rc, "push", shown, ctx) }
        if let r = ctx.rejected.first {
            let said = Self.remoteReason(ctx.remoteText)
            let reason = said.isEmpty ? "" : " (remote: \(said))"
            throw DriftError(.network, "\(shown): the remote rejected the push of \(r)\(reason)")
        }
        return true
    }

    /// A path remote (no scheme, or file://) must be a repository: libgit2 would try a missing
    /// one as a URL and say "unsupported URL protocol". Throws the sentence naming the path.
    static func checkLocalRemote(_ remote: GitRemote) throws {
        switch remote {
        case .path(let p):
            _ = try GitRepository(path: p)
        case .url(let url):
            guard RemoteURL(url).scheme == "file" else { return }
            let path = url.hasPrefix("file://") ? String(url.dropFirst("file://".count)) : url
            _ = try GitRepository(path: path)
        }
    }

    func installCallbacks(_ cb: inout git_remote_callbacks, _ payload: UnsafeMutableRawPointer) {
        cb.payload = payload
        cb.credentials = { out, asked, userFromURL, allowed, payload in
            guard let payload, let out else { return -1 }
            let ctx = Unmanaged<PushContext>.fromOpaque(payload).takeUnretainedValue()
            return ctx.answerCredentials(out, userFromURL.map { String(cString: $0) }, allowed,
                                         asked: asked.map { String(cString: $0) })
        }
        cb.certificate_check = { cert, valid, host, payload in
            guard let payload, let cert else { return -1 }
            let ctx = Unmanaged<PushContext>.fromOpaque(payload).takeUnretainedValue()
            return ctx.checkCertificate(cert, valid != 0, host.map { String(cString: $0) } ?? "")
        }
        cb.push_update_reference = { refname, status, payload in
            if let status, let payload {
                let ctx = Unmanaged<PushContext>.fromOpaque(payload).takeUnretainedValue()
                ctx.rejected.append("\(refname.map { String(cString: $0) } ?? "?"): \(String(cString: status))")
            }
            return 0
        }
        cb.sideband_progress = { text, len, payload in
            if let text, let payload, len > 0 {
                let ctx = Unmanaged<PushContext>.fromOpaque(payload).takeUnretainedValue()
                if ctx.remoteText.utf8.count < 8192 {
                    let bytes = UnsafeRawBufferPointer(start: text, count: Int(len))
                    ctx.remoteText += String(decoding: bytes, as: UTF8.self)
                }
            }
            return 0
        }
    }

    /// Whether the connected remote advertises `ref`.
    private func remoteHas(_ remote: OpaquePointer?, _ ref: String) throws -> Bool {
        var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        try check(git_remote_ls(&heads, &count, remote), "git_remote_ls")
        for i in 0..<count {
            if let h = heads?[i], let name = h.pointee.name, String(cString: name) == ref { return true }
        }
        return false
    }

    /// The error for a failed connect or push: drift's own reason first, then libgit2's.
    func pushError(_ rc: Int32, _ step: String, _ shown: String, _ ctx: PushContext) -> DriftError {
        if let p = ctx.problem { return DriftError(.credentials, "\(shown): \(p)") }
        if ctx.authGaveUp {
            return DriftError(.credentials, "\(shown): the server refused the credentials (sent once, not retried); "
                + "check the token or key (DRIFT_GIT_TOKEN, DRIFT_GIT_SSH_KEY or --credentials)")
        }
        let last = git_error_last()
        let text = last.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "error \(rc)"
        let klass = last.map { Int($0.pointee.klass) } ?? 0
        if rc == GIT_ECERTIFICATE.rawValue || klass == Int(GIT_ERROR_SSL.rawValue) {
            let lower = text.lowercased()
            if lower.contains("common name") || lower.contains("hostname") || lower.contains("does not match") {
                return DriftError(.credentials,
                    "\(shown): TLS certificate of \(ctx.url.hostPort) is for another host name "
                    + "(\(text)); "
                    + "use the name the certificate was issued for in the URL")
            }
            return DriftError(.credentials, "\(shown): TLS certificate of \(ctx.url.hostPort) not accepted (\(text)); "
                + "trust its CA with DRIFT_GIT_CA_FILE=ca.pem (or ca_file= in --credentials)")
        }
        let said = Self.remoteReason(ctx.remoteText)
        return DriftError(.network, "\(shown): \(step) failed: \(text)\(said.isEmpty ? "" : " (remote: \(said))")")
    }

    /// The remote's sideband text as one printable line, bounded.
    static func remoteReason(_ text: String) -> String {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { String($0.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init)) }
            .map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        return String(lines.suffix(5).joined(separator: "; ").prefix(500))
    }

    /// Points libgit2's TLS (mbedTLS or OpenSSL, as built) at `caFile` when given.
    func configureTLS(_ c: GitCredentials) throws {
        guard let ca = c.caFile else { return }
        guard withCPath(ca, { access($0, R_OK) }) == 0 else {
            throw DriftError(.credentials, path: ca, "CA file (DRIFT_GIT_CA_FILE) is not readable", errno: .current)
        }
        try check(withCPath(ca) { drift_set_ssl_cert_file($0) }, "git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS)",
                  PathBytes.display(ca))
    }

    /// Every direct reference under `prefix` with the object it points at, sorted by name, in
    /// one pass over the ref store.
    public func referenceTargets(under prefix: String) throws -> [(name: String, target: ObjectID?)] {
        // Whole components, as `git for-each-ref PREFIX` matches: `refs/drift/host-2` is the
        // ref of that name and the refs under `refs/drift/host-2/`, never `refs/drift/host-20/…`.
        var base = Substring(prefix)
        while base.hasSuffix("/") { base = base.dropLast() }
        let dir = base + "/"
        var it: OpaquePointer?
        try check(git_reference_iterator_glob_new(&it, pointer, base + "*"), "git_reference_iterator_glob_new", shown)
        defer { git_reference_iterator_free(it) }
        var out: [(name: String, target: ObjectID?)] = []
        var ref: OpaquePointer?
        while true {
            let rc = git_reference_next(&ref, it)
            if rc == GIT_ITEROVER.rawValue { break }
            try check(rc, "git_reference_next", shown)
            defer { git_reference_free(ref) }
            guard let n = git_reference_name(ref) else { continue }
            let name = String(cString: n)
            guard base.isEmpty || name.hasPrefix(dir) || name == base else { continue }
            out.append((name, git_reference_target(ref).map { ObjectID($0.pointee) }))
        }
        return out.sorted { $0.name < $1.name }
    }
}

extension PushContext {
    func answerCredentials(_ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>, _ userFromURL: String?,
                           _ allowed: UInt32, asked: String? = nil) -> Int32 {
        attempts += 1
        if attempts > Self.maxAttempts {
            authGaveUp = true
            return GIT_EUSER.rawValue
        }
        let c = credentials
        let secretAsked = allowed & (GIT_CREDENTIAL_SSH_KEY.rawValue | GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue) != 0
        if secretAsked {
            // A token or key goes out at most once per push: a second request means it was refused.
            if secretsGiven > 0 {
                authGaveUp = true
                return GIT_EUSER.rawValue
            }
            // Never in clear text: whoever is on the path would read it.
            if url.scheme == "http", allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 {
                problem = "the server asks for credentials over plain http; drift sends a token or password only "
                    + "over https (use an https:// or ssh:// remote)"
                return GIT_EUSER.rawValue
            }
            // Only to the configured host: a redirect elsewhere gets nothing.
            if let other = offsiteHost {
                problem = "the remote redirected to another host (\(other)); drift sends credentials only to "
                    + "\(url.host)"
                return GIT_EUSER.rawValue
            }
            // The URL libgit2 asks for: a redirect to the same host on another port is another
            // server (another user's, on a shared box), as git's credential matching says.
            if let asked, url.scheme != "file" {
                let there = RemoteURL(asked)
                if there.scheme != url.scheme || there.hostPort.lowercased() != url.hostPort.lowercased() {
                    problem = "the remote redirected to \(there.scheme)://\(there.hostPort); drift sends credentials "
                        + "only to \(url.scheme)://\(url.hostPort)"
                    return GIT_EUSER.rawValue
                }
            }
            secretsGiven += 1
        }
        if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
            return git_credential_username_new(out, c.username ?? userFromURL ?? "git")
        }
        if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
            let user = userFromURL ?? c.username ?? "git"
            if let key = c.sshKey {
                guard withCPath(key, { access($0, R_OK) }) == 0 else {
                    problem = "ssh key file \(PathBytes.display(key)) (DRIFT_GIT_SSH_KEY) is not readable: "
                        + errnoText(errno)
                    return GIT_EUSER.rawValue
                }
                return withCPath(key) { git_credential_ssh_key_new(out, user, nil, $0, c.password) }
            }
            if ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"] != nil {
                return git_credential_ssh_key_from_agent(out, user)
            }
            problem = "no ssh key: set DRIFT_GIT_SSH_KEY or ssh_key= in --credentials"
            return GIT_EUSER.rawValue
        }
        if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 {
            if let t = c.token { return git_credential_userpass_plaintext_new(out, c.username ?? "x-access-token", t) }
            if let p = c.password {
                return git_credential_userpass_plaintext_new(out, c.username ?? userFromURL ?? "git", p)
            }
            problem = "the server asks for a login: set DRIFT_GIT_TOKEN (or token= in --credentials)"
            return GIT_EUSER.rawValue
        }
        return GIT_PASSTHROUGH.rawValue
    }

    /// ssh: drift's own known_hosts verdict decides. TLS: libgit2's verdict stands.
    func checkCertificate(_ cert: UnsafeMutablePointer<git_cert>, _ valid: Bool, _ host: String) -> Int32 {
        // Every connection the transport makes passes here: one to another host is a redirect
        // off the configured remote, and drift talks to no other host at all.
        if !host.isEmpty, host.lowercased() != url.host.lowercased() {
            offsiteHost = host
            problem = "the remote redirected to another host (\(host)); drift sends credentials only to \(url.host) "
                + "and follows no redirect off it"
            return GIT_ECERTIFICATE.rawValue
        }
        guard cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else { return GIT_PASSTHROUGH.rawValue }
        let hostkey = UnsafeMutableRawPointer(cert).assumingMemoryBound(to: git_cert_hostkey.self).pointee
        guard hostkey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostkey.hostkey else {
            problem = "libgit2 gave no raw ssh host key for \(host); cannot check it against known_hosts"
            return GIT_ECERTIFICATE.rawValue
        }
        let key = Array(UnsafeRawBufferPointer(start: raw, count: hostkey.hostkey_len))
        let name = KnownHosts.lookupName(host: host, port: url.port ?? 22)
        let home = RawEnvironment.value("HOME") ?? []
        let file = credentials.knownHosts ?? home.appending(text: "/.ssh/known_hosts")
        let known: KnownHosts
        do { known = try KnownHosts.load(file) } catch let e as DriftError {
            problem = "cannot read known_hosts: \(e.message)"
            return GIT_ECERTIFICATE.rawValue
        } catch {
            problem = "cannot read known_hosts \(PathBytes.display(file))"
            return GIT_ECERTIFICATE.rawValue
        }
        let type = KnownHosts.keyType(key)
        let fp = KnownHosts.fingerprint(key)
        let shownFile = PathBytes.display(file)
        switch known.check(name: name, key: key) {
        case .known:
            return 0
        case .unknown:
            let scan = "ssh-keyscan\(url.port.map { " -p \($0)" } ?? "") \(host) >> \(shownFile)"
            var text = "ssh host \(name) is unknown: its \(type) key \(fp) is not in \(shownFile); "
                + "after checking the fingerprint, add it (\(scan)) or set DRIFT_GIT_KNOWN_HOSTS"
            // The box may have the vetted known_hosts already, in the file cron pushes with.
            if credentials.knownHosts == nil, let unused = credentials.unusedFile {
                text += "; this box's push credentials are in \(PathBytes.display(unused)) "
                    + "(their known_hosts= too): pass --credentials \(PathBytes.display(unused))"
            }
            problem = text
        case .changed(let types, let line):
            problem = "ssh host key of \(name) has CHANGED: the server offers \(type) \(fp), "
                + "\(shownFile) line \(line) lists "
                + "another key (\(types.joined(separator: ", "))); refusing to push"
        case .revoked(let line):
            problem = "ssh host key of \(name) (\(type) \(fp)) is revoked in \(shownFile) line \(line); "
                + "refusing to push"
        }
        return GIT_ECERTIFICATE.rawValue
    }
}

/// A URL for messages: the user stays (`ssh://git@host/r`), a password becomes `***`
/// (`https://u:***@host/r`), and an https userinfo without a password — often a token — is
/// `***` whole. Only the authority (before the first `/` after the scheme) is looked at.
public func redact(_ url: String) -> String {
    guard let scheme = url.firstRange(of: "://") else { return url }
    let rest = url[scheme.upperBound...]
    let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
    let userinfo = rest[..<at]
    let name = url[..<scheme.lowerBound].lowercased()
    let shown: String
    if let colon = userinfo.firstIndex(of: ":") {
        shown = String(userinfo[..<colon]) + ":***"
    } else if name == "http" || name == "https" {
        shown = "***"
    } else {
        shown = String(userinfo)
    }
    return String(url[..<scheme.upperBound]) + shown + String(rest[at...])
}
