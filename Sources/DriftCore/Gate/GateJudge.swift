import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The gate's verdict on one entry, given REV's trailers and tree (docs/gate.md, "Verdicts").
struct GateJudge {
    let history: ReconciledHistory
    let tree: TreeLookup
    let policy: Policy?
    let now: Date
    let head: ObjectID
    let inHistory: [ObjectID: Bool]
    /// Entry (by tip) → the latest later export of the same host whose chain holds it.
    private var supersededBy: [ObjectID: LedgerEntry] = [:]

    init(entries: [LedgerEntry], history: ReconciledHistory, tree: TreeLookup, policy: Policy?, now: Date,
         head: ObjectID, inHistory: [ObjectID: Bool]) {
        self.history = history
        self.tree = tree
        self.policy = policy
        self.now = now
        self.head = head
        self.inHistory = inHistory
        // A chain's tip supersedes every earlier export it carries, when both come from one
        // host and one base; the longest chain is the latest.
        let byTip = Dictionary(entries.map { ($0.tip, $0) }, uniquingKeysWith: { a, _ in a })
        for s in entries where s.invalid == nil && s.baseKnown {
            for c in s.earlier {
                guard let e = byTip[c], e.invalid == nil, e.rawHost == s.rawHost, e.base == s.base else { continue }
                if let known = supersededBy[c], known.earlier.count >= s.earlier.count { continue }
                supersededBy[c] = s
            }
        }
    }

    func judge(_ e: LedgerEntry) throws -> Gate.EntryResult {
        var r = Gate.EntryResult(id: e.id, entry: e.name, host: e.host, base: e.unread ? nil : e.base,
                                 firstSeen: e.firstSeen.map(Timestamp.format),
                                 ageSeconds: e.firstSeen.map { Int(now.timeIntervalSince($0)) },
                                 status: .missing, reason: nil, missing: [], withheld: nil, problem: nil,
                                 supersededBy: nil, expiredWaiver: nil, waiverExpires: nil)
        r.tip = e.unread ? nil : e.tip
        r.earlier = e.earlier
        if let why = e.invalid {
            r.status = .invalid
            r.problem = why
            return r
        }
        let waiver = policy?.waivers.first { $0.id == e.id.hex }
        let waived = waiver.map { $0.isValid(at: now) } ?? false
        let expired = waived ? nil : waiver?.expiresText
        func passByWaiver() -> Bool {
            guard waived, let w = waiver else { return false }
            r.status = .waived
            r.reason = .waiver
            r.waiverExpires = w.expiresText
            return true
        }
        guard e.baseKnown, inHistory[e.base] == true else {
            r.problem = "\(head.hex.prefix(12)) does not contain the image base \(e.base.hex) "
                + "(the commit is not built on the image's history)"
            if !passByWaiver() {
                r.status = .noBase
                r.expiredWaiver = expired
            }
            return r
        }
        // A superseded entry owes only the paths the later export left as it had them.
        let later = supersededBy[e.tip]
        var changes = e.changes
        var withheld = e.withheld
        if let s = later {
            r.supersededBy = s.id
            var latest: [[UInt8]: (GitFileMode?, ObjectID?)] = [:]
            for c in s.changes { latest[c.path] = (c.mode, c.blob) }
            changes = changes.filter { c in latest[c.path].map { $0 == c.mode && $1 == c.blob } ?? false }
            // Withheld code the later export still withholds is judged there; the rest was resolved.
            withheld = []
        }
        var missing: [String] = []
        for c in changes {
            let have = try tree.entry(at: c.path)
            let ok: Bool
            if let blob = c.blob { ok = have?.id == blob && have?.mode == c.mode } else { ok = have == nil }
            if !ok { missing.append(PathBytes.display(c.path)) }
        }
        let shown = withheld.map { w in
            Gate.WithheldResult(path: w.bytes.map(PathBytes.display) ?? w.path, change: w.change, reason: w.reason)
        }
        if !shown.isEmpty { r.withheld = shown }
        let reconciled: GateReason?
        if history.reconciles(e.id) {
            reconciled = .trailer
        } else if later != nil && changes.isEmpty {
            reconciled = .superseded
        } else if missing.isEmpty {
            reconciled = .content
        } else if e.contained && later == nil {
            reconciled = .contained
        } else {
            reconciled = nil
        }
        if let how = reconciled, shown.isEmpty {
            r.status = .reconciled
            r.reason = how
            return r
        }
        r.missing = reconciled == nil ? missing : []
        if passByWaiver() { return r }
        r.status = reconciled == nil ? .missing : .withheld
        r.expiredWaiver = expired
        return r
    }
}
