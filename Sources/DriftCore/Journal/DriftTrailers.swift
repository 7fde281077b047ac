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

/// REV's history as the gate judges it, from one walk: its commits (is an export's base
/// in it?) and the drift ids its commits' trailer blocks name.
public struct ReconciledHistory: Sendable {
    /// Every commit reachable from REV.
    public private(set) var commits = Set<ObjectID>()
    private var ids = Set<String>()

    /// Walks `head`'s history once.
    /// - Parameters:
    ///   - repo: the upstream repository.
    ///   - head: REV, resolved.
    /// - Throws: `GitError` when the history cannot be read.
    public init(_ repo: GitRepository, from head: ObjectID) throws {
        for (id, message) in try repo.commitsAndMessages(from: head) {
            commits.insert(id)
            ids.formUnion(DriftTrailers(message).ids)
        }
    }

    /// The one answer to "is this drift reconciled in REV's history": some commit there
    /// carries `Drift-Id: <id>` in its trailer block.
    func reconciles(_ id: String) -> Bool { ids.contains(id) }
}
