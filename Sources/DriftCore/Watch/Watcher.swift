import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `drift watch`: a first full scan, then inotify on every non-ignored workspace directory
/// and on site-packages; settled paths are rescanned alone and recorded exactly as `scan`
/// records (the same `ScanRunner.record`), under the state lock only while writing.
public final class Watcher {
    public struct Options: Sendable {
        public var settleMs: Int64 = 200
        public var rescanEveryMs: Int64 = 3_600_000
        /// While degraded, full scans come at least this often (`--degraded-rescan-every`).
        public var degradedEveryMs: Int64 = 60_000
        /// `--log` and `--metrics` as the bytes given (a name that is not UTF-8 included).
        public var log: [UInt8]?
        public var metrics: [UInt8]?
        public init() {}
    }

    /// Site-packages changes are one pip operation once quiet this long (or `settle`, if longer)
    /// with no install or uninstall visibly under way...
    static let pipQuiet = 1.0
    /// ...or this long after their first event, however busy pip still looks (a crashed pip
    /// leaves its stash behind).
    static let pipCap = 600.0
    /// After SIGTERM, how long to wait for a busy state lock before leaving the rest to the next start.
    static let stopLockWait = 10.0
    /// Nominal bytes one batch hashes at most (about 50–100 ms here); bigger files are hashed
    /// apart (`DeferredHashes`) and recorded by a later batch.
    static let batchHashBudget: Int64 = 64 << 20
    /// Batches are spaced (by their own duration) only while this many paths are pending:
    /// a burst then coalesces, and a lone edit is never kept waiting.
    static let burstPending = 64

    let runner: ScanRunner
    let options: Options
    var state: StateDirectory { runner.state }
    var settle: Double { Double(options.settleMs) / 1000 }
    /// A path rewritten forever is still recorded after this long.
    var maxWait: Double { max(2.0, settle * 10) }

    private var signals: SignalPipe?
    private var watches: WatchSet
    private var context: ScanRunner.Context?
    private var classifier: Classifier?
    /// The workspace comparison as last recorded (first-seen times come from state.json).
    private var model: Scanner.Result?
    /// The generation of the model's drifted list when it is exactly a record's output (handed
    /// back): a batch then tells its record what it changed (`ChangeSplice`); nil otherwise.
    private var modelGeneration: UInt64?
    /// The last generation given to a record's list.
    private var lastGeneration: UInt64 = 0
    /// What the walks saw of secret-class files and of drifted paths (by path): secret files
    /// decide what is secret content, drifted files' inodes find hard links to them. The
    /// rest of a full walk (every file of the tree) is not kept.
    private var kept = KeptEntries()
    private var pip: ScanRunner.PipFindings?
    private var sitePackages: [[UInt8]] = []
    private var pending = PendingChanges()
    /// Holds data paths back while a flood of them arrives (one snapshot per window, not per batch).
    private var flood = FloodPacing()
    private var status: WatchStatus

    private var stopping = false
    private var reloadRequested = false
    private var needFull: String?
    private var overflowSinceSafetyNet = false
    private var failure: String?
    private var unreadable: [[UInt8]] = []
    private var inotifyFailure: Errno?
    private var loggedReasons: Set<String> = []
    private var lastDriftSignature: String?
    /// The absent-sources note last given (`SecretIndex.absentNote`): said again only when it changes.
    private var lastAbsentNote: String?
    /// When the last full scan finished (monotonic): the next is due the interval status
    /// states (`currentFullScanEveryMs`) later, recomputed whenever that interval changes.
    private var lastFullEnd = 0.0
    /// After a failed batch or full scan: when the recovery full scan runs.
    private var retryAt: Double?
    private var nextFull: Double { retryAt ?? lastFullEnd + Double(currentFullScanEveryMs) / 1000 }
    /// Directories at the top of site-packages that show pip at work (absolute): its stash of
    /// what it uninstalls (`~name`) and a `.dist-info` it has not finished (no `INSTALLER` yet).
    private var pipMarkers: Set<[UInt8]> = []
    private var nextBatchAllowed = 0.0
    /// When the last event that made work arrived (monotonic seconds).
    private var lastEventAt = 0.0
    /// `SDIR/watch.sock`: cron scans ask here what changed (`WatchQuery`); nil when it could not be made.
    private var listener: UnixSocket?
    /// Files over a batch's hash budget, hashed on a thread of their own.
    private var bigFiles: DeferredHashes?
    /// Bumped whenever the model may have missed something (overflow, failure, reload, root
    /// changed): a scan holding an older token walks for itself once.
    private var epoch = 0
    /// The mounts at, below and above the root as the last full scan found them.
    private var mounts: MountSnapshot?
    /// The last full scan's cached paths by re-verification slot (a query's slice, found fast).
    private var sliceIndex = SliceIndex()
    /// A full scan finished since `sliceIndex` was built: it is rebuilt once that scan's walk,
    /// manifest lookups and findings are freed (built inside the scan, its path arrays, about
    /// 20 MB at 200,000 files, came on top of them and set the watcher's peak RSS).
    private var sliceIndexDue = false
    /// The next query's slice, re-hashed in idle time (`AheadVerification`); nil until made.
    private var ahead: AheadVerification?
    /// When (monotonic) `verifyAhead` next runs: at once after an answer, then every `refreshSeconds`.
    private var aheadDue = 0.0
    /// The clean-point token scans compare with the one they last used.
    private var token: String { "\(status.pid)-\(status.startTicks ?? 0)-\(epoch)" }

    public init(runner: ScanRunner, options: Options) {
        var r = runner
        r.journalBlobs = JournalBlobCache()
        r.secretVerdicts = SecretVerdicts()
        r.stateMemo = StateMemo()
        r.derivation = DerivationMemo()
        // A record's report is read once (log line, metrics, a query's answer) and dropped: its
        // rows made as read, not ~300 bytes a drifted path beside the merge (issue 28).
        r.rowsAsRead = true
        self.runner = r
        self.options = options
        let now = Timestamp.format(runner.clock.now())
        let pid = SystemProcess.currentID
        status = WatchStatus(pid: pid, startTicks: WatchStatus.startTicks(of: pid),
                             started: now, updated: now,
                             phase: "starting", fullScanEverySeconds: Int(options.rescanEveryMs / 1000),
                             settleMilliseconds: Int(options.settleMs))
        watches = WatchSet(inotify: nil, root: [])
    }

    /// Scans once, then watches and records until SIGTERM or SIGINT, then returns.
    /// - Throws: at start-up only: `DriftError` (bad manifest, write target inside the root),
    ///   `DriftError` `.lockBusy` (another watcher uses the state dir). Later failures are logged and
    ///   turned into full rescans.
    public func run() throws {
        // One malloc arena for every thread: measured on the 200,000-file tree, the peak RSS
        // after the first scan was 149–163 MB with an arena per walking/hashing thread and
        // 140.5 MB with one, the time to `watching` no longer (docs/benchmarks.md, issue 26).
        Heap.limitArenas(to: 1)
        let root = try preflight()
        try state.ensure()
        let watchLock = try WatchLock(state: state)
        defer { withExtendedLifetime(watchLock) {} }
        signals = try SignalPipe()
        bigFiles = try DeferredHashes(root: root)
        try status.write(to: state)
        watches = makeWatchSet(root: root)
        try fullScan("start")
        listen()
        defer { closeListener() }
        status.phase = "watching"
        publishStatus()
        let mode = watches.inotify == nil ? "no inotify: full scans only" : "\(watches.count) directories watched"
        say("watching \(PathBytes.display(root)) (\(mode)), pid \(SystemProcess.currentID)")
        loop()
    }

    /// Refuses, before anything is written, a state dir, log or metrics file under the root
    /// (a write there would be an event, then a batch, then a write: a loop).
    private func preflight() throws -> [UInt8] {
        let root = try peekRoot()
        // By the root's bytes: its quoted display form names no directory when the name needs quoting.
        try refuseWriteUnder(root: root, target: state.path, what: "state dir")
        if let l = options.log { try refuseWriteUnder(root: root, target: l, what: "--log file") }
        if let m = options.metrics { try refuseWriteUnder(root: root, target: m, what: "--metrics file") }
        return root
    }

    private func peekRoot() throws -> [UInt8] {
        if let r = runner.root { return r }
        let raw = try runner.manifestDir.readRaw()
        guard let r = Manifest.peekRoot(raw.manifestBytes) else {
            _ = try raw.parseManifest()
            throw DriftError(.manifestInvalid, path: raw.manifestFile, "manifest has no root")
        }
        return r
    }

    private func makeWatchSet(root: [UInt8]) -> WatchSet {
        do {
            let ino = try Inotify()
            inotifyFailure = nil
            return WatchSet(inotify: ino, root: root)
        } catch {
            inotifyFailure = error
            return WatchSet(inotify: nil, root: root)
        }
    }

    // MARK: the loop

    private func loop() {
        while true {
            buildSliceIndex()
            waitForWork()
            takeSignals()
            takeEvents()
            takeHashed()
            answerQueries()
            if stopping {
                stop()
                return
            }
            if reloadRequested { reload() }
            let t = monotonicSeconds()
            do {
                if let reason = needFull, t >= nextBatchAllowed {
                    try fullScan(reason)
                } else if needFull == nil, t >= nextFull {
                    try fullScan("periodic")
                } else if needFull == nil, t >= batchAllowedAt {
                    let (hold, data) = (flood.holding(at: t), pending.dataCount)
                    let (scope, pipDirty) = pending.takeReady(now: t, settle: settle, maxWait: maxWait,
                                                              pipRule: pipRule, holdData: hold)
                    if pending.dataCount < data { flood.released(at: t) }
                    if !scope.isEmpty || pipDirty { try batch(scope, pipDirty: pipDirty) }
                }
            } catch {
                fail(error)
            }
            buildSliceIndex()
            verifyAhead()
        }
    }

    /// The last full scan's cached paths by slot, from the model (a batch since only adds
    /// paths the index may lack), built between scans.
    private func buildSliceIndex() {
        guard sliceIndexDue, let model, let context else { return }
        sliceIndexDue = false
        sliceIndex = SliceIndex(model.newCache.entries, every: context.policy.reverifyEvery)
        Heap.trim()
    }

    /// A lone edit is batched as soon as it settles. While a burst is pending and still
    /// arriving, one batch waits for it to pause (`settle` without any event) or for its
    /// oldest path to have waited `maxWait`: each batch costs a journal snapshot of all the
    /// drift, so fewer, larger batches record the burst sooner.
    private var batchAllowedAt: Double {
        // Held data waits by its own rule: the rest is spaced as if it were alone.
        let held = flood.holding(at: monotonicSeconds()) ? pending.dataCount : 0
        if pending.count - held < Self.burstPending { return 0 }
        let paused = lastEventAt + settle
        let due = (pending.oldestFirst ?? lastEventAt) + maxWait
        return max(nextBatchAllowed, min(paused, due))
    }

    /// Sleeps in `poll` until an event, a signal, the next settle deadline or the next full scan.
    private func waitForWork() {
        let now = monotonicSeconds()
        var deadline = nextFull
        if needFull != nil {
            deadline = nextBatchAllowed
        } else if let d = pending.nextDeadline(settle: settle, maxWait: maxWait, pipRule: pipRule,
                                               heldUntil: flood.heldUntil(now)) {
            deadline = min(deadline, max(d, batchAllowedAt))
        }
        if canVerifyAhead { deadline = min(deadline, aheadDue) }
        let ms = max(0, min(3_600_000, ((deadline - now) * 1000).rounded(.up)))
        var fds = [signals?.readFD ?? -1, listener?.fd ?? -1, bigFiles?.wake.readFD ?? -1]
        if let ino = watches.inotify { fds.append(ino.fd) }
        waitReadable(fds, milliseconds: Int32(ms))
    }

    private func takeSignals() {
        for sig in signals?.drain() ?? [] {
            if sig == SignalPipe.hangup { reloadRequested = true } else { stopping = true }
        }
    }

    private func takeEvents() {
        guard let ino = watches.inotify else { return }
        let events = ino.drain()
        if events.isEmpty { return }
        let now = monotonicSeconds()
        var any = false
        for ev in events where handle(ev, now) { any = true }
        absorbVanished(now)
        if any {
            status.lastEvent = Timestamp.format(runner.clock.now())
            lastEventAt = now
        }
    }

    /// Big files whose hash finished: rescanned at once (they are in the stat cache now).
    private func takeHashed() {
        guard let finished = bigFiles?.takeFinished(), !finished.isEmpty else { return }
        let now = monotonicSeconds()
        for p in finished { pending.touch(path: p, at: now, complete: true, data: isPlainData(p)) }
        status.examining = bigFiles?.examining ?? 0
    }

    /// Turns one event into pending work; false for events that say nothing about content.
    private func handle(_ ev: InotifyEvent, _ now: Double) -> Bool {
        if ev.has(Inotify.overflow) {
            status.overflows += 1
            overflowSinceSafetyNet = true
            requestFull("overflow", "inotify queue overflowed (fs.inotify.max_queued_events): scanning everything")
            return true
        }
        if ev.has(Inotify.ignored) {
            watches.forget(ev.wd)
            return false
        }
        guard let dir = watches.byDescriptor[ev.wd] else { return false }
        let isDirectory = ev.has(Inotify.isDirectory)
        let appeared = ev.has(Inotify.create | Inotify.movedTo)
        let absolute = ev.name.isEmpty ? dir.absolute : dir.absolute + [UInt8(ascii: "/")] + ev.name
        if sitePackages.contains(where: { PathBytes.isWithin(absolute, $0) }) {
            pending.touchPip(at: now)
            if isDirectory && appeared {
                watches.addOutsideTree(absolute)
                let name = ev.name
                if sitePackages.contains(dir.absolute)
                    && (name.first == UInt8(ascii: "~") || name.suffix(10).elementsEqual(".dist-info".utf8)) {
                    pipMarkers.insert(absolute)
                }
            }
        }
        guard let rel = dir.relative, let classifier else { return true }
        if ev.name.isEmpty {
            // The watched directory itself: its parent's event covers a move or delete,
            // except for the root, which has no watched parent.
            if rel.isEmpty && ev.has(Inotify.deleteSelf | Inotify.moveSelf | Inotify.attrib) {
                requestFull("root", "the workspace root itself changed: scanning everything")
            } else if ev.has(Inotify.attrib) && !rel.isEmpty {
                pending.touch(tree: rel, at: now, data: isPlainData(rel, isDirectory: true))
            }
            return true
        }
        let path = PathBytes.join(rel, ev.name)
        bigFiles?.invalidate(path, tree: isDirectory)
        if isDirectory {
            guard classifier.shouldDescend(path) else { return false }
            if ev.has(Inotify.movedFrom | Inotify.delete) { watches.removeWorkspace(under: path) }
            // Watched before it is walked: whatever is written into it later is an event.
            if appeared { watches.addWorkspace(path) }
            pending.touch(tree: path, at: now, data: isPlainData(path, isDirectory: true))
        } else {
            let (cls, secret) = classifier.classifyAll(path, isDirectory: false)
            if cls == .ignore { return false }
            // Its writer is done with it: read it now (a later revert is a batch of its own).
            // A write through a descriptor still open (IN_MODIFY) waits for settle.
            let done = ev.has(Inotify.closeWrite | Inotify.movedTo | Inotify.movedFrom | Inotify.delete
                              | Inotify.attrib)
            let data = cls == .data && !secret
            if data { flood.noteData(at: now) }
            pending.touch(path: path, at: now, complete: done, data: data)
        }
        return true
    }

    /// Data and not secret: what `FloodPacing` may hold back while a flood of it arrives.
    private func isPlainData(_ path: [UInt8], isDirectory: Bool = false) -> Bool {
        guard let c = classifier?.classifyAll(path, isDirectory: isDirectory) else { return false }
        return c.0 == .data && !c.secret
    }

    private func requestFull(_ reason: String, _ message: String) {
        epoch += 1
        if needFull == nil { needFull = reason }
        warn(reason, message)
    }

    // MARK: scanning

    /// Re-adds every watch while walking, compares everything, records.
    private func fullScan(_ reason: String, using set: WatchSet? = nil) throws {
        let t0 = monotonicSeconds()
        let set = set ?? watches
        pending.removeAll()
        bigFiles?.reset()
        needFull = nil
        // The model's cache is read from disk again: nothing verified against the old one counts.
        ahead = nil
        aheadDue = 0
        set.resetFailures()
        var r = runner
        r.onDirectory = { set.addWorkspace($0) }
        var loaded = try r.loadAndWalk()
        let loadedContext = loaded.context
        let sp = (loadedContext.baseline?.sitePackages ?? []).map(\.path)
        for p in sp { set.addOutsideTree(p) }
        let now = runner.clock.now()
        // The old stat cache handed over: the comparison edits its records into the new cache
        // instead of copying them (issue 28: 144 bytes a file at the start-up's peak).
        var findings = try r.find(handingOver: &loaded, now: now)
        modelGeneration = nil
        lastGeneration += 1
        let generation = lastGeneration
        findings.generation = generation
        let unreadableDirectories = loaded.walk.unreadableDirectories
        loaded = ScanRunner.Loaded(context: loadedContext,
                                   walk: TreeWalk(entries: [], issues: [], unreadableDirectories: []))
        // What the next batches' secret checks need of the walk, taken before `record`, which
        // then holds the walk alone and lets it go after its own secret check (issue 28).
        var keptNow = KeptEntries(findings.walk.entries, drifted: { _ in true })
        // What the record's drift can name of the walk: its changes, and the unreadable paths
        // whose recorded drift the state merge keeps (the links of clean files are not held).
        keptNow.retain(drifted: findings.result.changes, issues: findings.result.issues)
        // The record takes the drifted list over (its merge edits it in place, not a copy) and
        // hands it back recorded: the model keeps that one (`handBack`).
        var result = Self.withoutContents(findings.result)
        result.changes = []
        let pipNow = findings.pip.map(Self.settled)
        let outcome = try lockAndRecord(consume findings, loadedContext, now: now)
        Self.handBack(outcome, into: &result)
        modelGeneration = outcome.listAltered ? nil : generation
        keptNow.retain(drifted: outcome.result.changes)
        // Only now the new configuration takes over (a failed SIGHUP reload keeps the old one).
        watches = set
        context = loadedContext
        classifier = Classifier(policy: loadedContext.policy)
        sitePackages = sp
        model = result
        sliceIndex = SliceIndex()
        sliceIndexDue = true
        kept = keptNow
        pip = pipNow
        // A directory that vanished while walked is re-walked, not "unreadable".
        let (present, gone) = splitVanished(unreadableDirectories, root: loadedContext.rootBytes)
        unreadable = present
        if reason == "periodic" { overflowSinceSafetyNet = false }
        failure = nil
        retryAt = nil
        status.fullScans += 1
        status.lastFullScan = Timestamp.format(now)
        lastFullEnd = monotonicSeconds()
        mounts = MountSnapshot.take(root: loadedContext.rootBytes)
        let t = lastFullEnd
        for g in gone { pending.touch(tree: g, at: t) }
        absorbVanished(t)
        finish(outcome, started: t0, now: now)
    }

    /// Rescans the settled paths (and site-packages when touched) and records.
    /// `reverify` and `scanNumber`: a scan's query, which re-hashes its slice and counts as that scan.
    /// `pipReverify`: the slice site-packages re-checks when it differs from `reverify` (the
    /// whole slice, while the workspace's was partly verified ahead).
    @discardableResult
    private func batch(_ scope: ScanScope, pipDirty: Bool, reverify: ReverifySlice? = nil,
                       pipReverify: ReverifySlice? = nil,
                       scanNumber: Int? = nil) throws -> (ScanRunner.Outcome, reverified: Int)? {
        guard let context, let classifier, var result = model else { return nil }
        // `result` holds the model alone while the batch runs, so `replace` edits its changes
        // and stat cache in place instead of copying them (on 200,000 files most of an answer's
        // CPU; at a million, 300 bytes a file of the batch's peak); a failed batch keeps what
        // it got to (the retry full scan replaces it).
        model = nil
        let from = modelGeneration
        modelGeneration = nil
        lastGeneration += 1
        let generation = lastGeneration
        var edit: (dropped: [Int], insertedBefore: [Int]) = ([], [])
        let listCount = result.changes.count
        // Once the record has the drifted list, a failed batch leaves no model: the retry's full
        // scan makes one (until then the watcher is degraded and answers no query).
        var handedOver = false
        defer { if model == nil && !handedOver { model = Self.withoutContents(result) } }
        let t0 = monotonicSeconds()
        let now = runner.clock.now()
        var scope = scope
        var unreadableNow: [[UInt8]] = []
        var secretsWalk = TreeWalk(entries: kept.entries, issues: [], unreadableDirectories: [])
        var scanned: [ClassifiedEntry] = []
        var reverified = 0
        if !scope.isEmpty {
            let set = watches
            var partial = PartialScan(context: context, classifier: classifier)
            partial.reverify = reverify
            partial.hashBudget = Self.batchHashBudget
            var part: PartialScan.Outcome
            do {
                // Released before `replace`: a second reference would make it copy the cache.
                let cache = bigFiles?.merged(into: result.newCache) ?? result.newCache
                part = try partial.compare(&scope, cache: cache, now: now) { set.addWorkspace($0) }
                // Drift found below a path the model holds as drifted outside the scope (a symlink
                // where a directory is again): that path is walked whole too, or the model would
                // hold a file and paths below it at once (no journal tree can).
                let ancestors = result.driftedAncestors(of: part.result.changes, outside: scope)
                if !ancestors.isEmpty {
                    scope.trees.formUnion(ancestors)
                    part = try partial.compare(&scope, cache: cache, now: now) { set.addWorkspace($0) }
                }
            }
            reverified = part.result.filesReverified
            let deferred = part.result.deferred.map(\.path)
            // Only the deferred paths' changes: the whole list held here would make `replace` copy it.
            let previous = result.changes(at: deferred)
            var partResult = part.result
            // Runtime bytecode is no drift here either; the pyc cache is left to full scans.
            _ = try runner.checkBytecode(&partResult, walk: part.walk, root: context.rootBytes)
            edit = result.replace(scope, with: partResult)
            result.keepVerdicts(of: deferred, from: previous)
            bigFiles?.consumed(scope)
            bigFiles?.submit(part.result.deferred)
            status.examining = bigFiles?.examining ?? 0
            unreadableNow = part.unreadable
            scanned = part.walk.entries
            secretsWalk.entries = kept.replacing(scope, with: scanned)
        }
        let pipNow = pipDirty ? try runner.findPip(context, reverify: pipReverify ?? reverify) : pip
        let splice = Self.splice(edit, count: listCount, from: from, to: generation)
        let outcome: ScanRunner.Outcome
        do {
            // The lock first: a batch that cannot have it still holds its model whole.
            let lock = try acquireStateLock()
            defer { withExtendedLifetime(lock) {} }
            var findings = ScanRunner.Findings(result: result, pip: pipNow, oldCache: nil, walk: secretsWalk,
                                               saveCache: false, generation: generation, splice: splice)
            findings.scanNumber = scanNumber
            // The record holds the drifted list alone: its merge edits first sightings in place
            // (a second reference here made it copy every change: issue 28, 136 bytes a path at
            // a million), and the model takes the recorded list back.
            result.changes = []
            result.contents = [:]
            handedOver = true
            outcome = try runner.record(consume findings, context, now: now)
        }
        Self.handBack(outcome, into: &result)
        model = result
        modelGeneration = outcome.listAltered ? nil : generation
        kept.update(scope, with: scanned, drifted: outcome.result.changes, outside: outcome.listAltered)
        pip = pipNow.map(Self.settled)
        status.batches += 1
        let (present, gone) = splitVanished(unreadableNow, root: context.rootBytes)
        let t = monotonicSeconds()
        for g in gone { pending.touch(tree: g, at: t) }
        absorbVanished(t)
        finish(outcome, started: t0, now: now)
        if let u = present.first {
            requestFull("unreadable", "\(PathBytes.display(u)): cannot be read: scanning everything")
        }
        return (outcome, reverified)
    }

    /// Directories a walk could not read, split into those still there and those that
    /// vanished meanwhile (gone, or a component is no longer a directory): only the first are
    /// unreadable; the others are walked again.
    private func splitVanished(_ dirs: [[UInt8]], root: [UInt8]) -> (present: [[UInt8]], gone: [[UInt8]]) {
        if dirs.isEmpty { return ([], []) }
        let rootDir = RootDirectory(path: root)
        var present: [[UInt8]] = [], gone: [[UInt8]] = []
        for d in dirs {
            if case .failure(let e) = rootDir.lstat(d), e.isGone { gone.append(d) } else { present.append(d) }
        }
        return (present, gone)
    }

    /// Directories that vanished while a watch was added or a site-packages tree walked: their
    /// path is walked again (a workspace one) or pip compared again (site-packages). Never a
    /// degraded mode: nothing is missing from the watch set.
    private func absorbVanished(_ now: Double) {
        for v in watches.takeVanished() {
            if sitePackages.contains(where: { PathBytes.isWithin(v, $0) }) {
                pending.touchPip(at: now)
            } else if v.first != UInt8(ascii: "/") && !v.isEmpty {
                pending.touch(tree: v, at: now)
            }
        }
    }

    /// The pip operation rule of the moment (markers pip finished with are dropped).
    private var pipRule: PendingChanges.PipRule {
        pipMarkers = pipMarkers.filter { m in
            guard WatchSet.exists(m) else { return false }
            let name = m.split(separator: UInt8(ascii: "/")).last.map(Array.init) ?? []
            if name.first == UInt8(ascii: "~") { return true }
            return !WatchSet.exists(m + Array("/INSTALLER".utf8))
        }
        return PendingChanges.PipRule(settle: max(settle, Self.pipQuiet), cap: Self.pipCap, busy: !pipMarkers.isEmpty)
    }

    /// The result without the drifted files' bytes: once recorded, the journal has them (the
    /// blob cache finds them by hash), and holding every drifted file in memory costs RSS.
    private static func withoutContents(_ r: Scanner.Result) -> Scanner.Result {
        var r = r
        r.contents = [:]
        return r
    }

    /// What `replace` did to a list of `count` changes of generation `from` (nil: not a
    /// record's list, so no splice).
    private static func splice(_ edit: (dropped: [Int], insertedBefore: [Int]), count: Int, from: UInt64?,
                               to: UInt64) -> ChangeSplice? {
        guard let from else { return nil }
        return ChangeSplice(dropped: edit.dropped, insertedBefore: edit.insertedBefore, oldCount: count,
                            from: from, to: to)
    }

    /// The recorded drifted list into the model: what the next batch's `replace` edits and the
    /// next record merges. Every field a record sets is set again by the next one from what it
    /// reads then (first sightings from the state, secret-content verdicts afresh:
    /// `SecretIndex.flag` clears them first, the journal's reads adopted), and an unchanged path
    /// comes back to the merge as the merge left it, so its memo entry is reused.
    private static func handBack(_ outcome: ScanRunner.Outcome, into model: inout Scanner.Result) {
        model.changes = outcome.result.changes
    }

    /// Pip findings whose cache is already on disk (the next record must not rewrite it).
    private static func settled(_ p: ScanRunner.PipFindings) -> ScanRunner.PipFindings {
        var q = p
        q.oldCache = q.result.newCache
        return q
    }

    /// `f` handed over: `record` then lets the walk and the new stat cache go once used.
    private func lockAndRecord(_ f: consuming ScanRunner.Findings, _ c: ScanRunner.Context,
                               now: Date) throws -> ScanRunner.Outcome {
        let lock = try acquireStateLock()
        defer { withExtendedLifetime(lock) {} }
        return try runner.record(consume f, c, now: now)
    }

    /// Waits for the state lock as long as a cron scan or export holds it, still hearing signals.
    private func acquireStateLock() throws -> StateLock {
        let start = monotonicSeconds()
        while true {
            do {
                return try StateLock(state: state, wait: 0)
            } catch let e as DriftError where e.code == .lockBusy {
                takeSignals()
                if stopping && monotonicSeconds() - start > Self.stopLockWait {
                    throw DriftError(.io, path: state.path, "the state lock stayed busy while stopping; "
                                     + "the next start records the rest")
                }
                SystemProcess.sleep(seconds: 0.02)
            }
        }
    }

    /// Log line, metrics, status and a short stdout line when the drift changed.
    private func finish(_ outcome: ScanRunner.Outcome, started: Double, now: Date) {
        let end = monotonicSeconds()
        let duration = end - started
        nextBatchAllowed = end + min(duration, 2)
        let report = outcome.report
        if let log = options.log {
            do {
                let line = try Telemetry.logLine(report, durationSeconds: duration,
                                                 exitCode: report.outcome.recordedCode, now: now)
                try Telemetry.append(line, toPath: log)
            } catch {
                Output.stderr("drift: warning: \(error)\n")
            }
        }
        status.lastBatch = Timestamp.format(now)
        // A scan frees most of what it allocated (the walk, the parsed JSON, read buffers),
        // but glibc keeps freed heap pages: measured on the 50,000-file tree, the idle
        // watcher held 55 MB RSS before this call and 40 MB after it.
        Heap.trim()
        refreshDegraded()
        publishStatus()
        if let m = options.metrics {
            let text = Telemetry.metrics(report, durationSeconds: duration, now: now) + WatchTelemetry.metrics(status)
                + RunFailure.metrics(RunFailure.all(state))
            do {
                try AtomicFile.write(Array(text.utf8), toPath: m)
            } catch {
                Output.stderr("drift: warning: \(error)\n")
            }
        }
        // A recovery is said as `drift scan` says it, on stderr and in the --log (incident 13, F4).
        if let cause = outcome.stateRecovered { warn("state_recovered", cause.warning(state)) }
        if let aside = outcome.journalSetAside { warn("journal_set_aside", aside.warning) }
        // A scan's notes, in the watcher's log (supervisord's stderr): the "run drift forget" one is
        // given once, by the batch that learned the values (incident 11, F8).
        if outcome.secretsLearned > 0 { Output.stderr(SecretIndex.learnedNote(outcome.secretsLearned)) }
        let absent = outcome.secrets.absentNote
        if absent != lastAbsentNote, let absent { Output.stderr(absent) }
        lastAbsentNote = absent
        // The record's own when it made one (hashing every drifted path again cost a watch
        // batch at 200,000 files a tenth of its CPU).
        let fingerprint = (outcome.fingerprint ?? (try? Journal.fingerprint(outcome.result.changes,
                                                                             pip: outcome.pip)))?.hex ?? ""
        let signature = "\(report.summary.drifted) \(fingerprint)"
        if signature != lastDriftSignature {
            lastDriftSignature = signature
            say("\(report.summary.drifted) drifted path(s), \(report.summary.pip) pip change(s), "
                + "\(report.errors.count) error(s)")
        }
    }

    // MARK: queries (cron scans)

    private func listen() {
        do {
            listener = try UnixSocket.listen(path: state.file(WatchQuery.socketName))
        } catch {
            warn("query", "\(PathBytes.display(state.file(WatchQuery.socketName))): cannot listen (\(error)): "
                 + "cron scans walk the tree themselves")
        }
    }

    private func closeListener() {
        guard listener != nil else { return }
        listener = nil
        UnixSocket.remove(path: state.file(WatchQuery.socketName))
    }

    private func answerQueries() {
        while let c = listener?.accept() { answer(c) }
    }

    /// Brings the model up to the moment of the query and answers with the scan it amounts to:
    /// every event queued before the query is read first (a write that returned before the
    /// scan asked is in the queue), what is pending is rescanned settled or not, and the
    /// scan's re-verification slice is re-hashed; any doubt answers "walk for yourself".
    private func answer(_ c: UnixSocket) {
        guard let peer = c.peer(), peer.uid == SystemProcess.effectiveUserID || peer.uid == 0,
              let line = c.receiveLine(limit: 1 << 16, timeout: 1),
              let q = try? JSONDecoder().decode(WatchQuery.Request.self, from: Data(line)) else { return }
        takeEvents()
        var a = WatchQuery.Answer(token: token)
        if let why = refusal(q) {
            a.reason = why
        } else {
            do {
                try answerScan(&a)
            } catch {
                fail(error)
                a = WatchQuery.Answer(token: token, reason: .error)
            }
        }
        if let b = try? JSONCoding.encode(a, pretty: false) { _ = c.send(b) }
        c.shutdownWrite()
    }

    private func refusal(_ q: WatchQuery.Request) -> WatchFallback? {
        if overflowSinceSafetyNet || needFull == "overflow" { return .overflow }
        if status.degraded || needFull != nil || failure != nil || retryAt != nil || model == nil { return .degraded }
        if (bigFiles?.examining ?? 0) > 0 { return .examining }
        let root = context.map { WatchQuery.rootToken($0.rootBytes) } ?? ""
        if q.manifest != WatchQuery.canonical(runner.manifestDir.path)
            || q.publicKey != runner.manifestDir.publicKey.map(WatchQuery.rootToken)
            || q.root.map({ $0 != root }) == true {
            return .otherManifest
        }
        guard let m = mounts, let now = context.flatMap({ MountSnapshot.take(root: $0.rootBytes) }), m == now else {
            return .mounts
        }
        // Last: a scan that could not have used the answer anyway learns the token.
        return q.token == token ? nil : .restarted
    }

    private func answerScan(_ a: inout WatchQuery.Answer) throws {
        // No reference to the model kept across the batch (it updates the cache in place).
        guard let context, model != nil else { throw DriftError(.internal, "internal: no model to answer from") }
        let before = try state.loadState(commit: context.manifest.commit, memo: runner.stateMemo)
        let n = max(0, before.scans ?? 0)
        let now = runner.clock.now()
        let slice = ReverifySlice(every: context.policy.reverifyEvery, scan: n,
                                  last: before.reverifiedAt.flatMap(Timestamp.parse), now: now)
        // What idle time already re-hashed is only stat-checked now (the slice's every path
        // stays in the scope); a verification made for another state is not used.
        var hashed = slice
        var verifiedAhead = 0
        if let v = ahead, !slice.all,
           v.matches(scans: n, reverifiedAt: before.reverifiedAt, every: slice.every, epoch: epoch) {
            hashed = v.remainder(now: now)
            verifiedAhead = v.verified
        }
        ahead = nil
        aheadDue = 0
        var (scope, pipDirty) = pending.takeReady(now: monotonicSeconds(), settle: settle, maxWait: maxWait,
                                                  pipRule: pipRule, all: true)
        a.rescanned = scope.paths.count + scope.trees.count
        do {
            let picked = (model?.newCache.entries).map { sliceIndex.paths(in: slice, of: $0)
                ?? Array($0.lazy.map(\.path).filter(slice.contains)) } ?? []
            for p in picked where !scope.contains(p) { scope.paths.insert(p) }
        }
        for p in hashed.also where !scope.contains(p) { scope.paths.insert(p) }
        guard let (outcome, reverified) = try batch(scope, pipDirty: pipDirty || context.baseline != nil,
                                                    reverify: hashed, pipReverify: slice, scanNumber: n) else {
            throw DriftError(.internal, "internal: the query's batch did not run")
        }
        a.reverified = reverified + verifiedAhead
        a.reverifiedAhead = verifiedAhead
        a.report = outcome.report
    }

    // MARK: re-verification ahead of the next query

    private var canVerifyAhead: Bool {
        status.phase == "watching" && !stopping && needFull == nil && failure == nil && retryAt == nil
            && model != nil && pending.isEmpty && (bigFiles?.examining ?? 0) == 0 && listener != nil
    }

    /// In idle time: re-hashes the next query's slice (its slot share and the arc so far), then
    /// every `refreshSeconds` the arc the clock moved over, so a query's answer only stats
    /// them. Writes nothing; a comparison that disagrees with the model leaves those paths to
    /// the answer, which re-hashes and records them exactly as before.
    private func verifyAhead() {
        let t = monotonicSeconds()
        guard canVerifyAhead, t >= aheadDue else { return }
        aheadDue = t + AheadVerification.refreshSeconds
        guard let context else { return }
        let now = runner.clock.now()
        do {
            // Looked at each time (parsed again only when its stat changed): a scan that walked
            // for itself meanwhile moved `scans`.
            let before = try state.loadState(commit: context.manifest.commit, memo: runner.stateMemo)
            let n = max(0, before.scans ?? 0)
            let every = context.policy.reverifyEvery
            if var v = ahead, v.matches(scans: n, reverifiedAt: before.reverifiedAt, every: every, epoch: epoch) {
                var arc = ReverifySlice(every: v.every, scan: v.scan, last: v.through, now: now)
                arc.bucket = false
                if arc.all {
                    ahead = nil
                    return
                }
                let (verified, unverified) = try compareAhead(arc)
                v.verified += verified
                v.unverified.formUnion(unverified)
                v.through = now
                ahead = v
            } else {
                ahead = nil
                let slice = ReverifySlice(every: every, scan: n,
                                          last: before.reverifiedAt.flatMap(Timestamp.parse), now: now)
                if slice.all { return }
                let (verified, unverified) = try compareAhead(slice)
                ahead = AheadVerification(scan: n, last: before.reverifiedAt, every: slice.every, epoch: epoch,
                                          through: now, verified: verified, unverified: unverified)
            }
        } catch {
            // Nothing recorded: the next answer re-hashes its slice itself.
            ahead = nil
        }
    }

    /// Re-hashes the cached paths of `slice` and compares them with the model, recording nothing.
    private func compareAhead(_ slice: ReverifySlice) throws -> (verified: Int, unverified: Set<[UInt8]>) {
        guard let context, let classifier, let model else { return (0, []) }
        var scope = ScanScope()
        let records = model.newCache.entries
        for p in sliceIndex.paths(in: slice, of: records) ?? records.lazy.map(\.path).filter(slice.contains) {
            scope.paths.insert(p)
        }
        if scope.isEmpty { return (0, []) }
        var partial = PartialScan(context: context, classifier: classifier)
        partial.reverify = slice
        partial.hashBudget = Self.batchHashBudget
        let cache = bigFiles?.merged(into: model.newCache) ?? model.newCache
        var compared = scope
        let part = try partial.compare(&compared, cache: cache, now: runner.clock.now()) { _ in }
        let unverified = AheadVerification.disagreeing(compared, part: part, model: model)
        return (max(0, part.result.filesReverified - unverified.count), unverified)
    }

    // MARK: degraded modes

    private var currentFullScanEveryMs: Int64 {
        let persistent = watches.inotify == nil || !watches.unwatched.isEmpty || !watches.unreadable.isEmpty
            || !watches.failed.isEmpty || !unreadable.isEmpty || failure != nil
        return persistent ? min(options.rescanEveryMs, options.degradedEveryMs) : options.rescanEveryMs
    }

    private func refreshDegraded() {
        var reasons: [(String, String)] = []
        if let e = inotifyFailure {
            reasons.append(("inotify", "inotify unavailable (\(e)): full scans only"))
        }
        if !watches.unwatched.isEmpty {
            let why = watches.limitFailure.map { " (\($0))" } ?? ""
            reasons.append(("watch-limit", "watch limit: \(watches.unwatched.count) directories not watched\(why), "
                            + "\(watches.count) watched; raise fs.inotify.max_user_watches"))
        }
        if let (dir, e) = watches.failed.min(by: { bytesLess($0.key, $1.key) }) {
            reasons.append(("watch-error", "\(watches.failed.count) directories could not be watched "
                            + "(\(PathBytes.display(dir)): \(e))"))
        }
        let unread = Set(unreadable).union(watches.unreadable)
        if let first = unread.min(by: bytesLess) {
            reasons.append(("unreadable", "\(unread.count) unreadable directories (\(PathBytes.display(first)))"))
        }
        if overflowSinceSafetyNet {
            reasons.append(("overflow", "inotify queue overflowed \(status.overflows) time(s); rescanned; "
                            + "clears at the next periodic full scan"))
        }
        if let f = failure { reasons.append(("error", "last batch failed: \(f)")) }
        // Keys are the log's `reason` values (docs/operations.md); the texts name the cause.
        for (key, text) in reasons where !loggedReasons.contains(key) && key != "overflow" && key != "unreadable" {
            warn(key, text)
        }
        loggedReasons = Set(reasons.map(\.0))
        status.degraded = !reasons.isEmpty
        status.degradedReasons = reasons.map(\.1)
        status.watchedDirectories = watches.count
        status.unwatchedDirectories = watches.unwatched.count + watches.unreadable.count + watches.failed.count
        status.fullScanEverySeconds = Int(currentFullScanEveryMs / 1000)
    }

    private func publishStatus() {
        status.updated = Timestamp.format(runner.clock.now())
        do { try status.write(to: state) } catch { Output.stderr("drift: warning: \(error)\n") }
    }

    private func fail(_ error: Error) {
        let text = (error as? DriftError)?.message ?? "\(error)"
        failure = text
        epoch += 1
        warn("error", "batch failed: \(text); retrying with a full scan")
        needFull = nil
        pending.removeAll()
        retryAt = monotonicSeconds() + Double(min(options.rescanEveryMs, options.degradedEveryMs)) / 1000
        refreshDegraded()
        publishStatus()
    }

    private func warn(_ reason: String, _ message: String) {
        Output.stderr("drift: warning: \(message)\n")
        guard let log = options.log else { return }
        if let line = try? WatchTelemetry.warningLine(reason, message, now: runner.clock.now()) {
            try? Telemetry.append(line, toPath: log)
        }
    }

    private func say(_ message: String) {
        Output.stdout("\(Timestamp.format(runner.clock.now())) drift watch: \(message)\n")
    }

    // MARK: signals

    /// SIGHUP: the manifest and policy again, a new set of watches, a full scan; on error
    /// the old ones stay.
    private func reload() {
        reloadRequested = false
        epoch += 1
        do {
            let set = makeWatchSet(root: try peekRoot())
            try fullScan("reload", using: set)
            say("reloaded the manifest and policy; \(watches.count) directories watched")
        } catch {
            let text = (error as? DriftError)?.message ?? "\(error)"
            warn("reload", "SIGHUP reload failed, keeping the previous manifest and policy: \(text)")
        }
    }

    /// SIGTERM/SIGINT: records what is pending now (settled or not), then stops.
    private func stop() {
        let (scope, pipDirty) = pending.takeReady(now: monotonicSeconds(), settle: settle, maxWait: maxWait,
                                                  pipRule: pipRule, all: true)
        do {
            if let reason = needFull {
                try fullScan(reason)
            } else if !scope.isEmpty || pipDirty {
                try batch(scope, pipDirty: pipDirty)
            }
        } catch {
            let text = (error as? DriftError)?.message ?? "\(error)"
            warn("stop", "the last batch was not recorded (\(text)); the next start catches up")
        }
        status.phase = "stopped"
        status.stopped = Timestamp.format(runner.clock.now())
        publishStatus()
        say("stopped")
    }
}

/// Seconds on the monotonic clock (settle and rescan timers never jump with the wall clock).
func monotonicSeconds() -> Double {
    SystemProcess.monotonicSeconds()
}
