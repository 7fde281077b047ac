import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Bakes a manifest directory from a workspace root and the git commit it was built from.
public struct ManifestCreator {
    /// The workspace root, as bytes (a name that is not UTF-8 is a root like any other).
    public var root: [UInt8]
    /// The repository, `--policy`: bytes as given (a name that is not UTF-8 too).
    public var repo: [UInt8]
    public var commit: String = "HEAD"
    public var policyPath: [UInt8]?
    /// `--site-packages` and `--requirements`: bytes as given (a name that is not UTF-8 too).
    public var sitePackages: [[UInt8]] = []
    public var requirements: [UInt8]?
    /// MDIR to write, as bytes.
    public var output: [UInt8]
    /// Counters for a progress line; nil for none.
    public var progress: ProgressCounters?
    /// Ed25519 private key (PEM) to sign `manifest.txt` with, named by bytes (`--sign-key` as given).
    public var signKey: [UInt8]?

    public init(root: [UInt8], repo: [UInt8], output: [UInt8]) {
        self.root = root
        self.repo = repo
        self.output = output
    }

    /// What `create` produced.
    public struct Summary: Sendable {
        public var commit: String
        public var files: Int
        public var bytes: Int64
        /// The commit's paths (not ignored) whose content or mode differs in the root, or that
        /// the root lacks (files only in the root are not counted). 0 for a checkout of it.
        public var differing: Int
    }

    /// Hashes the workspace, bakes the base commit's objects as one pack, records the pip
    /// baseline and policy, and writes (and optionally signs) the manifest directory.
    /// - Returns: the commit, the number of entries and their bytes.
    /// - Throws: `DriftError` for bad input (output inside the root, unreadable policy or
    ///   key); `GitError` when the repository or commit cannot be read.
    public func create() throws -> Summary {
        let rootBytes = root
        try refuseWriteUnder(root: root, target: output, what: "manifest directory")
        // A run killed between an atomic write's temp file and its rename left `NAME.tmp.PID`.
        for n in directoryEntries(output) ?? [] where n.contains(text: ".tmp.") {
            try? FileSystem.unlink(PathBytes.join(output, n))
        }
        let policy = try policyPath.map { try Policy.load(path: $0) } ?? Policy.builtIn()
        let repository = try GitRepository(path: repo)
        let commitID = try repository.resolveCommit(commit)

        // The walk lives only inside this closure: the flat table outlives it, so the bake
        // below runs without the walk's per-path arrays in memory.
        let (table, bytes) = try { () throws -> (ManifestTable, Int64) in
            let walk = try TreeWalk.run(root: rootBytes, classifier: Classifier(policy: policy))
            if let deep = walk.issues.first(where: \.beyondLimit) {
                throw DriftError(.walkLimit, path: PathBytes.join(rootBytes, deep.path), "\(deep.message) "
                    + "(manifest create needs every entry; nothing written)")
            }
            if let first = walk.issues.first {
                throw DriftError(.unreadable, path: PathBytes.join(rootBytes, first.path), "\(first.message) " +
                    "(manifest create needs every entry readable; \(walk.issues.count) problem(s))")
            }
            let reader = FileReader(root: rootBytes)
            return try Self.hashEntries(walk, reader: reader, progress: progress)
        }()

        try AtomicFile.makeDirectory(output)
        let mdir = ManifestDirectory(path: output)
        var pins: [(name: String, sha256: Digest)] = []
        try BaseObjects.bake(from: repository, commit: commitID, into: mdir.file(ManifestDirectory.baseRepo))
        if !sitePackages.isEmpty || requirements != nil {
            let pip = try PipBaseline.record(sitePackages: sitePackages, requirements: requirements, root: root)
            let pb = try JSONCoding.encode(pip)
            try AtomicFile.write(pb, to: mdir.file(ManifestDirectory.pipFile))
            pins.append((ManifestDirectory.pipFile, try SHA256Hasher.digest(pb)))
        }
        try AtomicFile.write(policy.source, to: mdir.file(ManifestDirectory.policyFile))
        // The binary index of the entries: a scan reads it instead of parsing the entry lines.
        try AtomicFile.write(table.bytes, to: mdir.file(ManifestDirectory.indexFile))
        pins.append((ManifestDirectory.indexFile, try SHA256Hasher.digest(table.bytes)))
        let absRoot = canonicalPath(root) ?? root
        var manifest = Manifest(commit: commitID.hex, root: absRoot,
                                policySHA256: try SHA256Hasher.digest(policy.source), pins: pins, entries: [])
        manifest.entries = table
        let text = try manifest.serialized()
        if let key = signKey {
            // Sign before anything is written: a bad key leaves no unsigned manifest behind.
            let sig = try Ed25519.sign(text, keyFile: key)
            try AtomicFile.write(text, to: mdir.file(ManifestDirectory.manifestFile))
            try AtomicFile.write(sig, to: mdir.file(ManifestDirectory.signatureFile))
        } else {
            try AtomicFile.write(text, to: mdir.file(ManifestDirectory.manifestFile))
            try? FileSystem.unlink(mdir.file(ManifestDirectory.signatureFile))
        }
        let differing = try RootVersusCommit.differing(table, repo: repository, commit: commitID,
                                                       classifier: Classifier(policy: policy))
        return Summary(commit: commitID.hex, files: table.count, bytes: bytes, differing: differing)
    }
}

extension ManifestCreator {
    /// The walk's regular files hashed and its symlinks read, as one table in path order
    /// (the walk's order: no sort, no second copy of the entries), and the bytes hashed.
    static func hashEntries(_ walk: TreeWalk, reader: FileReader,
                            progress: ProgressCounters?) throws -> (ManifestTable, Int64) {
        var jobs: [ReadJob] = []
        for e in walk.entries where e.stat.kind == .regular { jobs.append(ReadJob(path: e.path)) }
        let outcomes = ParallelHasher.read(jobs, readers: [reader], progress: progress)
        jobs = []
        var entries: [ManifestEntry] = []
        entries.reserveCapacity(outcomes.count)
        var bytes: Int64 = 0
        var k = 0
        for e in walk.entries {
            switch e.stat.kind {
            case .regular:
                switch outcomes[k] {
                case .failed(let m): throw DriftError(.unreadable, path: e.path, m)
                case .read(let c):
                    guard c.stable else {
                        throw DriftError(.unreadable, path: e.path, "changed while it was hashed; " +
                            "run manifest create on a quiet tree")
                    }
                    bytes += c.stat.size
                    entries.append(ManifestEntry(path: e.path, kind: .regular, executable: c.stat.isExecutable,
                                                 size: c.stat.size, digest: c.digest))
                }
                k += 1
            case .symlink:
                let t = try reader.readLink(e.path)
                entries.append(ManifestEntry(path: e.path, kind: .symlink, executable: false, size: Int64(t.count),
                                             digest: try SHA256Hasher.digest(t), target: t))
            default: continue
            }
        }
        return (ManifestTable(entries), bytes)
    }
}

