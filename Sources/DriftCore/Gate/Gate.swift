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
/// absent), or an unexpired policy waiver names it.
public struct Gate {
    public var repo: String
    public var rev: String = "HEAD"
    /// Directory of exports; nil when only refs are read.
    public var ledger: String?
    /// Read entries from this ref prefix of the repository too (`--ledger-refs`).
    public var ledgerRefs: String?
    public var policy: Policy?

    public init(repo: String, ledger: String?) {
        self.repo = repo
        self.ledger = ledger
    }

    public struct EntryResult: Codable, Sendable {
        public var id: String
        public var entry: String
        public var host: String
        public var base: String
        var firstSeen: String?
        var ageSeconds: Int?
        var status: GateStatus
        /// How it passed; nil when missing.
        public var reason: GateReason?
        var missing: [String]
        var expiredWaiver: String?
        var waiverExpires: String?

        enum CodingKeys: String, CodingKey {
            case id, entry, host, base, status, reason, missing
            case firstSeen = "first_seen"
            case ageSeconds = "age_seconds"
            case expiredWaiver = "expired_waiver"
            case waiverExpires = "waiver_expires"
        }
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
    /// - Returns: one result per entry; `ok` is false when any entry is missing from REV.
    /// - Throws: `DriftError` for a hostile or unreadable ledger entry, a bad policy or REV;
    ///   `GitError` when the upstream repository cannot be read.
    public func run(now: Date) throws -> Report {
        let upstream = try GitRepository(path: repo)
        let head = try upstream.resolveCommit(rev)
        // Content checks look every changed path up in REV's tree, each directory read once.
        let headTree = try TreeLookup(upstream, tree: try upstream.treeOf(commit: head))
        // One walk of REV's history serves every entry: its commit ids (is a base in it?) and
        // its Drift-Id trailers (only a commit's trailer block counts, never a line of a body).
        let history = try ReconciledHistory(upstream, from: head)
        var entries: [LedgerEntry] = []
        // Read and validate every entry before judging any: one hostile entry fails the run.
        if let ledger {
            guard FileSystem.isDirectory(ledger) else {
                throw DriftError("\(ledger): ledger directory not found")
            }
            var reader = LedgerReader(ledger: canonicalPath(ledger) ?? ledger, upstream: upstream, rev: head)
            reader.history = history.commits
            entries += try reader.entryDirectories().map { try reader.read($0) }
        }
        if let prefix = ledgerRefs {
            var reader = LedgerReader(ledger: "", upstream: upstream, rev: head)
            reader.history = history.commits
            entries += try reader.readRefs(prefix: prefix)
        }
        var results: [EntryResult] = []
        for e in entries {
            var r = EntryResult(id: e.id, entry: e.name, host: e.host, base: e.base.hex,
                                firstSeen: e.firstSeen.map(Timestamp.format),
                                ageSeconds: e.firstSeen.map { Int(now.timeIntervalSince($0)) },
                                status: .missing, reason: nil, missing: [], expiredWaiver: nil, waiverExpires: nil)
            var missing: [String] = []
            for c in e.changes {
                let have = try headTree.entry(at: c.path)
                let ok: Bool
                if let blob = c.blob { ok = have?.id == blob && have?.mode == c.mode } else { ok = have == nil }
                if !ok { missing.append(PathBytes.display(c.path)) }
            }
            let waiver = policy?.waivers.first { $0.id == e.id }
            if history.reconciles(e.id) {
                r.status = .reconciled
                r.reason = .trailer
            } else if missing.isEmpty {
                r.status = .reconciled
                r.reason = .content
            } else if let w = waiver, w.isValid(at: now) {
                r.status = .waived
                r.reason = .waiver
                r.missing = missing
                r.waiverExpires = w.expiresText
            } else {
                r.missing = missing
                if let w = waiver { r.expiredWaiver = w.expiresText }
            }
            results.append(r)
        }
        results.sort { ($0.entry, $0.id) < ($1.entry, $1.id) }
        return Report(repo: repo, commit: head.hex, ok: results.allSatisfy { $0.status != .missing },
                      entries: results, image: nil)
    }
}
