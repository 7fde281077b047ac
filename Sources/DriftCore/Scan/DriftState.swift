import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the state dir remembers between scans: when each drifted path was first seen,
/// and the last scan's summary (docs/state.md).
public struct DriftState: Codable, Sendable {
    static let schema = "drift.state/1"

    public struct Item: Codable, Sendable, Equatable {
        /// Path, percent-escaped as in the manifest.
        public var path: String
        var firstSeen: String
        var change: ChangeKind
        var fileClass: FileClass?
        /// Set on a summary item: `count` drifted paths of this change and class below the
        /// directory `path` (escaped, ending in `/`; empty for the root), first seen at
        /// `firstSeen` at the earliest (`StateSummary`).
        var count: Int?
        /// What the path holds now, in one hash (`ExportDuty.fingerprint`): an export
        /// remembers it, and a later scan that sees another value restarts the clock.
        var fingerprint: Digest?
        /// When the deadline's clock started: absent while it is `first_seen`; the scan
        /// that saw an exported path change again sets it.
        var clockStarted: String?
        /// When and as which drift id this path's current version was exported.
        var exportedAt: String?
        var exportId: String?
        /// When the export `export_id` names was made, when it is not the one that stopped the
        /// clock (`exported_at`): withheld code is listed under a chain's latest export.
        var exportIdAt: String?
        /// `fingerprint` at that export.
        var exportedFingerprint: Digest?
        /// When that export (or a later one carrying it) was pushed.
        var pushedAt: String?
        /// The upstream commit that carries that export's `Drift-Id` (`scan --upstream`).
        var reconciledIn: String?
        /// That export did not carry this path's content (a secret, code carrying one, data
        /// by hash, a name git cannot store): an upstream commit naming the export
        /// does not hold it, so it is never "reconciled upstream" (the gate says "withheld").
        var exportWithheld: Bool?
        enum CodingKeys: String, CodingKey {
            case path, change, fingerprint, count
            case firstSeen = "first_seen"
            case fileClass = "class"
            case clockStarted = "clock_started"
            case exportedAt = "exported_at"
            case exportId = "export_id"
            case exportIdAt = "export_id_at"
            case exportedFingerprint = "exported_fingerprint"
            case pushedAt = "pushed_at"
            case reconciledIn = "reconciled_in"
            case exportWithheld = "export_withheld"
        }
    }

    var schema: String = DriftState.schema
    public var commit: String
    var items: [Item] = []
    var lastScan: String?
    var lastExitCode: Int?
    var lastExport: String?
    var lastExportId: String?
    /// The export the next follow-up stacks on: the last export of the latest drift (an
    /// `export --snapshot` of an older state does not move it); nil: `lastExportId`.
    var chainTip: String?
    /// Export ids pushed, by remote URL (so a re-run pushes nothing).
    public var pushed: [String: [String]]?
    var lastPush: String?
    /// `Journal.fingerprint` of the drift last recorded in full.
    var journalFingerprint: Digest?
    /// Scans run with this state dir: picks each scan's re-verification slice.
    var scans: Int?
    /// Site-packages drift as last recorded (allowed packages left out; absent when none),
    /// so `drift status` lists it beside the drifted paths.
    var pip: [PipChange]?
    /// When the last full scan's re-verification slice ended (`ReverifySlice`: the next one
    /// covers what the clock moved over since).
    var reverifiedAt: String?
    /// The main process's secret-named variables earlier runs read (`SecretSourceMemory`).
    var secretSources: SecretSourceMemory?
    /// Salted digests of the secret values `drift forget` purged or a run learned after content
    /// was journaled (`ForgottenValues`, docs/secrets.md "Forgotten sources remembered").
    var forgottenSources: ForgottenValues?
    /// How many distinct secret values the last run knew (`SecretIndex.valueCount`): a run
    /// that knows more says content journaled before may hold one (`drift forget`).
    var secretValues: Int?
    /// Why the last scan withheld every drifted file's content (`SecretIndex.withholdingCause`:
    /// the missing secret sources and the remedy), nil when it did not: `drift status` says it
    /// (incident 12, F11: only the boot scan's discarded report did).
    var withholding: String?
    /// Why this state was rebuilt instead of read (a damaged or oversized `state.json`, a
    /// `state.log` record that does not decode); never written. The next locked write keeps
    /// the damaged file aside first and writes `state.json` whole.
    var recovered: StateRecovery.Cause?
    /// Which `state.json` and `state.log` this state was read from (`StateLog`); never written.
    var origin: StateLog.Origin?

    enum CodingKeys: String, CodingKey {
        case schema, commit, items
        case lastScan = "last_scan"
        case lastExitCode = "last_exit_code"
        case lastExport = "last_export"
        case lastExportId = "last_export_id"
        case chainTip = "chain_tip"
        case pushed
        case lastPush = "last_push"
        case journalFingerprint = "journal_fingerprint"
        case scans, pip
        case reverifiedAt = "reverified_at"
        case secretSources = "secret_sources"
        case forgottenSources = "forgotten_sources"
        case secretValues = "secret_values"
        case withholding
    }
    // `recovered` is not a key: it is never written.

    public init(commit: String) { self.commit = commit }

    /// Keeps first-seen times of paths that are still drifted; new ones get the scan's time.
    /// A drifted path that could not be read this time (`unreadable`) is still drifted as far
    /// as anyone knows: it keeps its item and first sighting (a `chmod 000` must not restart a
    /// deadline).
    ///
    /// An exported path keeps its export while it holds what was exported; once it holds
    /// something else, the export no longer covers it and its clock restarts at this scan.
    /// A path a summary item stands for (`SummaryIndex.stands`: its change and class, below its
    /// directory) takes the summary's first sighting and export (a summary keeps no per-path
    /// fingerprint); a path of another change or class gets its own.
    /// - Returns: how many unreadable drifted paths were kept (not in `changes`).
    /// - Parameter memo: the last merge's derivation (`drift watch`): a change equal to the one
    ///   it left (`inputKey`), whose own item and covering summaries are unchanged, keeps the
    ///   entry made then (its index again when plain, its built item otherwise).
    @discardableResult
    /// - Parameter splice: how `changes` differs from the list of generation `splice.from`
    ///   (`ChangeSplice`); `generation`: the list's own (a watcher's record). A memo of
    ///   `splice.from` gives the untouched changes their entries and runs by position: only the
    ///   hunks and what `MergeInvalidation` names are derived, and the fold works on runs.
    mutating func merge(_ changes: inout [FileChange], unreadable: [[UInt8]] = [],
                        memo: DerivationMemo? = nil, splice: ChangeSplice? = nil,
                        generation: UInt64? = nil) throws -> Int {
        // Kept unreadable items are placed among the others by a sort: no memo for those runs.
        let prior = unreadable.isEmpty ? memo?.takeMerged() : nil
        if !unreadable.isEmpty { memo?.setMerged(nil) }
        let loadedItems = items
        var old: [String: Date] = [:]
        var before: [String: Item] = [:]
        let summaries = SummaryIndex(items)
        for i in items where i.count == nil {
            old[i.path] = Timestamp.parse(i.firstSeen)
            before[i.path] = i
        }
        let unknown = Set(unreadable.map { PathBytes.escape($0) })
        let current = unknown.isEmpty ? [] : Set(changes.map { PathBytes.escape($0.path) })
        let kept = unknown.isEmpty ? [] : items.filter {
            $0.count == nil && unknown.contains($0.path) && !current.contains($0.path)
        }
        // Paths folded into one summary share its sighting: parsed and formatted once, not per path.
        var summarySeen: [String: Date?] = [:]
        var times = TimestampRun()
        func derive(_ k: Int) throws -> Item {
            let key = PathBytes.escape(changes[k].path)
            let seenNow = changes[k].firstSeen
            let change = changes[k].change
            let fileClass = changes[k].fileClass
            var prior = before[key]
            // A path an older fold wrongly covered: the export it inherited was the summary's and
            // goes; its sighting stays (no later than its own, so its deadline comes no later: a
            // heal that restarted the clock would hide it once more, incident 12 F8 verified).
            var healedSeen: Date?
            if let p = prior, summaries.inheritedWrongly(key, p, change: change, fileClass: fileClass) {
                healedSeen = old[p.path]
                prior = nil
            }
            let summary = prior == nil ? summaries.covering(key, change: change, fileClass: fileClass) : nil
            let summaryTime = summary.flatMap { s in
                if let held = summarySeen[s.firstSeen] { return held }
                let t = Timestamp.parse(s.firstSeen)
                summarySeen[s.firstSeen] = .some(t)
                return t
            }
            if let t = prior.flatMap({ old[$0.path] }) ?? healedSeen ?? summaryTime { changes[k].firstSeen = t }
            var item = Item(path: key,
                            firstSeen: times.format(changes[k].firstSeen),
                            change: changes[k].change,
                            fileClass: changes[k].fileClass)
            item.fingerprint = try ExportDuty.fingerprint(changes[k])
            if let prior {
                item.carryDuty(from: prior, restartingAt: seenNow)
            } else if let summary {
                item.clockStarted = summary.clockStarted
                item.exportedAt = summary.exportedAt
                item.exportId = summary.exportId
                item.exportIdAt = summary.exportIdAt
                item.pushedAt = summary.pushedAt
                item.exportWithheld = summary.exportWithheld
                item.exportedFingerprint = summary.exportedAt == nil ? nil : item.fingerprint
            }
            return item
        }
        // A plain item is its change's index until the fold keeps it (`StateFold`), with a memo
        // as without: the memo keeps per change a key and an entry, not an item (issue 28).
        let invalid = prior.map { MergeInvalidation($0.loaded, loadedItems) }
        // A watcher's batch whose splice starts at the memo's list: untouched changes are the
        // ones merged then, so their entries are taken by position, without a key (round 13).
        let spliced: (prior: DerivationMemo.Merged, splice: ChangeSplice, redo: [Int])?
        if let prior, let splice, let invalid, generation != nil, prior.describes(splice),
           splice.newCount == changes.count, let redo = invalid.positions(changes) {
            spliced = (prior, splice, redo)
        } else {
            spliced = nil
        }
        var next = memo != nil && unreadable.isEmpty
            ? DerivationMemo.Merged(loaded: loadedItems, capacity: changes.count, generation: generation) : nil
        let keyed = generation == nil
        var fold = StateFold()
        fold.entries.reserveCapacity(changes.count + kept.count)
        var j = 0, cursor = 0, reused = 0
        if let spliced {
            let prior = spliced.prior
            var r = 0
            var k = 0
            func fresh(_ k: Int) throws {
                let item = try derive(k)
                let e = StateFold.isPlain(item) ? k : fold.add(item)
                fold.entries.append(e)
                next?.entries.append(e >= 0 ? -1 : Int32(~e))
            }
            for s in spliced.splice.untouched {
                while k < s.new.lowerBound {
                    try fresh(k)
                    k += 1
                }
                let shift = s.old - s.new.lowerBound
                for n in s.new {
                    while r < spliced.redo.count && spliced.redo[r] < n { r += 1 }
                    if r < spliced.redo.count && spliced.redo[r] == n {
                        try fresh(n)
                        continue
                    }
                    let was = prior.entries[n + shift]
                    let e = was < 0 ? n : fold.add(prior.built[Int(was)])
                    fold.entries.append(e)
                    next?.entries.append(e >= 0 ? -1 : Int32(~e))
                    reused += 1
                }
                k = s.new.upperBound
            }
            while k < changes.count {
                try fresh(k)
                k += 1
            }
        } else {
            for k in changes.indices {
                var entry: Int?
                var key: InputKey?
                if let prior, let invalid, prior.generation == nil {
                    let p = changes[k].path
                    // Shared path arrays compare equal at once (`==` checks the buffer first).
                    while j < prior.paths.count && prior.paths[j] != p && bytesLess(prior.paths[j], p) { j += 1 }
                    if j < prior.paths.count, prior.paths[j] == p {
                        let given = changes[k].inputKey()
                        if given == prior.keys[j], !invalid.contains(p, cursor: &cursor) {
                            let e = Int(prior.entries[j])
                            entry = e < 0 ? k : fold.add(prior.built[e])
                            key = given
                            reused += 1
                        }
                    }
                }
                let e: Int
                if let entry {
                    e = entry
                } else {
                    let item = try derive(k)
                    e = StateFold.isPlain(item) ? k : fold.add(item)
                }
                fold.entries.append(e)
                if next != nil {
                    if keyed {
                        next?.paths.append(changes[k].path)
                        next?.keys.append(key ?? changes[k].inputKey())
                    }
                    next?.entries.append(e >= 0 ? -1 : Int32(~e))
                }
            }
        }
        next?.built = fold.built
        fold.changes = changes
        // The entries' runs (`FoldRun`): the fold works on them; the memo keeps them for the next
        // batch, which takes its untouched ones as they are.
        var runs: [FoldRun]?
        if kept.isEmpty {
            let limit = DerivationMemo.Merged.runLimit(fold.entries.count)
            if let spliced, let old = spliced.prior.runs {
                runs = Self.spliceRuns(old, spliced.splice, redo: spliced.redo, &fold, limit: limit)
            } else {
                runs = fold.runs(in: fold.entries.indices, limit: limit)
            }
        } else {
            for i in kept { fold.entries.append(fold.add(i)) }
            fold.sortByPath()
        }
        items = []
        if let runs {
            StateSummary.apply(&fold, runs: runs)
        } else {
            StateSummary.apply(&fold)
        }
        items = try fold.items()
        if let memo, var next {
            memo.reusedItems.withLock { $0 += reused }
            if spliced != nil { memo.splicedMerges.withLock { $0 += 1 } }
            if runs != nil { memo.runMerges.withLock { $0 += 1 } }
            next.runs = runs
            memo.setMerged(next)
        }
        return kept.count
    }

    /// The runs of a merge's entries from the last merge's (`old`): those wholly in a segment
    /// `splice` left untouched and holding no position in `redo` move along; the rest is read
    /// again from `fold`, and neighbours of one key are joined. Nil beyond `limit` runs.
    static func spliceRuns(_ old: [FoldRun], _ splice: ChangeSplice, redo: [Int], _ fold: inout StateFold,
                           limit: Int) -> [FoldRun]? {
        var moved: [FoldRun] = []
        var r = 0
        for s in splice.untouched {
            let lo = s.old
            let hi = s.old + s.new.count
            while r < old.count && old[r].range.upperBound <= lo { r += 1 }
            while r < old.count && old[r].range.lowerBound < hi {
                if old[r].range.lowerBound >= lo && old[r].range.upperBound <= hi {
                    let run = old[r].shifted(s.new.lowerBound - s.old)
                    // The first redone position at or after the run's start.
                    var a = 0
                    var b = redo.count
                    while a < b {
                        let mid = (a + b) / 2
                        if redo[mid] < run.range.lowerBound { a = mid + 1 } else { b = mid }
                    }
                    if a == redo.count || redo[a] >= run.range.upperBound { moved.append(run) }
                }
                if old[r].range.upperBound > hi { break }
                r += 1
            }
        }
        var out: [FoldRun] = []
        func push(_ run: FoldRun) {
            if let last = out.last, last.joins(run) {
                out[out.count - 1].absorb(run)
            } else {
                out.append(run)
            }
        }
        var at = 0
        for run in moved {
            if at < run.range.lowerBound {
                guard let gap = fold.runs(in: at..<run.range.lowerBound, limit: limit) else { return nil }
                gap.forEach(push)
            }
            push(run)
            at = run.range.upperBound
            if out.count > limit { return nil }
        }
        if at < fold.entries.count {
            guard let gap = fold.runs(in: at..<fold.entries.count, limit: limit) else { return nil }
            gap.forEach(push)
        }
        return out.count > limit ? nil : out
    }
}

/// The state directory (SDIR): `state.json`, `statcache`, `journal.git/`, `lock`.
public struct StateDirectory: Sendable {
    /// The directory's name as bytes (`--state` or `$DRIFT_STATE` as given, not UTF-8 too).
    public let path: [UInt8]
    static let defaultPath = Array("/var/lib/drift".utf8)
    /// Test hook: counts reads of `state.json` (nil: not counted).
    var reads: ReadCounter?

    public init(path: [UInt8]?) { self.path = path.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultPath }

    /// `path` for messages, through the one quoting function.
    public var shown: String { PathBytes.display(path) }

    /// A file in the directory, as bytes.
    public func file(_ name: String) -> [UInt8] { path + Array("/\(name)".utf8) }

    /// A state directory named by text (a literal, a test's temp dir).
    init(path: String) { self.init(path: Array(path.utf8)) }

    /// Creates the directory 0700 if needed; refuses one another user owns and tightens one
    /// others can read (the CLI checks first, to say so: `PrivateDirectory.secure`).
    func ensure() throws {
        try AtomicFile.makeDirectory(path, mode: 0o700)
        _ = try PrivateDirectory.secure(path)
    }

    /// Largest `state.json` read; what drift writes stays far below it (`StateSummary`).
    static let stateReadLimit = 256 << 20

    /// Loads state for `commit`; an SDIR from another base commit is refused. A damaged or
    /// oversized `state.json` is not an error (that would be an exit-2 loop until a person
    /// steps in): the state is rebuilt from the journal's latest snapshot, which keeps every
    /// recorded path's first sighting, and `recovered` says why (`StateRecovery`).
    func loadState(commit: String, memo: StateMemo? = nil) throws -> DriftState {
        if let held = memo?.get(self), held.commit == commit { return held }
        let locked = StateLock.holds(self)
        if locked { try StateArchive.finishPartial(self, commit: commit) }
        let f = file("state.json")
        reads?.count(.state)
        if FileSystem.isAbsent(f) {
            if let owner = StateArchive.journalOwner(self), owner != commit {
                return try foreignState(owner: owner, commit: commit, locked: locked)
            }
            return DriftState(commit: commit)
        }
        let stat = try? lstatBytes(f).get()
        if let info = stat, info.kind == .regular, info.size > Int64(Self.stateReadLimit) {
            return StateRecovery.rebuild(self, commit: commit,
                                         why: "\(PathBytes.display(f)) is larger than \(Self.stateReadLimit) bytes")
        }
        let bytes = try readWholeFile(f, limit: Self.stateReadLimit, followSymlinks: false)
        var s: DriftState
        do { s = try JSONDecoder().decode(DriftState.self, from: Data(bytes)) } catch {
            if let owner = StateArchive.journalOwner(self), owner != commit {
                return try foreignState(owner: owner, commit: commit, locked: locked)
            }
            let why = "\(PathBytes.display(f)) is damaged (\(errorText(error)))"
            return StateRecovery.rebuild(self, commit: commit, why: why)
        }
        guard s.schema == DriftState.schema else {
            throw DriftError(.stateDamaged, path: f, "unsupported state schema '\(s.schema)'")
        }
        guard s.commit == commit else {
            return try foreignState(owner: s.commit, commit: commit, locked: locked, pushed: s.pushed ?? [:])
        }
        let baseID = try SHA256Hasher.digest(bytes).bytes
        var end = 0, damaged = false
        let logFile = file(StateLog.name)
        if !FileSystem.isAbsent(logFile) {
            let logStat = try? lstatBytes(logFile).get()
            if let l = logStat, l.kind == .regular, l.size > Int64(Self.stateReadLimit) {
                // Never written by drift (a log stays under its base's size): recovered, not
                // an exit-2 loop.
                damaged = true
                let why = "\(PathBytes.display(logFile)) is larger than \(Self.stateReadLimit) bytes"
                StateRecovery.refill(&s, self, why: why)
            } else {
                let log = try readWholeFile(logFile, limit: Self.stateReadLimit, followSymlinks: false)
                let folded = StateLog.fold(log, into: &s, baseID: baseID)
                end = folded.end
                damaged = end != log.count || !folded.skipped.isEmpty
                if !folded.skipped.isEmpty {
                    let why = "\(PathBytes.display(logFile)): " + folded.skipped.joined(separator: "; ")
                    StateRecovery.refill(&s, self, why: why)
                }
            }
        }
        if let stat {
            s.origin = StateLog.Origin(baseID: baseID, baseSize: bytes.count, baseStat: stat, logEnd: end,
                                       logDamaged: damaged)
        }
        return s
    }

    /// The state of base `owner` met by a run for `commit` (a redeploy that kept the state
    /// volume): a run holding the lock moves it to `previous/` and starts clean; a reader
    /// without the lock (a watcher's walk before it locks) sees no state yet. An archive
    /// itself is never archived again: refused.
    private func foreignState(owner: String, commit: String, locked: Bool,
                              pushed: [String: [String]]? = nil) throws -> DriftState {
        if StateArchive.isArchive(self) { throw StateArchive.refusal(self, owner: owner, commit: commit) }
        if locked { try StateArchive.archive(self, owner: owner, commit: commit, now: Date(), pushed: pushed) }
        return DriftState(commit: commit)
    }

    /// Writes `s`. With `appendingTo` (the state as this run loaded it, a `drift watch` batch),
    /// appends what changed since to `state.log` while that is what is on disk and the log
    /// stays under `StateLog.bound`; otherwise writes `state.json` whole and removes the log.
    /// `durable: false` skips making the rename itself durable (the directory's fsync): for a
    /// scan that changed only its counters, where a crash leaving the previous, complete
    /// `state.json` in place loses nothing but those counters.
    func saveState(_ s: DriftState, durable: Bool = true, appendingTo old: DriftState? = nil,
                   memo: StateMemo? = nil) throws {
        var s = s
        StateLog.canonicalOrder(&s.items)
        memo?.set(nil, self)
        if s.recovered == nil, let old, let o = old.origin, stateOnDisk(o),
           let end = try append(s, old: old, origin: o) {
            s.origin = o
            s.origin?.logEnd = end
            s.origin?.logDamaged = false
            memo?.set(s, self)
            return
        }
        if let cause = s.recovered { try StateRecovery.moveAside(self, cause) }
        let bytes = try JSONCoding.encode(s)
        let logFile = file(StateLog.name)
        // As for the stat cache: a log naming these very bytes goes first, any other after.
        let header = FileSystem.isAbsent(logFile)
            ? [] : (try? readWholeFile(logFile, limit: StateLog.headerSize, followSymlinks: false)) ?? []
        if header.count == StateLog.headerSize,
           header.suffix(32).elementsEqual(try SHA256Hasher.digest(bytes).bytes) {
            try AppendLog.remove(logFile)
        }
        try AtomicFile.write(bytes, to: file("state.json"), mode: 0o600,
                             syncDirectory: durable || !FileSystem.isAbsent(logFile))
        try AppendLog.remove(logFile)
        s.recovered = nil
        s.origin = nil
        if let memo, case .success(let st) = lstatBytes(file("state.json")) {
            s.origin = StateLog.Origin(baseID: try SHA256Hasher.digest(bytes).bytes, baseSize: bytes.count,
                                       baseStat: st, logEnd: 0, logDamaged: false)
            memo.set(s, self)
        }
    }

    /// Appends `s`'s changes since `old` to the log; returns the log's new length, nil when
    /// it would pass its bound.
    private func append(_ s: DriftState, old: DriftState, origin o: StateLog.Origin) throws -> Int? {
        var fields = s
        fields.items = []
        let (put, remove) = StateLog.delta(old.items, s.items)
        var oldFields = old
        oldFields.items = []
        oldFields.origin = nil
        fields.origin = nil
        if put.isEmpty && remove.isEmpty && !o.logDamaged {
            let same = try JSONCoding.encode(fields) == JSONCoding.encode(oldFields)
            if same { return o.logEnd }
        }
        let frame = try AppendLog.frame(JSONCoding.encode(StateLog.Delta(fields: fields, put: put, remove: remove),
                                                          pretty: false))
        let header = o.logEnd == 0 ? StateLog.magic + o.baseID : []
        guard o.logEnd + header.count + frame.count <= StateLog.bound(baseSize: o.baseSize) else { return nil }
        return try AppendLog.append(header + frame, to: file(StateLog.name), at: o.logEnd)
    }

    /// Whether `state.json` and `state.log` are still what `o` was read from.
    private func stateOnDisk(_ o: StateLog.Origin) -> Bool {
        guard case .success(let b) = lstatBytes(file("state.json")), b == o.baseStat else { return false }
        switch lstatBytes(file(StateLog.name)) {
        case .success(let l): return l.kind == .regular && (l.size == Int64(o.logEnd) || o.logDamaged)
        case .failure: return o.logEnd == 0
        }
    }
}

/// JSON with sorted keys, the one encoder drift writes with.
public enum JSONCoding {
    public static func encode<T: Encodable>(_ v: T, pretty: Bool = true) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty
            ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            : [.sortedKeys, .withoutEscapingSlashes]
        var out = escapeControls(Array(try enc.encode(v)))
        out.append(0x0A)
        return out
    }

    /// JSON escapes C0 controls but passes DEL and C1 controls (U+0080…U+009F) through raw;
    /// they can only be inside strings, so writing them as `\u007f`/`\u00XX` keeps every
    /// string exact while no raw control byte reaches a terminal or log.
    static func escapeControls(_ json: [UInt8]) -> [UInt8] {
        guard json.contains(where: { $0 == 0x7F || $0 == 0xC2 }) else { return json }
        var out: [UInt8] = []
        out.reserveCapacity(json.count + 16)
        var i = 0
        let hex = Array("0123456789abcdef".utf8)
        while i < json.count {
            let b = json[i]
            if b == 0x7F || (b == 0xC2 && i + 1 < json.count && (0x80...0x9F).contains(json[i + 1])) {
                let v = b == 0x7F ? b : json[i + 1]
                out += Array("\\u00".utf8) + [hex[Int(v >> 4)], hex[Int(v & 0xF)]]
                i += b == 0x7F ? 1 : 2
                continue
            }
            out.append(b)
            i += 1
        }
        return out
    }
}
