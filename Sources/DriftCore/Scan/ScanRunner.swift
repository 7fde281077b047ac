import Foundation

/// A whole `drift scan`: load and verify MDIR, scan, keep first-seen times, update the
/// stat cache and the journal, build the report. Writes only under the state dir.
public struct ScanRunner {
    public var manifestDir: ManifestDirectory
    public var root: String?
    public var state: StateDirectory
    public var full = false
    /// Seconds to wait for another run's state lock (`--wait`).
    public var waitSeconds: Double = 0
    /// Record new drift in the journal (every verb that scans does, so nothing seen is lost).
    public var journal = true
    /// Called on the walking thread for each directory the walk enters, before it is read
    /// (`drift watch` adds its inotify watch there, so nothing written later is missed).
    public var onDirectory: (@Sendable ([UInt8]) -> Void)?

    public init(manifestDir: ManifestDirectory, root: String?, state: StateDirectory) {
        self.manifestDir = manifestDir
        self.root = root
        self.state = state
    }

    public struct Outcome {
        public var report: ScanReport
        public var result: Scanner.Result
        public var manifest: Manifest
        public var policy: Policy
        public var rootBytes: [UInt8]
        public var pip: [PipChange]
        /// The baked requirements file (relative to the root when under it).
        public var requirements: String?
    }

    /// Runs a scan; `alreadyLocked` when the caller holds the state lock for longer.
    public func run(alreadyLocked: Bool = false) throws -> Outcome {
        let loaded = try loadAndWalk()
        try state.ensure()
        // One writer at a time: the lock covers state, cache and journal until we return.
        let lock = alreadyLocked ? nil : try StateLock(state: state, wait: waitSeconds)
        defer { withExtendedLifetime(lock) {} }
        let now = Timestamp.now()
        let findings = try find(loaded, now: now)
        return try record(findings, loaded.context, now: now)
    }

    /// What a scan works against: the verified manifest and policy, the root, the pip baseline.
    public struct Context {
        public var manifest: Manifest
        public var policy: Policy
        public var rootBytes: [UInt8]
        public var baseline: PipBaseline?
    }

    /// MDIR read and verified, the root walked, the old stat cache: a scan's input.
    public struct Loaded {
        public var context: Context
        public var walk: TreeWalk
        public var oldCache: StatCache?
    }

    /// A site-packages comparison, with its stat cache before and after.
    public struct PipFindings {
        public var result: PipScanner.Result
        public var oldCache: StatCache?
    }

    /// What a comparison found, before anything is written: `drift watch` compares without
    /// the state lock and takes it only for `record`.
    public struct Findings {
        public var result: Scanner.Result
        /// nil when there is no pip baseline.
        public var pip: PipFindings?
        /// The stat cache before the comparison; `record` saves `result.newCache` when it differs.
        /// nil leaves the `statcache` file alone.
        public var oldCache: StatCache?
        public var saveCache = true

        public init(result: Scanner.Result, pip: PipFindings?, oldCache: StatCache?, saveCache: Bool = true) {
            self.result = result
            self.pip = pip
            self.oldCache = oldCache
            self.saveCache = saveCache
        }
    }

    /// Compares a finished walk with the manifest, and site-packages with the pip baseline.
    /// Reads the workspace and the state dir's caches; writes nothing.
    public func find(_ loaded: Loaded, now: Date) throws -> Findings {
        let c = loaded.context
        let scanner = Scanner(manifest: c.manifest, policy: c.policy, root: c.rootBytes, cache: loaded.oldCache)
        let result = try scanner.compare(loaded.walk, now: now)
        return Findings(result: result, pip: try findPip(c), oldCache: loaded.oldCache)
    }

    /// Compares site-packages with the pip baseline (nil without one).
    public func findPip(_ c: Context) throws -> PipFindings? {
        guard let baseline = c.baseline else { return nil }
        let oldPip = full ? nil : state.loadCache(name: "pipcache")
        let p = try PipScanner(baseline: baseline, allow: c.policy.pipAllow, cache: oldPip).run()
        return PipFindings(result: p, oldCache: oldPip)
    }

    /// The writing half of a scan; the caller holds the state lock. Keeps first-seen times,
    /// records new drift in the journal, saves the caches and `state.json`, builds the report.
    public func record(_ findings: Findings, _ c: Context, now: Date) throws -> Outcome {
        var st = try state.loadState(commit: c.manifest.commit)
        var result = findings.result
        st.merge(&result.changes)
        var pip: [PipChange] = []
        var pipCounts = (0, 0)
        if let p = findings.pip {
            pip = p.result.changes
            pipCounts = (p.result.checked, p.result.hashed)
            result.issues += p.result.issues
            result.issues.sort { PathBytes.less($0.path, $1.path) }
            if p.oldCache?.entries != p.result.newCache.entries {
                try state.saveCache(p.result.newCache, name: "pipcache")
            }
        }
        if journal && !(result.changes.isEmpty && pip.allSatisfy(\.allowed)) {
            // Persistent drift is recorded once: unchanged drift skips reading the files again.
            let fp = try Journal.fingerprint(result.changes, pip: pip)
            let journal = Journal(state: state, manifestDir: manifestDir, commit: c.manifest.commit)
            // A file test, not a repository open: recording is idempotent, so a snapshot
            // missed here only costs one redundant `record`.
            if st.journalFingerprint != fp || !journal.hasSnapshotRef {
                let complete = try journal.record(result.changes, pip: pip, requirements: c.baseline?.requirements,
                                                  root: c.rootBytes, policy: c.policy, now: now)
                st.journalFingerprint = complete ? fp : nil
            }
        }
        var report = ScanReport(commit: c.manifest.commit, root: c.rootBytes, host: Output.hostName(), scannedAt: now,
                                changes: result.changes, pip: pip, issues: result.issues,
                                checked: result.filesChecked, hashed: result.filesHashed,
                                deadline: c.policy.deadline.flatMap(Deadline.parse), now: now)
        report.summary.pipChecked = pipCounts.0
        report.summary.pipHashed = pipCounts.1
        st.lastScan = Timestamp.format(now)
        st.lastExitCode = Int(report.exitCode)
        if findings.saveCache && findings.oldCache?.entries != result.newCache.entries {
            try state.saveCache(result.newCache)
        }
        try state.saveState(st)
        return Outcome(report: report, result: result, manifest: c.manifest, policy: c.policy, rootBytes: c.rootBytes,
                       pip: pip, requirements: c.baseline?.requirements)
    }

    /// Reads MDIR and walks the root at the same time; the raw manifest bytes are dropped
    /// when this returns (they are a large part of peak memory on big trees).
    public func loadAndWalk() throws -> Loaded {
        let raw = try manifestDir.readRaw()
        // Walk (kernel-bound) while the manifest is parsed and verified (CPU-bound): the
        // walk result is used only once the manifest has verified.
        guard let peeked = root.map({ Array($0.utf8) }) ?? Manifest.peekRoot(raw.manifestBytes) else {
            _ = try raw.parseManifest()
            throw DriftError("\(raw.manifestFile): manifest has no root")
        }
        let policyForWalk = try? raw.parsePolicy()
        let walkSlot = Slot<TreeWalk>(), loadSlot = Slot<(Manifest, Policy, StatCache?)>()
        try refuseWriteUnder(root: PathBytes.display(peeked), target: state.path, what: "state dir")
        let useCache = !full
        let stateDir = state
        let entering = onDirectory
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if i == 0 {
                guard let p = policyForWalk else { return }
                walkSlot.set { try TreeWalk.run(root: peeked, classifier: Classifier(policy: p), entering: entering) }
            } else {
                loadSlot.set {
                    let m = try raw.parseManifest()
                    try raw.verifyPolicy(m)
                    return (m, try raw.parsePolicy(), useCache ? stateDir.loadCache() : nil)
                }
            }
        }
        let (manifest, policy, oldCache) = try loadSlot.get()
        let walk = try walkSlot.get()
        let rootBytes = root.map { Array($0.utf8) } ?? manifest.root
        let baseline = try PipBaseline.load(manifestDir, manifest: manifest)
        let context = Context(manifest: manifest, policy: policy, rootBytes: rootBytes, baseline: baseline)
        return Loaded(context: context, walk: walk, oldCache: oldCache)
    }
}

/// A result handed from one worker thread back to the caller after the join.
final class Slot<T>: @unchecked Sendable {
    private var value: Result<T, Error>?

    func set(_ body: () throws -> T) {
        do { value = .success(try body()) } catch { value = .failure(error) }
    }

    func get() throws -> T {
        guard let v = value else { throw DriftError("internal: a worker produced no result") }
        return try v.get()
    }
}
