import DriftGit
import DriftSystem

/// Every snapshot of the journal, newest first: the first-parent chain of
/// `refs/heads/journal` back to the base commit (libgit2 1.5 ignores `shallow`, so the walk
/// stops at the base itself instead of asking for its parents).
public enum JournalHistory {
    /// The most snapshots read: a bound so a damaged chain cannot loop forever.
    static let limit = 1_000_000

    /// The snapshots from `tip` back to (not including) `base`.
    /// - Throws: `GitError` when a commit or record cannot be read.
    public static func snapshots(_ repo: GitRepository, from tip: ObjectID,
                                 base: String) throws -> [(commit: ObjectID, info: SnapshotInfo)] {
        var out: [(commit: ObjectID, info: SnapshotInfo)] = []
        try forEach(repo, from: tip, base: base) { out.append(($0, $1)) }
        return out
    }

    /// The same snapshots one at a time, each read only when `body` is done with the one before
    /// (`drift log` on a journal of many large snapshots holds one of them, not all).
    static func forEach(_ repo: GitRepository, from tip: ObjectID, base: String,
                        _ body: (ObjectID, SnapshotInfo) throws -> Void) throws {
        var id = tip
        var n = 0
        while id.hex != base, n < limit {
            try body(id, try SnapshotInfo.read(repo, id))
            n += 1
            guard let parent = try repo.parents(of: id).first else { break }
            id = parent
        }
    }

    /// The snapshot `key` names: its Drift-Id, or its commit (a hex prefix of at least 8 digits).
    /// - Throws: `DriftError` when no snapshot (or more than one commit) matches.
    static func find(_ key: String, repo: GitRepository, tip: ObjectID, base: String,
                     context: String) throws -> (commit: ObjectID, info: SnapshotInfo) {
        let all = try snapshots(repo, from: tip, base: base)
        if let hit = all.first(where: { $0.info.id.hex == key }) { return hit }
        let byCommit = DriftID.isWellFormed(key) ? all.filter { $0.commit.hex.hasPrefix(key) } : []
        if byCommit.count == 1, let hit = byCommit.first { return hit }
        let why = byCommit.count > 1 ? "names more than one snapshot commit" : "is no snapshot in the journal"
        throw DriftError(.notFound, "\(context): \(PathBytes.display(text: key)) \(why) (drift log lists them)")
    }
}
