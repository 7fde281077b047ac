import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `drift gate`: rejects a commit while exported drift is not reconciled in it.
///
/// An entry is reconciled when REV's history has a commit with its `Drift-Id:` trailer,
/// or REV's tree holds every one of its code changes (same blob and mode; deletions
/// absent), or an unexpired policy waiver names it. Code withheld from an entry's patch
/// needs a waiver; an entry whose base is not in REV's history, or that is not what it
/// claims (id, ref name), is rejected.
public struct Gate {
    /// The upstream repository, as bytes (`--repo` as given, not UTF-8 too).
    public var repo: [UInt8]
    public var rev: String = "HEAD"
    /// Directory of exports, as bytes; nil when only refs are read.
    public var ledger: [UInt8]?
    /// Read entries from this ref prefix of the repository too (`--ledger-refs`).
    public var ledgerRefs: String?
    public var policy: Policy?

    public init(repo: [UInt8], ledger: [UInt8]?) {
        self.repo = repo
        self.ledger = ledger
    }

    public struct EntryResult: Codable, Sendable {
        public var id: DriftID
        public var entry: String
        public var host: String
        /// The image base; nil for a ref that could not be read as an entry (no `base` in the JSON).
        public var base: ObjectID?
        var firstSeen: String?
        var ageSeconds: Int?
        public var status: GateStatus
        /// How it passed; nil when rejected.
        public var reason: GateReason?
        var missing: [String]
        /// Code withheld from its patch (status `withheld`, or shown beside `missing`).
        var withheld: [WithheldResult]?
        /// Why it is `invalid` or `no-base`, in one sentence.
        var problem: String?
        /// The later export of the same host that supersedes it.
        var supersededBy: DriftID?
        var expiredWaiver: String?
        var waiverExpires: String?
        /// Its export commit and the earlier ones its chain follows, newest first; for `drift
        /// prune` (a ref names a ledger commit above the export), not in the JSON.
        var tip: ObjectID?
        var earlier: [ObjectID] = []

        enum CodingKeys: String, CodingKey {
            case id, entry, host, base, status, reason, missing, withheld, problem
            case firstSeen = "first_seen"
            case ageSeconds = "age_seconds"
            case supersededBy = "superseded_by"
            case expiredWaiver = "expired_waiver"
            case waiverExpires = "waiver_expires"
        }
    }

    /// One withheld code path as the gate reports it (the path quoted for people).
    public struct WithheldResult: Codable, Sendable {
        var path: String
        var change: ChangeKind
        var reason: String
    }

    public struct Report: Codable, Sendable {
        var schema = "drift.gate/1"
        public var repo: String?
        public var commit: String?
        public var ok: Bool
        public var entries: [EntryResult]
        public var image: [ImageCheck.Finding]?

        public init(repo: String?, commit: String?, ok: Bool, entries: [EntryResult], image: [ImageCheck.Finding]?) {
            self.repo = repo
            self.commit = commit
            self.ok = ok
            self.entries = entries
            self.image = image
        }
    }

    /// Checks every ledger entry (directory and/or refs) against REV.
    /// - Parameter now: the time waivers' `expires` dates are compared with.
    /// - Returns: one result per entry; `ok` is false when any entry is rejected.
    /// - Throws: `DriftError` for a hostile or unreadable ledger entry, a bad policy or REV;
    ///   `GitError` when the upstream repository cannot be read.
    public func run(now: Date) throws -> Report {
        let upstream = try GitRepository(path: repo)
        let head = try upstream.resolveCommit(rev)
        // Content checks look every changed path up in REV's tree, each directory read once.
        let headTree = try TreeLookup(upstream, tree: try upstream.treeOf(commit: head))
        var entries: [LedgerEntry] = []
        // Read and validate every entry before judging any: one hostile entry fails the run.
        if let ledger {
            guard FileSystem.isDirectory(ledger) else {
                throw DriftError(.unreadable, path: ledger, "ledger directory not found")
            }
            let reader = LedgerReader(ledger: canonicalPath(ledger) ?? ledger, upstream: upstream, rev: head)
            entries += try reader.entryDirectories().map { try reader.read($0) }
        }
        if let prefix = ledgerRefs {
            let reader = LedgerReader(ledger: [], upstream: upstream, rev: head)
            entries += try reader.readRefs(prefix: prefix)
        }
        // "Is the base in REV's history" once per distinct base (a fleet has few images).
        var inHistory: [ObjectID: Bool] = [:]
        for e in entries where e.baseKnown && inHistory[e.base] == nil {
            inHistory[e.base] = try upstream.isAncestor(e.base, of: head)
        }
        let bases = inHistory.filter(\.value).map(\.key).sorted { $0.hex < $1.hex }
        let history = try ReconciledHistory(upstream, from: head, bases: bases, wanted: Set(entries.map(\.id)))
        let judge = GateJudge(entries: entries, history: history, tree: headTree, policy: policy, now: now,
                              head: head, inHistory: inHistory)
        var results = try entries.map { try judge.judge($0) }
        results.sort { ($0.entry, $0.id) < ($1.entry, $1.id) }
        let rejected: Set<GateStatus> = [.missing, .withheld, .noBase, .invalid]
        let ok = results.allSatisfy { !rejected.contains($0.status) }
        return Report(repo: PathBytes.display(repo), commit: head.hex, ok: ok,
                      entries: results, image: nil)
    }
}
