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
    public var url: String
    /// The branch to read, as a full ref name (`refs/heads/main`).
    public var ref: String
    public var credentials: GitCredentials

    public init(url: String, ref: String, credentials: GitCredentials) {
        self.url = url
        self.ref = ref
        self.credentials = credentials
    }

    static let localRef = "refs/drift-upstream/tip"

    /// Fetches and returns, for every drift id the branch's history carries, the newest
    /// commit that carries it.
    /// - Throws: `DriftError` when the ref is not a branch name, the fetch fails or the
    ///   remote has no such branch; `GitError` when the history cannot be read.
    func reconciled(state: StateDirectory, base: ObjectID?) throws -> [String: String] {
        let name = ref.dropFirst("refs/heads/".count)
        let plain = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._/-".contains($0)) }
        guard ref.hasPrefix("refs/heads/"), !name.isEmpty, plain, !name.contains(".."), !name.contains("//"),
              !name.hasPrefix("/"), !name.hasSuffix("/"), !name.hasSuffix(".lock") else {
            throw DriftError(.usage, "--upstream-ref \(PathBytes.display(text: ref)) is not a branch (refs/heads/NAME)")
        }
        let path = state.file("upstream.git")
        let repo = FileManager.default.fileExists(atPath: path + "/objects")
            ? try GitRepository(path: path) : try GitRepository(initBare: path)
        try repo.fetch(url: url, remoteRef: ref, into: Self.localRef, credentials: credentials)
        guard let tip = try repo.reference(Self.localRef) else {
            throw DriftError(.notFound, "\(redact(url)): has no \(ref)")
        }
        var out: [String: String] = [:]
        // Only commits after the image's base can carry its exports (`git rev-list TIP ^BASE`).
        let hidden = try base.map { try repo.odb().contains($0) ? [$0] : [] } ?? []
        try repo.walkCommits(from: tip, hiding: hidden) { commit, message in
            for id in DriftTrailers(message).ids where out[id] == nil { out[id] = commit.hex }
        }
        return out
    }
}
