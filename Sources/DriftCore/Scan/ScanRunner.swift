import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch

/// A whole `drift scan`: load and verify MDIR, scan, keep first-seen times, update the
/// stat cache and the journal, build the report. Writes only under the state dir.
public struct ScanRunner {
    public var manifestDir: ManifestDirectory
    public var root: [UInt8]?
    public var state: StateDirectory
    public var full = false
    /// Where "now" comes from (first-seen times, ages, the journal's dates).
    public var clock: Clock = .system
    /// Counters for a progress line while files are hashed; nil for none.
    public var progress: ProgressCounters?
    /// Seconds to wait for another run's state lock (`--wait`).
    public var waitSeconds: Double = 0
    /// Record new drift in the journal (every verb that scans does, so nothing seen is lost).
    public var journal = true
    /// Other files this run will write (`--log`, `--metrics`, as bytes), refused inside the root
    /// before anything is scanned or written.
    public var writeTargets: [(path: [UInt8], what: String)] = []
    /// Called on the walking thread for each directory the walk enters, before it is read
    /// (`drift watch` adds its inotify watch there, so nothing written later is missed).
    var onDirectory: (@Sendable ([UInt8]) -> Void)?
    /// Blob ids the journal already has, kept across records by a long-running recorder
    /// (`drift watch`): unchanged drift is not read or written again. nil for one-shot verbs.
    var journalBlobs: JournalBlobCache?
    /// A watcher's secret-content verdicts of earlier batches (`SecretVerdicts`).
    var secretVerdicts: SecretVerdicts?
    /// The state as last read or written, kept by a long-running recorder (`drift watch`):
    /// a batch reads `state.json` again only when another run changed it. nil for one-shot verbs.
    var stateMemo: StateMemo?
    /// What the last record derived per drifted path, kept by a long-running recorder (`drift
    /// watch`): a batch derives again only the paths whose inputs changed. nil for one-shot verbs.
    var derivation: DerivationMemo?
    /// Environment variables the CLI read (drift's, PID 1's, supervisord's): those with
    /// secret names are secret values (held in memory only).
    public var environment = SecretEnvironment()
    /// Where a new `forgotten_sources` salt comes from (`ForgottenValues`): tests that compare
    /// two recorders' state byte for byte give both the same.
    var saltSource: @Sendable (Int) throws -> [UInt8] = secureRandomBytes
    /// `--upstream`: the repository whose history says which exports were reconciled.
    public var upstream: UpstreamSource?
    /// The verb's context when its caller loaded it already (`drift export`, whose `--push`
    /// reuses it): the scan walks with it and reads nothing of MDIR again.
    public var context: Context?
    /// Check the journal's latest snapshot against what this scan read even when the drift
    /// is the one last recorded (`drift export` builds from it): reads the drifted files again.
    var checkJournal = false
    /// The report makes its rows from the drifted list as they are read (`ScanReport.Rows`): a
    /// caller that writes the report once and holds no other use of the drifted list (the
    /// one-shot `drift scan`) never holds a row a path (issue 28).
    public var rowsAsRead = false

    public init(manifestDir: ManifestDirectory, root: [UInt8]?, state: StateDirectory) {
        self.manifestDir = manifestDir
        self.root = root
        self.state = state
    }

    public struct Outcome {
        public var report: ScanReport
        var result: Scanner.Result
        public var manifest: Manifest
        public var policy: Policy
        var rootBytes: [UInt8]
        var pip: [PipChange]
        /// The baked requirements file (relative to the root when under it).
        public var requirements: [UInt8]?
        /// The workspace's secrets, for withholding code that carries their content.
        public var secrets = SecretIndex()
        /// Why the state was rebuilt by this run, and the damaged file it kept aside
        /// (`state.json.damaged`, `state.log.damaged`), if it was.
        public var stateRecovered: StateRecovery.Cause?
        /// The journal this run could not read and moved under `previous/` (`JournalDamage`).
        public var journalSetAside: JournalDamage.SetAside?
        /// How many more secret values this run knows than the last one, when the journal
        /// already holds snapshots (content recorded then may hold one: `drift forget`); 0: none.
        public var secretsLearned = 0
        /// The journal snapshot that holds what this scan read (nil: no drift, or not recorded).
        var snapshot: ObjectID?
        /// A latest snapshot that claimed this drift but did not hold it, replaced by `snapshot`.
        var replacedSnapshot: ObjectID?
        /// `state.json` as this run saved it (the caller holds the lock: it is still current).
        var state: DriftState?
        /// `Journal.fingerprint(result.changes, pip: pip)` when this run computed it (a
        /// watcher's log line reuses it instead of hashing every drifted path again).
        var fingerprint: Digest?
        /// The record changed its list after its steps' memos saw it (the journal read some
        /// files itself): the next batch's splice would not be from that list.
        var listAltered = false
    }

    /// Runs a scan: walk, compare, and record (journal, state, caches) under the state lock.
    /// - Parameter alreadyLocked: true when the caller holds the state lock for longer.
    /// - Returns: the report and the scan's result, manifest and policy.
    /// - Throws: `DriftError` for a manifest that does not verify or bad input; `DriftError` `.lockBusy`
    ///   when another run holds the lock past `waitSeconds`; `GitError` from the journal.
    public func run(alreadyLocked: Bool = false) throws -> Outcome {
        var loaded = try loadAndWalk()
        try state.ensure()
        // One writer at a time: the lock covers state, cache and journal until we return.
        let lock = alreadyLocked ? nil : try StateLock(state: state, wait: waitSeconds)
        defer { withExtendedLifetime(lock) {} }
        let now = clock.now()
        // Fetched under the lock: two scans never fetch into `upstream.git` at once.
        let reconciled = try upstream.map {
            try $0.reconciled(state: state, base: ObjectID(hex: loaded.context.manifest.commit))
        }
        let findings = try find(handingOver: &loaded, now: now)
        // The comparison has taken what it needed of the reads: not held while recording.
        loaded.readAhead = nil
        // The findings hold the walk now; `record` lets it go after its last use.
        loaded.walk = TreeWalk(entries: [], issues: [], unreadableDirectories: [])
        return try record(findings, loaded.context, now: now, reconciled: reconciled)
    }

    /// What a verb works against, read and verified once: the manifest and policy, the
    /// root, the pip baseline. `drift export` loads it once and hands it to its scan, its
    /// outgoing-secrets check and `--push` (docs/architecture.md, "Records and contexts").
    public struct Context: Sendable {
        public var manifest: Manifest
        public var policy: Policy
        var rootBytes: [UInt8]
        public var baseline: PipBaseline?
    }

    /// Reads and verifies MDIR (signature, pins, manifest, policy, pip baseline): the verb's context.
    /// - Throws: `DriftError` for a manifest or policy that does not verify or parse.
    public func loadContext() throws -> Context {
        let (manifest, policy) = try manifestDir.load()
        let rootBytes = root ?? manifest.root
        let baseline = try PipBaseline.load(manifestDir, manifest: manifest)
        return Context(manifest: manifest, policy: policy, rootBytes: rootBytes, baseline: baseline)
    }

    /// Walks the root of a context already loaded (nothing of MDIR is read again).
    private func walk(_ c: Context) throws -> Loaded {
        try refuseWriteUnder(root: c.rootBytes, target: state.path, what: "state dir")
        for t in writeTargets { try refuseWriteUnder(root: c.rootBytes, target: t.path, what: t.what) }
        let walk = try TreeWalk.run(root: c.rootBytes, classifier: Classifier(policy: c.policy), entering: onDirectory)
        return Loaded(context: c, walk: walk, oldCache: full ? nil : try state.loadCache())
    }

    /// MDIR read and verified, the root walked, the old stat cache: a scan's input.
    public struct Loaded {
        var context: Context
        var walk: TreeWalk
        var oldCache: StatCache?
        /// Files read while the walk ran (no stat cache): the comparison uses these reads.
        var readAhead: [[UInt8]: FileReader.Content]?
    }

    /// A site-packages comparison, with its stat cache before and after.
    public struct PipFindings {
        var result: PipScanner.Result
        var oldCache: StatCache?
    }

    /// What a comparison found, before anything is written: `drift watch` compares without
    /// the state lock and takes it only for `record`.
    public struct Findings {
        var result: Scanner.Result
        /// nil when there is no pip baseline.
        var pip: PipFindings?
        /// The stat cache before the comparison; `record` saves `result.newCache` when it differs.
        /// nil leaves the `statcache` file alone.
        var oldCache: StatCache?
        var saveCache = true
        /// The walk whose secret-class files (inodes, digests, values) decide what is secret content.
        var walk: TreeWalk
        /// The scan number that picked the re-verification slice; nil for a partial rescan
        /// (`drift watch`), which does not count.
        var scanNumber: Int?
        /// The verified-bytecode cache `record` saves (nil leaves `pyccache` alone).
        var pycCache: (old: StatCache?, new: StatCache)?
        /// A watcher's: the generation of the drifted list this record makes (its memos say
        /// which list they describe); nil for a one-shot scan, which keeps no memo.
        var generation: UInt64?
        /// A watcher batch's: how `result.changes` differs from the list of generation
        /// `splice.from` (the last record's, handed back); nil: every change is redone.
        var splice: ChangeSplice?

        public init(result: Scanner.Result, pip: PipFindings?, oldCache: StatCache?, walk: TreeWalk,
                    saveCache: Bool = true) {
            self.init(result: result, pip: pip, oldCache: oldCache, walk: walk, saveCache: saveCache, generation: nil,
                      splice: nil)
        }

        init(result: Scanner.Result, pip: PipFindings?, oldCache: StatCache?, walk: TreeWalk, saveCache: Bool,
             generation: UInt64?, splice: ChangeSplice?) {
            self.generation = generation
            self.splice = splice
            self.result = result
            self.pip = pip
            self.oldCache = oldCache
            self.walk = walk
            self.saveCache = saveCache
        }
    }

    /// Compares a finished walk with the manifest, and site-packages with the pip baseline.
    /// Reads the workspace and the state dir's caches; writes nothing.
    func find(_ loaded: Loaded, now: Date) throws -> Findings {
        var held = loaded
        return try find(handingOver: &held, now: now)
    }

    /// `find`, taking the old stat cache out of `loaded` (nil afterwards): the comparison then
    /// holds its records alone and edits them in place into the new cache (no copy of every
    /// slot when ten files changed); the findings keep where it was loaded from and the change.
    func find(handingOver loaded: inout Loaded, now: Date) throws -> Findings {
        let c = loaded.context
        let taken = loaded.oldCache
        loaded.oldCache = nil
        // What a save needs of the old cache once the comparison took it over: its origin.
        let origin = taken.map { old in
            var o = StatCache()
            o.origin = old.origin
            return o
        }
        var scanner = Scanner(manifest: c.manifest, policy: c.policy, root: c.rootBytes, cache: consume taken)
        let before = try state.loadState(commit: c.manifest.commit, memo: stateMemo)
        let scanNumber = max(0, before.scans ?? 0)
        let slice = ReverifySlice(every: c.policy.reverifyEvery, scan: scanNumber,
                                  last: before.reverifiedAt.flatMap(Timestamp.parse), now: now)
        scanner.reverify = slice
        scanner.progress = progress
        scanner.readAhead = loaded.readAhead
        var result = try scanner.compareTakingCache(loaded.walk, now: now)
        let pyc = try checkBytecode(&result, walk: loaded.walk, root: c.rootBytes, reverify: slice)
        var findings = Findings(result: result, pip: try findPip(c, reverify: slice), oldCache: origin,
                                walk: loaded.walk)
        findings.scanNumber = scanNumber
        findings.pycCache = pyc
        return findings
    }

    /// Compares site-packages with the pip baseline (nil without one).
    /// - Parameter reverify: the cached records re-checked anyway (nil: none, a partial rescan).
    func findPip(_ c: Context, reverify: ReverifySlice? = nil) throws -> PipFindings? {
        guard let baseline = c.baseline else { return nil }
        let oldPip = full ? nil : try state.loadCache(name: "pipcache")
        var pipScanner = PipScanner(baseline: baseline, allow: c.policy.pipAllow, cache: oldPip)
        pipScanner.reverify = reverify
        pipScanner.progress = progress
        let p = try pipScanner.run()
        return PipFindings(result: p, oldCache: oldPip)
    }

    /// The writing half of a scan; the caller holds the state lock. Keeps first-seen times,
    /// records new drift in the journal, saves the caches and `state.json`, builds the report.
    /// `reconciled`: drift id → upstream commit carrying it (`--upstream`); nil keeps what
    /// the last `--upstream` scan found.
    public func record(_ findings: consuming Findings, _ c: Context, now: Date,
                       reconciled: [String: String]? = nil) throws -> Outcome {
        // A journal drift cannot read is set aside before anything reads it: failing on it would
        // be an exit-2 loop that reports no drift at all (incident 13, F11).
        var journalAside = journal ? try JournalDamage.setAsideIfDamaged(state, now: now, deep: false) : nil
        var st = try state.loadState(commit: c.manifest.commit, memo: stateMemo)
        let loaded = st
        let before = (st.items, st.journalFingerprint)
        if let n = findings.scanNumber {
            st.scans = n < Int(Int32.max) ? n + 1 : 0
            st.reverifiedAt = Timestamp.format(now)
        }
        var result = findings.result
        // Held here alone when the caller handed its findings over (a one-shot scan): the
        // state merge then edits the changes in place, and the new stat cache is freed once
        // saved — not a second copy of every drifted path beside the report (issue 28).
        findings.result.changes = []
        findings.result.newCache = StatCache()
        // The caches first: a record only says "this stat had this digest", so one saved before
        // the journal and the state costs nothing if the run stops there (the next scan reads
        // the same drift), and the new stat cache is not held through the merge, the journal
        // and the report (issue 28: 144 bytes a file).
        if findings.saveCache, let delta = result.cacheDelta, findings.oldCache?.origin != nil {
            // The comparison took the loaded cache over and says what changed.
            if !delta.isEmpty { try state.saveCache(result.newCache, old: findings.oldCache, delta: delta) }
        } else if findings.saveCache && findings.oldCache?.entries != result.newCache.entries {
            try state.saveCache(result.newCache, old: findings.oldCache)
        }
        // Saved (or unchanged): the outcome does not carry it (a watcher keeps its findings').
        result.newCache = StatCache()
        result.cacheDelta = nil
        if let pyc = findings.pycCache { try state.saveCache(pyc.new, old: pyc.old, name: "pyccache") }
        let recovered = st.recovered
        let unreadable = result.issues.map(\.path)
        let boot = SystemInfo.bootID()
        let mainNames = environment.sourceNames(from: .mainProcess, names: c.policy.secretNames)
        let missing = SecretSourceMemory.remembered(st.secretSources, boot: boot).subtracting(mainNames)
        st.secretSources = SecretSourceMemory.updated(st.secretSources, boot: boot, current: mainNames)
        let allNames = environment.sourceNames(names: c.policy.secretNames)
        // A verdict judged again differently (a value learned or gone) is a change the splice
        // did not see: its position is redone by every step after.
        var splice = findings.splice
        let secrets = try flagSecrets(&result, walk: findings.walk, c, missing: missing,
                                      forgotten: (st.forgottenSources, allNames, boot),
                                      splice: &splice, generation: findings.generation)
        // Until a scan knows every source again, status names the missing ones (F11).
        st.withholding = secrets.absentNoted ? nil : secrets.withholdingCause
        // The walk's last use: not held through the merge, the journal and the report.
        findings.walk = TreeWalk(entries: [], issues: [], unreadableDirectories: [])
        // Drifted paths unreadable now are kept in the state but cannot be journaled: the
        // record is not complete, so the next scan records again.
        let unknownDrift = try st.merge(&result.changes, unreadable: unreadable, memo: derivation,
                                        splice: splice, generation: findings.generation) > 0
        if let reconciled { st.markReconciled(reconciled) }
        let learned = st.secretValues.map { secrets.valueCount - $0 } ?? 0
        let journaledBefore = st.journalFingerprint != nil || st.lastExportId != nil
        if journaledBefore && learned > 0 {
            // A value learned after content was journaled may be in that content: a later run
            // without its variable (a watcher started without it) must not journal it again.
            st.forgottenSources = try ForgottenValues.adding(st.forgottenSources, secrets.rememberedValues,
                                                             random: saltSource)
            // Until a forget looks (`drift status` says so: the note is given once).
            if st.forgottenSources?.learned == nil { st.forgottenSources?.learned = Timestamp.format(now) }
        }
        // A value drifted content holds is remembered whenever it is first seen there, not only
        // when learned after a journal (incident 12 attack, #1): rotated, it leaves the value
        // unknown, so content is withheld (F11) and, once released, the pasted file stays so (F12).
        // Not `learned`: the journal never held it, the content was withheld.
        st.forgottenSources = try ForgottenValues.adding(st.forgottenSources, secrets.contentValues,
                                                         random: saltSource)
        // Entries an older drift remembered without traces get them while the value is known, so
        // a release later can still find it (incident 12, F12).
        if let traced = try ForgottenValues.tracing(st.forgottenSources, known: secrets.rememberedValues) {
            st.forgottenSources = traced
        }
        st.secretValues = secrets.valueCount
        let (pip, pipChecked, pipHashed) = try takePip(findings.pip, issues: &result.issues)
        var snapshot: (ObjectID?, ObjectID?) = (nil, nil)
        if journalAside != nil { st.journalFingerprint = nil }
        let journaled: (step: JournalStep?, fingerprint: Digest?)
        do {
            journaled = try journalDrift(&result, pip: pip, c, now: now, secrets: secrets,
                                         last: st.journalFingerprint, splice: splice, generation: findings.generation)
        } catch {
            // Damage the quick look missed (a record, a parent): read deeper, then once more anew.
            guard journal, journalAside == nil,
                  let aside = try JournalDamage.setAsideIfDamaged(state, now: now, deep: true) else { throw error }
            journalAside = aside
            st.journalFingerprint = nil
            journaled = try journalDrift(&result, pip: pip, c, now: now, secrets: secrets, last: nil, splice: splice,
                                         generation: findings.generation)
        }
        if let step = journaled.step {
            snapshot = (step.recorded.snapshot, step.recorded.replaced)
            let complete = step.recorded.complete && step.recorded.observed.isEmpty && !unknownDrift
            st.journalFingerprint = complete ? step.fingerprint : nil
        }
        var report = ScanReport(commit: c.manifest.commit, root: c.rootBytes, host: SystemInfo.hostName(),
                                scannedAt: now,
                                changes: result.changes, pip: pip, issues: result.issues,
                                checked: result.filesChecked, hashed: result.filesHashed,
                                deadline: c.policy.deadline?.rule, now: now,
                                duties: st.dutyLookup(stop: c.policy.deadlineStop), lazyRows: rowsAsRead)
        report.summary.pipChecked = pipChecked
        report.summary.pipHashed = pipHashed
        st.lastScan = Timestamp.format(now)
        // Without the file lists (an added package's can be thousands of names), but the first
        // few of a change a version does not name (`modified`, `unowned`): status names them.
        let pipDrift = pip.filter { !$0.allowed }.map { p in
            var q = p
            q.files = p.change.isPinnable ? [] : Array(p.files.prefix(ReportText.pipFilesShown))
            let left = p.files.count - q.files.count + (p.filesLeftOut ?? 0)
            q.filesLeftOut = p.change.isPinnable || left == 0 ? nil : left
            return q
        }
        st.pip = pipDrift.isEmpty ? nil : pipDrift
        st.lastExitCode = Int(report.outcome.recordedCode)
        // Same drift as last time: only the scan's counters and times change, and losing them
        // in a crash loses nothing, so the rename is not made durable (a directory fsync).
        // A partial rescan (a `drift watch` batch) appends what it changed to `state.log`;
        // a full scan writes `state.json` whole (StateLog).
        try state.saveState(st, durable: before != (st.items, st.journalFingerprint),
                            appendingTo: findings.scanNumber == nil ? loaded : nil, memo: stateMemo)
        var outcome = Outcome(report: report, result: result, manifest: c.manifest, policy: c.policy,
                              rootBytes: c.rootBytes, pip: pip, requirements: c.baseline?.requirements,
                              secrets: secrets)
        outcome.stateRecovered = recovered
        outcome.journalSetAside = journalAside
        outcome.secretsLearned = journaledBefore ? max(0, learned) : 0
        (outcome.snapshot, outcome.replacedSnapshot) = snapshot
        outcome.state = st
        outcome.fingerprint = journaled.fingerprint
        // The journal's own reads replaced changes after the merge saw them: the list handed
        // back is no generation any memo made.
        outcome.listAltered = journaled.step.map { !$0.recorded.observed.isEmpty } ?? false
        return outcome
    }

    /// Finds the workspace's secrets and flags the changes that are secret or carry secret
    /// content; a secret file that could not be read is an issue of the scan.
    /// `missing`: the main process's secret sources earlier runs read and this one cannot.
    /// `forgotten`: the remembered forgotten values, this run's secret-source names (for names
    /// an older drift remembered without values) and boot id.
    private func flagSecrets(_ result: inout Scanner.Result, walk: TreeWalk, _ c: Context, missing: Set<[UInt8]>,
                             forgotten: (memory: ForgottenValues?, names: Set<[UInt8]>, boot: String?),
                             splice: inout ChangeSplice?, generation: UInt64?) throws -> SecretIndex {
        let reader = FileReader(root: c.rootBytes)
        var secrets = try SecretIndex(walk: walk, manifest: c.manifest, changes: result.changes,
                                      reader: reader, environment: environment, names: c.policy.secretNames)
        let unknown = try ForgottenValues.missing(forgotten.memory, known: secrets.sourceValues.map(\.value),
                                                  names: forgotten.names, boot: forgotten.boot)
        secrets.missing(missing.sorted(by: PathBytes.less), forgotten: unknown.sorted(by: PathBytes.less))
        secrets.released = ReleasedSearch(forgotten.memory)
        secrets.noteOrigins(environment)
        let flagged = secrets.flag(&result.changes, walk: walk, reader: reader, sizeLimit: c.policy.sizeLimit,
                                   contents: result.contents, verdicts: secretVerdicts, splice: splice,
                                   generation: generation)
        secrets.contentValues = flagged.values
        splice = splice?.marking(flagged.rejudged)
        if !secrets.complete {
            // What a missing source costs is withheld content: with none withheld (a clean
            // workspace in a container recreated without the hotfix's `.env`, incident 11 F9)
            // the run is complete and notes the sources. An unreadable secret file stays an
            // error: it is a file of the workspace the scan could not read.
            let withheld = result.changes.contains { $0.secrecy == .unchecked }
            if withheld || !secrets.unreadable.isEmpty {
                result.issues += secrets.issues(environ: environment.mainProcessEnviron)
                result.issues.sort { PathBytes.less($0.path, $1.path) }
            } else {
                secrets.absentNoted = true
            }
        }
        return secrets
    }

    /// The pip comparison's share of a record: its changes and counters (none without a
    /// baseline). Its issues join the scan's; its stat cache is saved when it changed.
    private func takePip(_ p: PipFindings?,
                         issues: inout [WalkIssue]) throws -> (changes: [PipChange], checked: Int, hashed: Int) {
        guard let p else { return ([], 0, 0) }
        issues += p.result.issues
        issues.sort { PathBytes.less($0.path, $1.path) }
        if p.oldCache?.entries != p.result.newCache.entries {
            try state.saveCache(p.result.newCache, old: p.oldCache, name: "pipcache")
        }
        return (p.result.changes, p.result.checked, p.result.hashed)
    }

    /// What `journalDrift` recorded, and the fingerprint of the drift it recorded.
    private struct JournalStep {
        var recorded: Journal.Recorded
        var fingerprint: Digest
    }

    /// Records the drift in the journal, unless there is none (or `journal` is off) or it is
    /// the drift last recorded (`last`, the fingerprint `state.json` keeps) and the journal
    /// still holds it. `step` nil: nothing recorded. What the journal read itself is adopted
    /// into `result.changes`. `fingerprint`: the fingerprint of `result.changes` and `pip` as
    /// they are on return, when it was computed (nil: not, or what was adopted changed them).
    private func journalDrift(_ result: inout Scanner.Result, pip: [PipChange], _ c: Context, now: Date,
                              secrets: SecretIndex, last: Digest?, splice: ChangeSplice?,
                              generation: UInt64?) throws -> (step: JournalStep?, fingerprint: Digest?) {
        guard self.journal && !(result.changes.isEmpty && pip.allSatisfy(\.allowed)) else { return (nil, nil) }
        // Persistent drift is recorded once: unchanged drift skips reading the files again.
        let (fp, foldable) = try Journal.fingerprintAndFold(result.changes, pip: pip, memo: journalBlobs?.memo,
                                                            splice: splice, generation: generation)
        let journal = Journal(state: state, manifestDir: manifestDir, commit: c.manifest.commit)
        // A file test, not a repository open: recording is idempotent, so a snapshot
        // missed here only costs one redundant `record`.
        let expected = last == fp && journal.hasSnapshotRef
        if expected && !checkJournal { try Journal.keepFold(result.changes, memo: journalBlobs?.memo, foldable) }
        guard !expected || checkJournal else { return (nil, fp) }
        let recorded = try journal.record(result.changes, pip: pip, requirements: c.baseline?.requirements,
                                          root: c.rootBytes, policy: c.policy, now: now, secrets: secrets,
                                          contents: result.contents, blobCache: journalBlobs,
                                          expected: expected, foldable: foldable, splice: splice,
                                          generation: generation)
        Self.adopt(recorded.observed, into: &result.changes)
        return (JournalStep(recorded: recorded, fingerprint: fp), recorded.observed.isEmpty ? fp : nil)
    }

    /// Bytecode changes follow Python's import rules (`BytecodeCheck`): noise and legitimate
    /// runtime bytecode are no drift; forged, loadable sourceless or non-regular pycs are `bytecode` drift.
    /// Reads the `pyccache`, writes nothing: returns the cache `record` must save (nil: unchanged).
    func checkBytecode(_ result: inout Scanner.Result, walk: TreeWalk, root: [UInt8],
                       reverify: ReverifySlice? = nil) throws -> (old: StatCache?, new: StatCache)? {
        let pycs = Set(result.changes.lazy.filter { BytecodeCheck.role($0.path) != nil }.map(\.path))
        let old = full ? nil : try state.loadCache(name: "pyccache")
        if pycs.isEmpty { return old?.entries.isEmpty == false ? (old, StatCache()) : nil }
        var stats: [[UInt8]: FileStat] = [:]
        for e in walk.entries where pycs.contains(e.path) { stats[e.path] = e.stat }
        var check = BytecodeCheck(root: root, cache: old)
        check.reverify = reverify
        let checked = check.apply(result.changes, stats: stats)
        result.changes = checked.changes
        result.issues += checked.issues
        result.issues.sort { PathBytes.less($0.path, $1.path) }
        return old?.entries != checked.newCache.entries ? (old, checked.newCache) : nil
    }

    /// The journal read some files itself (the scan trusted the stat cache for them): the
    /// report says what that read saw, so report and journal never disagree about a version.
    static func adopt(_ observed: [[UInt8]: EntryState], into changes: inout [FileChange]) {
        if observed.isEmpty { return }
        changes = changes.compactMap { c in
            guard let seen = observed[c.path] else { return c }
            var c = c
            c.new = seen
            c.unstable = false
            if let old = c.old, old.kind == .regular, old.digest == seen.digest, old.size == seen.size {
                if old.executable == seen.executable { return nil }
                c.change = .mode
            } else if c.old?.kind == .regular {
                c.change = .modified
            }
            return c
        }
    }

    /// Reads MDIR and walks the root at the same time; the raw manifest bytes are dropped
    /// when this returns (they are a large part of peak memory on big trees).
    func loadAndWalk() throws -> Loaded {
        if let context { return try walk(context) }
        // The raw text is held by `rawSlot` alone: the parsing thread takes it, so it is freed
        // once parsed instead of through the whole walk (22 MB of peak memory at 200,000 files).
        let rawSlot = Slot<ManifestDirectory.Raw>()
        // Only the header is read before the walk starts when it names the root and the policy
        // pin (megabytes of entry lines are read beside the walk, and must begin with that head).
        let head = try manifestDir.readHead()
        if head == nil { rawSlot.set { try manifestDir.readRaw() } }
        let (peeked, parsedPolicy) = try rootAndPolicy(head ?? rawSlot.get())
        let walkSlot = Slot<TreeWalk>(), loadSlot = Slot<(Manifest, Policy, StatCache?)>()
        try refuseWriteUnder(root: peeked, target: state.path, what: "state dir")
        for t in writeTargets { try refuseWriteUnder(root: peeked, target: t.path, what: t.what) }
        let useCache = !full
        let stateDir = state
        let mdir = manifestDir
        let entering = onDirectory
        // Reading while the walk runs (`ReadAhead`) is off: measured on the 200,000-file tree it
        // gave the first scan no gain and cost ~60 MB of peak RSS (docs/benchmarks.md, issue 26).
        let readAhead: ReadAhead? = nil
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if i == 0 {
                walkSlot.set {
                    try TreeWalk.run(root: peeked, policy: parsedPolicy, entering: entering, readAhead: readAhead)
                }
            } else {
                loadSlot.set {
                    let raw = try head.map { try mdir.readRaw(following: $0) } ?? rawSlot.take()
                    let m = try Self.parseVerified(raw)
                    return (m, parsedPolicy, useCache ? try stateDir.loadCache() : nil)
                }
            }
        }
        let readFiles = readAhead?.finish()
        let (manifest, policy, oldCache) = try loadSlot.get()
        let walk = try walkSlot.get()
        let rootBytes = root ?? manifest.root
        let baseline = try PipBaseline.load(manifestDir, manifest: manifest)
        let context = Context(manifest: manifest, policy: policy, rootBytes: rootBytes, baseline: baseline)
        var loaded = Loaded(context: context, walk: walk, oldCache: oldCache)
        // Read beneath the root the manifest names (a `--root` elsewhere reads again).
        if rootBytes == peeked { loaded.readAhead = readFiles }
        return loaded
    }
}

extension ScanRunner {
    /// The root to walk and the policy (checked against its pin first, so it is parsed once,
    /// before anything walks). Walk (kernel-bound) while the manifest is parsed and verified
    /// (CPU-bound): the walk result is used only once the manifest has verified.
    fileprivate func rootAndPolicy(_ raw: ManifestDirectory.Raw) throws -> ([UInt8], Policy) {
        guard let peeked = root ?? Manifest.peekRoot(raw.manifestBytes) else {
            _ = try raw.parseManifest()
            throw DriftError(.manifestInvalid, path: raw.manifestFile, "manifest has no root")
        }
        try raw.verifyPolicyPin()
        return (peeked, try raw.parsePolicy())
    }

    fileprivate static func parseVerified(_ raw: ManifestDirectory.Raw) throws -> Manifest {
        let m = try raw.parseManifest()
        try raw.verifyPolicy(m)
        return m
    }
}

/// A result handed from one worker thread back to the caller after the join.
final class Slot<T>: @unchecked Sendable {
    private var value: Result<T, Error>?

    func set(_ body: () throws -> T) {
        do { value = .success(try body()) } catch { value = .failure(error) }
    }

    /// The result, no longer held here (the caller's copy is the last one).
    func take() throws -> T {
        defer { value = nil }
        return try get()
    }

    func get() throws -> T {
        guard let v = value else { throw DriftError(.internal, "internal: a worker produced no result") }
        return try v.get()
    }
}
