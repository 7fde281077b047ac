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
        let (walk, manifest, policy, oldCache) = try loadAndWalk()
        let rootBytes = root.map { Array($0.utf8) } ?? manifest.root
        try state.ensure()
        // One writer at a time: the lock covers state, cache and journal until we return.
        let lock = alreadyLocked ? nil : try StateLock(state: state, wait: waitSeconds)
        defer { withExtendedLifetime(lock) {} }
        var st = try state.loadState(commit: manifest.commit)
        let now = Timestamp.now()
        let scanner = Scanner(manifest: manifest, policy: policy, root: rootBytes, cache: oldCache)
        var result = try scanner.compare(walk, now: now)
        st.merge(&result.changes)
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
                let complete = try journal.record(result.changes, pip: pip, requirements: baseline?.requirements, root: rootBytes, policy: policy, now: now)
                st.journalFingerprint = complete ? fp : nil
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
                       pip: pip, requirements: baseline?.requirements)
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
        let policyForWalk = try? raw.parsePolicy()
        let walkSlot = Slot<TreeWalk>(), loadSlot = Slot<(Manifest, Policy, StatCache?)>()
        try refuseWriteUnder(root: PathBytes.display(peeked), target: state.path, what: "state dir")
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
