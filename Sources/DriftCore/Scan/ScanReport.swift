import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The scan's JSON report, schema `drift.scan/1` (docs/report-format.md).
///
/// Paths: `path` is the name as UTF-8; when the bytes are not valid UTF-8, `path`
/// shows them lossily and `path_bytes` carries the exact bytes in base64.
public struct ScanReport: Codable, Sendable {
    static let schema = "drift.scan/1"

    public struct File: Codable, Sendable {
        public var path: String
        var change: ChangeKind
        var fileClass: FileClass
        var firstSeen: String
        public var secret: Bool
        var oldType: FileKind?
        var newType: FileKind?
        var oldMode: String?
        var newMode: String?
        var oldSize: Int64?
        var newSize: Int64?
        var oldSHA256: Digest?
        var newSHA256: Digest?
        public var overdue: Bool?
        /// `suspicious-name` (control characters in the name), `secret-content` (code whose
        /// content is a secret's, withheld), `name-git-cannot-store` (a path git refuses in a
        /// tree, withheld by name), `over-read-limit` (added or resized and over 1 GiB: not read, its
        /// `new_sha256` stands for size, mtime and data extents); absent when none.
        public var flags: [String]?
        /// What few rows have, boxed (nil: none of it): a row of a report of a million paths
        /// is ~200 bytes, not ~350 (issue 28). The JSON is the same: these are its fields.
        private var rare: RareBox?

        var pathBytes: String? { rare?.value.pathBytes }
        var oldTarget: String? { rare?.value.oldTarget }
        var newTarget: String? { rare?.value.newTarget }
        var unstable: Bool? { rare?.value.unstable }
        /// When the deadline's clock restarted: an exported path that changed again (absent
        /// while the clock runs from `first_seen`).
        var clockStarted: String? { rare?.value.clockStarted }
        /// When, and as which drift id, this version of the path was exported; when pushed.
        var exportedAt: String? { rare?.value.exportedAt }
        var exportId: String? { rare?.value.exportId }
        /// When the export `export_id` names was made: `exported_at` unless a later export of
        /// the chain renamed it (withheld code is listed under the chain's latest export).
        var exportIdAt: String? { rare?.value.exportIdAt }
        var pushedAt: String? { rare?.value.pushedAt }
        /// The upstream commit that carries that export's id (`scan --upstream`).
        var reconciledIn: String? { rare?.value.reconciledIn }
        /// True when that export did not carry this path's content (withheld, or config/data by
        /// hash): no upstream commit reconciles it; code among them is reconciled by hand.
        var exportWithheld: Bool? { rare?.value.exportWithheld }

        init(path: String, pathBytes: String?, change: ChangeKind, fileClass: FileClass, firstSeen: String,
             secret: Bool, oldType: FileKind?, newType: FileKind?, oldMode: String?, newMode: String?,
             oldSize: Int64?, newSize: Int64?, oldSHA256: Digest?, newSHA256: Digest?,
             oldTarget: String?, newTarget: String?, unstable: Bool?, overdue: Bool?,
             clockStarted: String?, exportedAt: String?, exportId: String?, exportIdAt: String?,
             pushedAt: String?, reconciledIn: String?, exportWithheld: Bool?, flags: [String]?) {
            self.path = path
            self.change = change
            self.fileClass = fileClass
            self.firstSeen = firstSeen
            self.secret = secret
            self.oldType = oldType
            self.newType = newType
            self.oldMode = oldMode
            self.newMode = newMode
            self.oldSize = oldSize
            self.newSize = newSize
            self.oldSHA256 = oldSHA256
            self.newSHA256 = newSHA256
            self.overdue = overdue
            self.flags = flags
            let r = Rare(pathBytes: pathBytes, oldTarget: oldTarget, newTarget: newTarget, unstable: unstable,
                         clockStarted: clockStarted, exportedAt: exportedAt, exportId: exportId,
                         exportIdAt: exportIdAt, pushedAt: pushedAt, reconciledIn: reconciledIn,
                         exportWithheld: exportWithheld)
            rare = r == Rare() ? nil : RareBox(r)
        }

        enum CodingKeys: String, CodingKey {
            case path, change, secret, unstable, overdue, flags
            case pathBytes = "path_bytes"
            case fileClass = "class"
            case firstSeen = "first_seen"
            case oldType = "old_type", newType = "new_type"
            case oldMode = "old_mode", newMode = "new_mode"
            case oldSize = "old_size", newSize = "new_size"
            case oldSHA256 = "old_sha256", newSHA256 = "new_sha256"
            case oldTarget = "old_target", newTarget = "new_target"
            case clockStarted = "clock_started", exportedAt = "exported_at", exportId = "export_id",
                 exportIdAt = "export_id_at"
            case pushedAt = "pushed_at", reconciledIn = "reconciled_in", exportWithheld = "export_withheld"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(path: try c.decode(String.self, forKey: .path),
                      pathBytes: try c.decodeIfPresent(String.self, forKey: .pathBytes),
                      change: try c.decode(ChangeKind.self, forKey: .change),
                      fileClass: try c.decode(FileClass.self, forKey: .fileClass),
                      firstSeen: try c.decode(String.self, forKey: .firstSeen),
                      secret: try c.decode(Bool.self, forKey: .secret),
                      oldType: try c.decodeIfPresent(FileKind.self, forKey: .oldType),
                      newType: try c.decodeIfPresent(FileKind.self, forKey: .newType),
                      oldMode: try c.decodeIfPresent(String.self, forKey: .oldMode),
                      newMode: try c.decodeIfPresent(String.self, forKey: .newMode),
                      oldSize: try c.decodeIfPresent(Int64.self, forKey: .oldSize),
                      newSize: try c.decodeIfPresent(Int64.self, forKey: .newSize),
                      oldSHA256: try c.decodeIfPresent(Digest.self, forKey: .oldSHA256),
                      newSHA256: try c.decodeIfPresent(Digest.self, forKey: .newSHA256),
                      oldTarget: try c.decodeIfPresent(String.self, forKey: .oldTarget),
                      newTarget: try c.decodeIfPresent(String.self, forKey: .newTarget),
                      unstable: try c.decodeIfPresent(Bool.self, forKey: .unstable),
                      overdue: try c.decodeIfPresent(Bool.self, forKey: .overdue),
                      clockStarted: try c.decodeIfPresent(String.self, forKey: .clockStarted),
                      exportedAt: try c.decodeIfPresent(String.self, forKey: .exportedAt),
                      exportId: try c.decodeIfPresent(String.self, forKey: .exportId),
                      exportIdAt: try c.decodeIfPresent(String.self, forKey: .exportIdAt),
                      pushedAt: try c.decodeIfPresent(String.self, forKey: .pushedAt),
                      reconciledIn: try c.decodeIfPresent(String.self, forKey: .reconciledIn),
                      exportWithheld: try c.decodeIfPresent(Bool.self, forKey: .exportWithheld),
                      flags: try c.decodeIfPresent([String].self, forKey: .flags))
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encodeIfPresent(pathBytes, forKey: .pathBytes)
            try c.encode(change, forKey: .change)
            try c.encode(fileClass, forKey: .fileClass)
            try c.encode(firstSeen, forKey: .firstSeen)
            try c.encode(secret, forKey: .secret)
            try c.encodeIfPresent(oldType, forKey: .oldType)
            try c.encodeIfPresent(newType, forKey: .newType)
            try c.encodeIfPresent(oldMode, forKey: .oldMode)
            try c.encodeIfPresent(newMode, forKey: .newMode)
            try c.encodeIfPresent(oldSize, forKey: .oldSize)
            try c.encodeIfPresent(newSize, forKey: .newSize)
            try c.encodeIfPresent(oldSHA256, forKey: .oldSHA256)
            try c.encodeIfPresent(newSHA256, forKey: .newSHA256)
            try c.encodeIfPresent(oldTarget, forKey: .oldTarget)
            try c.encodeIfPresent(newTarget, forKey: .newTarget)
            try c.encodeIfPresent(unstable, forKey: .unstable)
            try c.encodeIfPresent(overdue, forKey: .overdue)
            try c.encodeIfPresent(clockStarted, forKey: .clockStarted)
            try c.encodeIfPresent(exportedAt, forKey: .exportedAt)
            try c.encodeIfPresent(exportId, forKey: .exportId)
            try c.encodeIfPresent(exportIdAt, forKey: .exportIdAt)
            try c.encodeIfPresent(pushedAt, forKey: .pushedAt)
            try c.encodeIfPresent(reconciledIn, forKey: .reconciledIn)
            try c.encodeIfPresent(exportWithheld, forKey: .exportWithheld)
            try c.encodeIfPresent(flags, forKey: .flags)
        }
    }

    /// A report row's rarely set fields (`File.rare`).
    struct Rare: Sendable, Equatable {
        var pathBytes: String?
        var oldTarget: String?
        var newTarget: String?
        var unstable: Bool?
        var clockStarted: String?
        var exportedAt: String?
        var exportId: String?
        var exportIdAt: String?
        var pushedAt: String?
        var reconciledIn: String?
        var exportWithheld: Bool?
    }

    /// `Rare` behind one pointer, immutable (rows are built once and only read).
    final class RareBox: Sendable {
        let value: Rare
        init(_ value: Rare) { self.value = value }
    }

    public struct Issue: Codable, Sendable {
        public var path: String
        var pathBytes: String?
        public var message: String
        enum CodingKeys: String, CodingKey {
            case path, message
            case pathBytes = "path_bytes"
        }
    }

    public struct Summary: Codable, Sendable {
        var checked: Int
        public var hashed: Int
        /// Drifted workspace paths (site-packages drift is `pip`, never counted here).
        var drifted: Int
        /// Site-packages changes that are drift (allowed packages excluded).
        var pip: Int = 0
        public var errors: Int
        var byClass: [String: Int]
        var byChange: [String: Int]
        /// RECORD entries verified in site-packages, and how many were read (not cached).
        var pipChecked: Int = 0
        var pipHashed: Int = 0
        /// Drift items past the policy deadline (exported ones never are).
        public var overdue: Int = 0
        /// Drifted paths whose current version was exported (pushed, with `deadline_stop: push`).
        public var exported: Int = 0
        /// Drifted paths whose export the upstream has taken (`scan --upstream`): waiting for redeploy.
        public var reconciled: Int = 0
        /// The earliest `first_seen` of current drift (nil when clean).
        var oldestFirstSeen: String?
        /// False in an export's `report.json`: `hashed` and `pip_hashed` are left out there.
        /// They count this scan's cache misses and re-verification slice (which moves with the
        /// scan counter and the clock), not the drift: the same drift must export as the same
        /// bytes and ledger commit, also when a rerun follows a crashed export whose scan was counted.
        var showsCacheWork = true
        enum CodingKeys: String, CodingKey {
            case checked, hashed, drifted, pip, errors, overdue, exported, reconciled
            case oldestFirstSeen = "oldest_first_seen"
            case pipChecked = "pip_checked", pipHashed = "pip_hashed"
            case byClass = "by_class"
            case byChange = "by_change"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(checked, forKey: .checked)
            if showsCacheWork {
                try c.encode(hashed, forKey: .hashed)
                try c.encode(pipHashed, forKey: .pipHashed)
            }
            try c.encode(drifted, forKey: .drifted)
            try c.encode(pip, forKey: .pip)
            try c.encode(errors, forKey: .errors)
            try c.encode(byClass, forKey: .byClass)
            try c.encode(byChange, forKey: .byChange)
            try c.encode(pipChecked, forKey: .pipChecked)
            try c.encode(overdue, forKey: .overdue)
            try c.encode(exported, forKey: .exported)
            try c.encode(reconciled, forKey: .reconciled)
            try c.encodeIfPresent(oldestFirstSeen, forKey: .oldestFirstSeen)
        }
    }

    var schema = ScanReport.schema
    public var commit: String
    public var root: String
    public var host: String
    var scannedAt: String
    /// No drift and nothing left unread: a scan that could not read something is never clean.
    public var clean: Bool
    /// Every entry could be read (false: see `errors`; exit 3 when there is no drift).
    var complete: Bool
    /// One row a drifted path (built on each read when the report makes them as read: `rows`).
    public var files: [File] {
        get { rows.all }
        set { rows = Rows(newValue) }
    }
    /// The rows, made from the drifted list as they are read unless built (`Rows`).
    var rows: Rows
    var pip: [PipChange]
    public var errors: [Issue]
    public var summary: Summary
    /// In an export's `report.json`: the export this one follows (absent otherwise).
    var follows: String?
    /// A scan beside a `drift watch`: whether the watcher's answer was used (absent when no
    /// watcher ever used the state dir).
    public var watcher: WatcherUse?

    enum CodingKeys: String, CodingKey {
        case schema, commit, root, host, clean, complete, files, pip, errors, summary, follows, watcher
        case scannedAt = "scanned_at"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(String.self, forKey: .schema)
        commit = try c.decode(String.self, forKey: .commit)
        root = try c.decode(String.self, forKey: .root)
        host = try c.decode(String.self, forKey: .host)
        scannedAt = try c.decode(String.self, forKey: .scannedAt)
        clean = try c.decode(Bool.self, forKey: .clean)
        complete = try c.decode(Bool.self, forKey: .complete)
        rows = Rows(try c.decode([File].self, forKey: .files))
        pip = try c.decode([PipChange].self, forKey: .pip)
        errors = try c.decode([Issue].self, forKey: .errors)
        summary = try c.decode(Summary.self, forKey: .summary)
        follows = try c.decodeIfPresent(String.self, forKey: .follows)
        watcher = try c.decodeIfPresent(WatcherUse.self, forKey: .watcher)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(commit, forKey: .commit)
        try c.encode(root, forKey: .root)
        try c.encode(host, forKey: .host)
        try c.encode(scannedAt, forKey: .scannedAt)
        try c.encode(clean, forKey: .clean)
        try c.encode(complete, forKey: .complete)
        try c.encode(files, forKey: .files)
        try c.encode(pip, forKey: .pip)
        try c.encode(errors, forKey: .errors)
        try c.encode(summary, forKey: .summary)
        try c.encodeIfPresent(follows, forKey: .follows)
        try c.encodeIfPresent(watcher, forKey: .watcher)
    }

    /// The flags of one change (nil when none).
    static func flags(_ c: FileChange) -> [String]? {
        var f: [String] = []
        if c.secretContent { f.append("secret-content") }
        if c.overReadLimit { f.append("over-read-limit") }
        if PathBytes.isSuspicious(c.path) { f.append("suspicious-name") }
        // The journal withholds it by this same verdict (`DriftTreeBuilder.storable`).
        if DriftTreeBuilder.carriesContent(c), let new = c.new, !DriftTreeBuilder.storable(c.path, new) {
            f.append("name-git-cannot-store")
        }
        return f.isEmpty ? nil : f
    }

    /// Encodes a path losslessly (see the type's doc comment).
    static func pathFields(_ p: [UInt8]) -> (String, String?) {
        if let s = String(validating: p, as: UTF8.self) { return (s, nil) }
        return (PathBytes.display(p), Data(p).base64EncodedString())
    }

    public init(commit: String, root: [UInt8], host: String, scannedAt: Date, changes: [FileChange],
                pip: [PipChange], issues: [WalkIssue], checked: Int, hashed: Int, deadline: Deadline?, now: Date,
                duties: [[UInt8]: ExportDuty] = [:]) {
        self.init(commit: commit, root: root, host: host, scannedAt: scannedAt, changes: changes, pip: pip,
                  issues: issues, checked: checked, hashed: hashed, deadline: deadline, now: now,
                  duty: { duties[$0.path] })
    }

    /// The report, asking `duty` for each drifted path's export duty as its row is built: a
    /// million drifted paths are not a million-entry dictionary beside the report (issue 28).
    init(commit: String, root: [UInt8], host: String, scannedAt: Date, changes: [FileChange],
         pip: [PipChange], issues: [WalkIssue], checked: Int, hashed: Int, deadline: Deadline?, now: Date,
         duty dutyOf: (FileChange) -> ExportDuty?, lazyRows: Bool = false) {
        self.init(commit: commit, root: root, host: host, scannedAt: scannedAt, changes: changes, pip: pip,
                  issues: issues, checked: checked, hashed: hashed, deadline: deadline, now: now,
                  rows: Rows(changes: changes, deadline: deadline, now: now, duty: dutyOf), lazyRows: lazyRows)
    }

    /// The report with its duties looked up already (`DutyLookup.duties(of:)`).
    init(commit: String, root: [UInt8], host: String, scannedAt: Date, changes: [FileChange],
         pip: [PipChange], issues: [WalkIssue], checked: Int, hashed: Int, deadline: Deadline?, now: Date,
         duties: DutyLookup, lazyRows: Bool = false) {
        self.init(commit: commit, root: root, host: host, scannedAt: scannedAt, changes: changes, pip: pip,
                  issues: issues, checked: checked, hashed: hashed, deadline: deadline, now: now,
                  rows: Rows(changes: changes, deadline: deadline, now: now, duties: duties.duties(of: changes)),
                  lazyRows: lazyRows)
    }

    private init(commit: String, root: [UInt8], host: String, scannedAt: Date, changes: [FileChange],
                 pip: [PipChange], issues: [WalkIssue], checked: Int, hashed: Int, deadline: Deadline?, now: Date,
                 rows made: Rows, lazyRows: Bool) {
        self.commit = commit
        self.root = PathBytes.display(root)
        self.host = host
        self.scannedAt = Timestamp.format(scannedAt)
        // Paths folded into one state summary share one first sighting: formatted once per run
        // of equal times, so their rows share one string instead of one allocation each.
        rows = made
        let (exported, reconciled, overdue) = rows.tally()
        if !lazyRows { rows = rows.eager }
        self.pip = pip
        errors = issues.map { i in
            let (p, pb) = ScanReport.pathFields(i.path)
            return Issue(path: p, pathBytes: pb, message: i.message)
        }
        let driftPip = pip.filter { !$0.allowed }
        complete = issues.isEmpty
        clean = changes.isEmpty && driftPip.isEmpty && complete
        // Counted by the enums, named once each (not two String-keyed updates a change).
        var classCounts: [FileClass: Int] = [:]
        var changeCounts: [ChangeKind: Int] = [:]
        var oldest: Date?
        changes.withUnsafeBufferPointer { cs in
            for k in cs.indices {
                classCounts[cs[k].fileClass, default: 0] += 1
                changeCounts[cs[k].change, default: 0] += 1
                let seen = cs[k].firstSeen
                if oldest.map({ seen < $0 }) ?? true { oldest = seen }
            }
        }
        var byClass: [String: Int] = [:]
        var byChange: [String: Int] = [:]
        for (k, n) in classCounts { byClass[k.rawValue] = n }
        for (k, n) in changeCounts { byChange[k.rawValue] = n }
        summary = Summary(checked: checked, hashed: hashed, drifted: changes.count,
                          errors: issues.count, byClass: byClass, byChange: byChange)
        summary.pip = driftPip.count
        summary.overdue = overdue
        summary.exported = exported
        summary.reconciled = reconciled
        summary.oldestFirstSeen = oldest.map(Timestamp.format)
    }

    /// What the scan found: drift, nothing, or nothing among what could be read.
    public var outcome: ScanOutcome {
        if hasDrift { return .drift }
        return complete ? .clean : .incomplete
    }

    /// The outcome as `--fail-on` judges it: with `.overdue`, drift that is not yet overdue
    /// counts as clean (cron alerts only past the deadline).
    /// - Parameter failOn: what makes a scan fail.
    /// - Returns: `outcome`, or `.clean` for drift that is not overdue under `.overdue`.
    public func outcome(failingOn failOn: FailOn) -> ScanOutcome {
        if failOn == .overdue && outcome == .drift && summary.overdue == 0 { return .clean }
        return outcome
    }

    /// Some file or pip drift was found (whatever else could not be read).
    public var hasDrift: Bool { !rows.isEmpty || pip.contains { !$0.allowed } }
}

/// What makes a scan fail (`--fail-on`).
public enum FailOn: String, Sendable, CaseIterable {
    /// Any drift.
    case drift
    /// Only drift past its deadline.
    case overdue
}

/// A scan's result. Which code `drift scan` exits with is `DriftCLI/ExitCodes.swift`'s choice
/// alone; the number files record for it is `recordedCode`.
public enum ScanOutcome: Sendable, CaseIterable {
    case clean
    case drift
    /// No drift among what could be read, but some entries could not be read.
    case incomplete

    /// The number state.json's `last_exit_code` and the `--log` line's `exit_code` have always
    /// held for this outcome (docs/state.md, docs/operations.md): a file format, kept as it is.
    /// It equals the CLI's exit code by design; `ExitCodeTests` checks that they still agree.
    public var recordedCode: Int32 {
        switch self {
        case .clean: return 0
        case .drift: return 1
        case .incomplete: return 3
        }
    }

    /// The outcome a recorded `last_exit_code` stands for; nil for a number no outcome records.
    public init?(recordedCode: Int) {
        guard let o = Self.allCases.first(where: { Int($0.recordedCode) == recordedCode }) else { return nil }
        self = o
    }
}
