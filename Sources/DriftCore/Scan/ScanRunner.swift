import Foundation

/// A whole `drift scan`: load and verify MDIR, scan, keep first-seen times, update the
/// stat cache and the journal, build the report. Writes only under the state dir.
public struct ScanRunner {
    public var manifestDir: ManifestDirectory
    public var root: String?
    public var state: StateDirectory
    public var full = false
    /// Record new code content in the journal (off for read-only callers like `diff`).
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
    }

    public func run() throws -> Outcome {
        let (manifest, policy) = try manifestDir.load()
        let rootBytes = root.map { Array($0.utf8) } ?? manifest.root
        let rootString = PathBytes.display(rootBytes)
        try refuseWriteUnder(root: rootString, target: state.path, what: "state dir")
        try state.ensure()
        var st = try state.loadState(commit: manifest.commit)
        let now = Timestamp.now()
        let scanner = Scanner(manifest: manifest, policy: policy, root: rootBytes, cache: full ? nil : state.loadCache())
        var result = try scanner.run(now: now)
        st.merge(&result.changes)
        if journal {
            try Journal(state: state, manifestDir: manifestDir, commit: manifest.commit)
                .record(result.changes, root: rootBytes, policy: policy, now: now)
        }
        let report = ScanReport(commit: manifest.commit, root: rootBytes, host: Output.hostName(), scannedAt: now,
                                changes: result.changes, pip: [], issues: result.issues,
                                checked: result.filesChecked, hashed: result.filesHashed,
                                deadline: policy.deadline.flatMap(Deadline.parse), now: now)
        st.lastScan = Timestamp.format(now)
        st.lastExitCode = Int(report.exitCode)
        try state.saveCache(result.newCache)
        try state.saveState(st)
        return Outcome(report: report, result: result, manifest: manifest, policy: policy, rootBytes: rootBytes)
    }
}
