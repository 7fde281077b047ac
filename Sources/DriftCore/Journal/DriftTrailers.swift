import DriftGit
import DriftSystem

/// drift's trailers in a commit message — snapshot, export and ledger commits, and the
/// commits of REV's history the gate reads — through the one parser, `Trailers` (libgit2's
/// `git_message_trailers`): only the message's trailer block counts, never a body line.
public struct DriftTrailers: Sendable {
    let trailers: Trailers

    public init(_ message: String) {
        trailers = Trailers(message)
    }

    /// The `Drift-Id`, when the message has exactly one.
    public var id: String? { trailers.single("Drift-Id")?.trimmingSpaces() }

    /// Every `Drift-Id` value (a commit that reconciles two hotfixes names both).
    var ids: [String] { trailers.values("Drift-Id").map { $0.trimmingSpaces() } }

    /// The `Drift-Base`, when the message has exactly one.
    public var base: String? { trailers.single("Drift-Base")?.trimmingSpaces() }

    /// The `Drift-Follows` of a follow-up export: the id of the export it is stacked on.
    public var follows: String? { trailers.single("Drift-Follows")?.trimmingSpaces() }

    /// The `Drift-Host`, when the message has exactly one, quoted as a name: it came from
    /// another machine and reaches text.
    public var host: String? { trailers.single("Drift-Host")?.trimmingSpaces().quotedName }

    /// The `Drift-Host` as written (what `drift push` named the ref by); never for text.
    var rawHost: String? { trailers.single("Drift-Host")?.trimmingSpaces() }

    /// The `Drift-Entry` trailers of a snapshot message (old snapshots without a record).
    public var entries: [SnapshotEntry] { trailers.values("Drift-Entry").compactMap { SnapshotEntry.parse(value: $0) } }

    /// The `Drift-Pip` trailers of a snapshot message (old snapshots without a record).
    var pip: [PipChange] { trailers.values("Drift-Pip").compactMap { SnapshotPip.parse(value: $0)?.change } }
}

private extension String {
    var quotedName: String { PathBytes.display(text: self) }
}

extension DriftID {
    /// Whether `id` can be a drift id: 8 to 64 lowercase hex digits (ids drift writes have
    /// 20). The one check for ids read from bundles, ref names and `--id`.
    static func isWellFormed(_ id: String) -> Bool {
        (8...64).contains(id.count) && id.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}

/// Which drift ids REV's history names in a commit's trailer block, from one streaming
/// walk of the commits made since the entries' bases (`git rev-list REV ^M`, M the bases'
/// common ancestor). A commit carrying an export's Drift-Id is made after the export, so it
/// is never an ancestor of that export's base, nor of M: the walk sees every such commit,
/// and its cost and memory do not grow with the history behind the bases.
public struct ReconciledHistory: Sendable {
    private var found = Set<String>()

    /// Walks REV's commits not reachable from the bases' common ancestor.
    /// - Parameters:
    ///   - repo: the upstream repository.
    ///   - head: REV, resolved.
    ///   - bases: the entries' bases that are in REV's history.
    ///   - wanted: the ids to look for (only those are kept).
    /// - Throws: `GitError` when the history cannot be read.
    public init(_ repo: GitRepository, from head: ObjectID, bases: [ObjectID], wanted: Set<String>) throws {
        // No base in REV's history: every entry is `no-base`, and there is nothing to walk.
        guard !wanted.isEmpty, !bases.isEmpty else { return }
        let hide = try repo.commonAncestor(of: bases).map { [$0] } ?? []
        var found = Set<String>()
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
    func reconciles(_ id: String) -> Bool { found.contains(id) }
}
