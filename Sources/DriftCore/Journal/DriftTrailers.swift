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

    /// The `Drift-Id`, when the message has exactly one and it is a drift id (text parsed
    /// here, at the edge; a malformed value is no id).
    public var id: DriftID? { trailers.single("Drift-Id").flatMap { DriftID($0.trimmingSpaces()) } }

    /// Every `Drift-Id` value that is a drift id (a commit that reconciles two hotfixes names both).
    var ids: [DriftID] { trailers.values("Drift-Id").compactMap { DriftID($0.trimmingSpaces()) } }

    /// The `Drift-Base`, when the message has exactly one and it is a full object id.
    public var base: ObjectID? { trailers.single("Drift-Base").flatMap { ObjectID(hex: $0.trimmingSpaces()) } }

    /// The `Drift-Follows` of a follow-up export: the id of the export it is stacked on.
    public var follows: DriftID? { trailers.single("Drift-Follows").flatMap { DriftID($0.trimmingSpaces()) } }

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
