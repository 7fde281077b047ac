import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `drift scan --upstream URL`: which exported drift ids the upstream repository has taken.
/// drift fetches one branch of URL into `SDIR/upstream.git` (the first time its whole
/// history, then only what is new) and reads the `Drift-Id` trailers of that history, the
/// way the gate does: an exported path whose export id is there is *reconciled upstream,
/// waiting for redeploy*.
public struct UpstreamSource: Sendable {
    /// The remote: a URL, or a local repository named by bytes (`GitRemote`).
    public var url: GitRemote
    /// The branch to read: a full ref name (`refs/heads/main`, `refs/tags/v1`) or a short one
    /// (`main`, `v1`) that the remote's refs resolve as `git fetch` does (libgit2's refspec DWIM:
    /// `refs/NAME`, `refs/tags/NAME`, `refs/heads/NAME`, `refs/remotes/NAME`).
    public var ref: String
    public var credentials: GitCredentials

    public init(url: GitRemote, ref: String, credentials: GitCredentials) {
        self.url = url
        self.ref = ref
        self.credentials = credentials
    }

    static let localRef = "refs/drift-upstream/tip"

    /// A ref name git would take (`git check-ref-format`, kept to plain characters), full or
    /// short; only `refs/heads/`, `refs/tags/` and `refs/remotes/` when full.
    static func checkRef(_ ref: String) throws {
        let plain = ref.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._/-".contains($0)) }
        let full = ref.hasPrefix("refs/")
        let kinds = ["refs/heads/", "refs/tags/", "refs/remotes/"]
        let name = kinds.first { ref.hasPrefix($0) }.map { ref.dropFirst($0.count) } ?? ref[...]
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard plain, !name.isEmpty, !full || kinds.contains(where: { ref.hasPrefix($0) }),
              !parts.contains(where: { $0.isEmpty || $0.hasPrefix(".") || $0.hasSuffix(".lock") }),
              !name.contains(".."), !name.hasPrefix("-") else {
            throw DriftError(.usage, "--upstream-ref \(PathBytes.display(text: ref)) is not a branch or tag name "
                + "(main, refs/heads/main, v1.2, refs/tags/v1.2)")
        }
    }

    /// Fetches and returns, for every drift id the branch's history carries, the newest
    /// commit that carries it.
    /// - Throws: `DriftError` when the ref is not a ref name, the fetch fails or the remote
    ///   has no such ref; `GitError` when the history cannot be read.
    func reconciled(state: StateDirectory, base: ObjectID?) throws -> [String: String] {
        try Self.checkRef(ref)
        let path = state.file("upstream.git")
        let repo = !FileSystem.isAbsent(path.appending(text: "/objects"))
            ? try GitRepository(path: path) : try GitRepository(initBare: path)
        // A short name the remote does not have updates nothing: the last run's tip must not answer.
        if let old = try repo.reference(Self.localRef) { _ = try repo.deleteReference(Self.localRef, ifAt: old) }
        try repo.fetch(remote: url, remoteRef: ref, into: Self.localRef, credentials: credentials)
        guard let tip = try repo.reference(Self.localRef) else {
            throw DriftError(.notFound, "\(url.shown): has no \(PathBytes.display(text: ref)) "
                + "(no branch, tag or ref of that name)")
        }
        var out: [String: String] = [:]
        // Only commits after the image's base can carry its exports (`git rev-list TIP ^BASE`).
        let hidden = try base.map { try repo.odb().contains($0) ? [$0] : [] } ?? []
        try repo.walkCommits(from: tip, hiding: hidden) { commit, message in
            for id in DriftTrailers(message).ids where out[id.hex] == nil { out[id.hex] = commit.hex }
        }
        return out
    }
}
