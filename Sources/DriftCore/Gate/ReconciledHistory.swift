import DriftGit
import DriftSystem

/// Which drift ids REV's history names in a commit's trailer block, from one streaming
/// walk of the commits made since the entries' bases (`git rev-list REV ^M`, M the bases'
/// common ancestor). A commit carrying an export's Drift-Id is made after the export, so it
/// is never an ancestor of that export's base, nor of M: the walk sees every such commit,
/// and its cost and memory do not grow with the history behind the bases.
public struct ReconciledHistory: Sendable {
    private var found = Set<DriftID>()

    /// Walks REV's commits not reachable from the bases' common ancestor.
    /// - Parameters:
    ///   - repo: the upstream repository.
    ///   - head: REV, resolved.
    ///   - bases: the entries' bases that are in REV's history.
    ///   - wanted: the ids to look for (only those are kept).
    /// - Throws: `GitError` when the history cannot be read.
    public init(_ repo: GitRepository, from head: ObjectID, bases: [ObjectID], wanted: Set<DriftID>) throws {
        // No base in REV's history: every entry is `no-base`, and there is nothing to walk.
        guard !wanted.isEmpty, !bases.isEmpty else { return }
        let hide = try repo.commonAncestor(of: bases).map { [$0] } ?? []
        var found = Set<DriftID>()
        try repo.walkCommits(from: head, hiding: hide) { _, message in
            // Most commits name no drift: skip the trailer parse unless the key is there at all.
            guard Self.mayName(message) else { return }
            for id in DriftTrailers(message).ids where wanted.contains(id) { found.insert(id) }
        }
        self.found = found
    }

    /// Whether `message` holds `drift-id` in any case (git's trailer keys are case-insensitive).
    static func mayName(_ message: String) -> Bool {
        let key = Array("drift-id".utf8)
        var utf8 = message.utf8.makeIterator()
        var matched = 0
        while let b = utf8.next() {
            let lower = (0x41...0x5A).contains(b) ? b | 0x20 : b
            if lower == key[matched] {
                matched += 1
                if matched == key.count { return true }
            } else {
                matched = lower == key[0] ? 1 : 0
            }
        }
        return false
    }

    /// The one answer to "is this drift reconciled in REV's history": some commit there
    /// carries `Drift-Id: <id>` in its trailer block.
    func reconciles(_ id: DriftID) -> Bool { found.contains(id) }
}
