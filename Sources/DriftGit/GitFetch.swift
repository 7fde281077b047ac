import CLibGit2
import DriftSystem

extension GitRepository {
    /// Fetches `remoteRef` from `url` into `localRef` of this repository (forced), with the
    /// credential, host-key and TLS handling `push` has. Later fetches send only what is new.
    /// - Throws: `DriftError` naming the (redacted) URL when the fetch fails or the remote
    ///   has no such ref.
    public func fetch(url: String, remoteRef: String, into localRef: String, credentials: GitCredentials) throws {
        try fetch(remote: .url(url), remoteRef: remoteRef, into: localRef, credentials: credentials)
    }

    /// `fetch(url:…)` from a remote that may be a local repository named by bytes (`GitRemote`).
    public func fetch(remote from: GitRemote, remoteRef: String, into localRef: String,
                      credentials: GitCredentials) throws {
        let shown = credentials.scrub(from.shown)
        let ctx = PushContext(credentials, from.parsed)
        do {
            try Self.checkLocalRemote(from)
            try configureTLS(ctx.credentials)
            var remote: OpaquePointer?
            // libgit2 takes the URL as a C string: a path's bytes go as they are.
            let created = withCPath(from.bytes) { git_remote_create_anonymous(&remote, pointer, $0) }
            try check(created, "git_remote_create_anonymous", shown)
            defer { git_remote_free(remote) }
            let payload = Unmanaged.passRetained(ctx)
            defer { payload.release() }
            var opts = git_fetch_options()
            try check(git_fetch_options_init(&opts, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
            installCallbacks(&opts.callbacks, payload.toOpaque())
            // Tags would bring history nobody asked for.
            opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
            let spec = "+\(remoteRef):\(localRef)"
            let rc: Int32 = spec.withCString { s in
                var p: UnsafeMutablePointer<CChar>? = UnsafeMutablePointer(mutating: s)
                return withUnsafeMutablePointer(to: &p) { pp in
                    var arr = git_strarray(strings: pp, count: 1)
                    return git_remote_fetch(remote, &arr, &opts, nil)
                }
            }
            if rc < 0 { throw pushError(rc, "fetch", shown, ctx) }
        } catch let e as GitError {
            throw e.scrubbed(credentials.scrub)
        } catch let e as DriftError {
            throw DriftError(e.code, credentials.scrub(e.message))
        }
    }
}
