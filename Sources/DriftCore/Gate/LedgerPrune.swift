import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `drift prune`: ref retention for the fleet's ledger. Deletes the `refs/drift/*` of a
/// repository whose entries the gate finds *reconciled* in REV (by trailer, content,
/// containment or supersession — never a waiver) and that were exported longer ago than a
/// given age. Every ref is judged by the gate's own code first; a ref that fails a check is
/// `invalid` and kept, one not named by a drift id fails the whole run (nothing deleted), and
/// a ref that moved since it was judged is left alone.
public struct LedgerPrune {
    public var repo: [UInt8]
    public var rev = "HEAD"
    public var prefix = "refs/drift/"
    /// Only entries exported at least this long ago are deleted.
    public var olderThan: TimeInterval
    /// Decide, print, delete nothing.
    public var dryRun = false

    public init(repo: [UInt8], olderThan: TimeInterval) {
        self.repo = repo
        self.olderThan = olderThan
    }

    /// What happened to one ref.
    public struct Decision: Sendable {
        public var ref: String
        public var id: DriftID
        public var host: String
        /// Deleted (or, in a dry run, would be).
        public var delete: Bool
        /// Why, for people: `reconciled by trailer, exported …` or why it is kept.
        public var why: String
    }

    /// Judges every ref under the prefix against REV, then deletes the reconciled old ones.
    /// - Throws: what `Gate.run` throws (a ref not named by a drift id: nothing is deleted; a ref
    ///   that fails a check is an `invalid` entry, kept).
    public func run(now: Date) throws -> [Decision] {
        var gate = Gate(repo: repo, ledger: nil)
        gate.rev = rev
        gate.ledgerRefs = prefix
        let report = try gate.run(now: now)
        let upstream = try GitRepository(path: repo)
        let targets = Dictionary(try upstream.referenceTargets(under: prefix).map { ($0.name, $0.target) },
                                 uniquingKeysWith: { a, _ in a })
        var out: [Decision] = []
        // Refs that would go, by their index in `out`, with the commit they were judged at.
        var candidates: [Int: ObjectID] = [:]
        for e in report.entries {
            var d = Decision(ref: e.entry, id: e.id, host: e.host, delete: false, why: "")
            guard e.status == .reconciled, let how = e.reason, let target = targets[e.entry] ?? nil else {
                d.why = "\(e.status.rawValue), not reconciled"
                out.append(d)
                continue
            }
            let exported = try upstream.commitTime(target)
            let when = Timestamp.format(exported)
            guard now.timeIntervalSince(exported) >= olderThan else {
                d.why = "reconciled by \(how.rawValue), but exported \(when), within the age"
                out.append(d)
                continue
            }
            d.why = "reconciled by \(how.rawValue) in \(report.commit?.prefix(12) ?? "?"), exported \(when)"
            d.delete = true
            candidates[out.count] = target
            out.append(d)
        }
        Self.keepFollowed(&out, candidates: &candidates, entries: report.entries)
        if dryRun { return out }
        for (i, target) in candidates.sorted(by: { $0.key < $1.key }) {
            if try !upstream.deleteReference(out[i].ref, ifAt: target) {
                out[i].delete = false
                out[i].why = "the ref moved while it was judged"
            }
        }
        return out
    }

    /// A follow-up's patch applies only on the exports it follows (its bundle alone carries
    /// the chain): an entry that a kept entry follows (`Drift-Follows`, transitively) is kept.
    private static func keepFollowed(_ out: inout [Decision], candidates: inout [Int: ObjectID],
                                     entries: [Gate.EntryResult]) {
        var byTip: [ObjectID: [Int]] = [:]
        for i in candidates.keys {
            if let t = entries[i].tip { byTip[t, default: []].append(i) }
        }
        var kept = out.indices.filter { !out[$0].delete }
        while let k = kept.popLast() {
            for c in entries[k].earlier {
                for i in byTip[c] ?? [] where out[i].delete {
                    out[i].delete = false
                    out[i].why = "followed by drift \(out[k].id) (\(out[k].ref)), which is kept; " + out[i].why
                    candidates[i] = nil
                    kept.append(i)
                }
            }
        }
    }
}
