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
    public var root: String?
    public var state: StateDirectory
    public var full = false
    /// Seconds to wait for another run's state lock (`--wait`).
    public var waitSeconds: Double = 0
    /// Record new drift in the journal (every verb that scans does, so nothing seen is lost).
    public var journal = true
    /// Other files this run will write (`--log`, `--metrics`), refused inside the root
    /// before anything is scanned or written.
    public var writeTargets: [(path: String, what: String)] = []

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
        /// The workspace's secrets, for withholding code that carries their content.
        public var secrets = SecretIndex()
    }

    /// Runs a scan; `alreadyLocked` when the caller holds the state lock for longer.
    public func run(alreadyLocked: Bool = false) throws -> Outcome {
        let (walk, manifest, policy, oldCache) = try loadAndWalk()
        let rootBytes = root.map { Array($0.utf8) } ?? manifest.root
        try state.ensure()
        // One writer at a time: the lock covers state, cache and journal until we return.
        let lock = alreadyLocked ? nil : try StateLock(state: state, wait: waitSeconds)
        defer { withExtendedLifetime(lock) {} }
        var st = try state.loadState(commit: manifest.commit)
        let now = Timestamp.now()
        var scanner = Scanner(manifest: manifest, policy: policy, root: rootBytes, cache: oldCache)
        let scanNumber = max(0, st.scans ?? 0)
        scanner.reverify = ReverifySlice(every: policy.reverifyEvery, scan: scanNumber)
        st.scans = scanNumber < Int(Int32.max) ? scanNumber + 1 : 0
        var result = try scanner.compare(walk, now: now)
        try checkBytecode(&result, walk: walk, root: rootBytes)
        st.merge(&result.changes)
        let reader = FileReader(root: rootBytes)
        let secrets = SecretIndex(walk: walk, manifest: manifest, changes: result.changes, reader: reader)
        secrets.flag(&result.changes, walk: walk, reader: reader, sizeLimit: policy.sizeLimit)
        var pip: [PipChange] = []
        var pipCounts = (0, 0)
        let baseline = try PipBaseline.load(manifestDir, manifest: manifest)
        if let baseline {
            let oldPip = full ? nil : state.loadCache(name: "pipcache")
            let p = try PipScanner(baseline: baseline, allow: policy.pipAllow, cache: oldPip).run()
            pip = p.changes
            pipCounts = (p.checked, p.hashed)
            result.issues += p.issues
            result.issues.sort { PathBytes.less($0.path, $1.path) }
            if oldPip?.entries != p.newCache.entries { try state.saveCache(p.newCache, name: "pipcache") }
        }
        if journal && !(result.changes.isEmpty && pip.allSatisfy(\.allowed)) {
            // Persistent drift is recorded once: unchanged drift skips reading the files again.
            let fp = try Journal.fingerprint(result.changes, pip: pip)
            let journal = Journal(state: state, manifestDir: manifestDir, commit: manifest.commit)
            // A file test, not a repository open: recording is idempotent, so a snapshot
            // missed here only costs one redundant `record`.
            if st.journalFingerprint != fp || !journal.hasSnapshotRef {
                let recorded = try journal.record(result.changes, pip: pip, requirements: baseline?.requirements,
                                                  root: rootBytes, policy: policy, now: now, secrets: secrets,
                                                  contents: result.contents)
                Self.adopt(recorded.observed, into: &result.changes)
                st.journalFingerprint = recorded.complete && recorded.observed.isEmpty ? fp : nil
            }
        }
        var report = ScanReport(commit: manifest.commit, root: rootBytes, host: Output.hostName(), scannedAt: now,
                                changes: result.changes, pip: pip, issues: result.issues,
                                checked: result.filesChecked, hashed: result.filesHashed,
                                deadline: policy.deadline.flatMap(Deadline.parse), now: now)
        report.summary.pipChecked = pipCounts.0
        report.summary.pipHashed = pipCounts.1
        st.lastScan = Timestamp.format(now)
        st.lastExitCode = Int(report.exitCode)
        if oldCache?.entries != result.newCache.entries { try state.saveCache(result.newCache) }
        try state.saveState(st)
        return Outcome(report: report, result: result, manifest: manifest, policy: policy, rootBytes: rootBytes,
                       pip: pip, requirements: baseline?.requirements, secrets: secrets)
    }

    /// Pyc changes are verified against their sources (`BytecodeCheck`): legitimate runtime
    /// bytecode is no drift, forged bytecode is `bytecode` drift.
    private func checkBytecode(_ result: inout Scanner.Result, walk: TreeWalk, root: [UInt8]) throws {
        let pycs = Set(result.changes.lazy.filter { BytecodeCheck.parse($0.path) != nil }.map(\.path))
        let old = full ? nil : state.loadCache(name: "pyccache")
        if pycs.isEmpty {
            if old?.entries.isEmpty == false { try state.saveCache(StatCache(), name: "pyccache") }
            return
        }
        var stats: [[UInt8]: FileStat] = [:]
        for e in walk.entries where pycs.contains(e.path) { stats[e.path] = e.stat }
        let checked = BytecodeCheck(root: root, cache: old).apply(result.changes, stats: stats)
        result.changes = checked.changes
        result.issues += checked.issues
        result.issues.sort { PathBytes.less($0.path, $1.path) }
        if old?.entries != checked.newCache.entries { try state.saveCache(checked.newCache, name: "pyccache") }
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
    private func loadAndWalk() throws -> (TreeWalk, Manifest, Policy, StatCache?) {
        let raw = try manifestDir.readRaw()
        // Walk (kernel-bound) while the manifest is parsed and verified (CPU-bound): the
        // walk result is used only once the manifest has verified.
        guard let peeked = root.map({ Array($0.utf8) }) ?? Manifest.peekRoot(raw.manifestBytes) else {
            _ = try raw.parseManifest()
            throw DriftError("\(raw.manifestFile): manifest has no root")
        }
        try raw.verifyPolicyPin()
        let policyForWalk = try? raw.parsePolicy()
        let walkSlot = Slot<TreeWalk>(), loadSlot = Slot<(Manifest, Policy, StatCache?)>()
        try refuseWriteUnder(root: PathBytes.fsString(peeked), target: state.path, what: "state dir")
        for t in writeTargets { try refuseWriteUnder(root: PathBytes.fsString(peeked), target: t.path, what: t.what) }
        let useCache = !full
        let stateDir = state
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if i == 0 {
                guard let p = policyForWalk else { return }
                walkSlot.set { try TreeWalk.run(root: peeked, classifier: Classifier(policy: p)) }
            } else {
                loadSlot.set {
                    let m = try raw.parseManifest()
                    try raw.verifyPolicy(m)
                    return (m, try raw.parsePolicy(), useCache ? stateDir.loadCache() : nil)
                }
            }
        }
        let (manifest, policy, oldCache) = try loadSlot.get()
        return (try walkSlot.get(), manifest, policy, oldCache)
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
