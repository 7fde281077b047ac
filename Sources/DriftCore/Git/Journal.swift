#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The journal: every distinct drift state seen, as a chain of snapshot commits in a
/// bare repository under the state dir (`journal.git`, objects of the base borrowed from
/// MDIR through `objects/info/alternates`). Branch `refs/heads/journal` is the latest.
///
/// A snapshot's tree is the base tree with the code drift applied; config, data, secret
/// and oversized files appear only by name (and hash) in the commit message.
public struct Journal {
    public static let ref = "refs/heads/journal"
    public var state: StateDirectory
    public var manifestDir: ManifestDirectory
    public var commit: String

    public init(state: StateDirectory, manifestDir: ManifestDirectory, commit: String) {
        self.state = state
        self.manifestDir = manifestDir
        self.commit = commit
    }

    var path: String { state.file("journal.git") }

    /// Opens the journal repository, creating it on first use.
    public func open(create: Bool) throws -> GitRepository? {
        let base = try BaseObjects.open(manifestDir, commit: commit)
        _ = base
        let alternates = path + "/objects/info/alternates"
        if !FileManager.default.fileExists(atPath: path + "/objects") {
            if !create { return nil }
            _ = try GitRepository(initBare: path)
        }
        let baseRepoPath = manifestDir.file(ManifestDirectory.baseRepo)
        let baseObjects = (canonicalPath(baseRepoPath) ?? baseRepoPath) + "/objects\n"
        // Re-point at MDIR every time: a recreated container may mount it elsewhere.
        if (try? readWholeFile(alternates)) != Array(baseObjects.utf8) {
            try AtomicFile.makeDirectory(path + "/objects/info")
            try AtomicFile.write(Array(baseObjects.utf8), to: alternates)
        }
        return try GitRepository(path: path)
    }

    /// Whether the journal branch exists as a loose ref (libgit2 writes it loose).
    public var hasSnapshotRef: Bool { FileManager.default.fileExists(atPath: path + "/" + Self.ref) }

    /// The latest snapshot commit, if any.
    public func latest() throws -> (GitRepository, ObjectID)? {
        guard let repo = try open(create: false), let id = repo.reference(Self.ref) else { return nil }
        return (repo, id)
    }

    /// What the scan saw, in one hash: when it equals the last fully recorded drift, the
    /// journal has nothing to add and cron scans skip re-reading every drifted file.
    public static func fingerprint(_ changes: [FileChange], pip: [PipChange]) throws -> String {
        var s = "journal-fp/1\n"
        for c in changes {
            let digest = c.new?.digest?.hex ?? "-"
            let mode = c.new?.gitMode ?? "-"
            s += "\(c.change.rawValue) \(PathBytes.escape(c.path)) \(digest) \(mode) \(c.unstable)\n"
        }
        for p in pip where !p.allowed { s += "pip \(SnapshotPip(p).line)\n" }
        return try SHA256Hasher.digest(Array(s.utf8)).hex
    }

    /// What recording gave: whether every content was settled, and the files whose content
    /// the journal read itself and found different from the scan's (the report takes those).
    public struct Recorded: Sendable {
        /// False when some content moved while it was read (so the next scan must try again).
        public var complete: Bool
        public var observed: [[UInt8]: EntryState]
    }

    /// Records the current drift when it differs from the latest snapshot. `contents` are
    /// the bytes the scan hashed (so what is journaled is what was reported).
    @discardableResult
    public func record(_ changes: [FileChange], pip: [PipChange] = [], requirements: String? = nil,
                       root: [UInt8], policy: Policy, now: Date, secrets: SecretIndex = SecretIndex(),
                       contents: [[UInt8]: [UInt8]] = [:], blobCache: JournalBlobCache? = nil) throws -> Recorded {
        let pipDrift = pip.filter { !$0.allowed }
        if changes.isEmpty && pipDrift.isEmpty { return Recorded(complete: true, observed: [:]) }
        guard let repo = try open(create: true), let base = ObjectID(hex: commit) else {
            return Recorded(complete: false, observed: [:])
        }
        var builder = DriftTreeBuilder(repo: repo, baseCommit: base, reader: FileReader(root: root),
                                       sizeLimit: policy.sizeLimit)
        builder.secrets = secrets
        builder.blobCache = blobCache
        let built = try builder.build(changes, pip: pipDrift, requirements: requirements, contents: contents)
        let complete = !built.withheld.contains { $0.1 == "changed while read" }
        let done = Recorded(complete: complete, observed: built.observed)
        let id = try DriftID.compute(base: commit, tree: built.tree, withheld: built.withheld, pip: pipDrift)
        let previous = repo.reference(Self.ref)
        if let p = previous, try Trailers(repo.message(of: p)).values("Drift-Id").contains(id) { return done }
        let host = Output.hostName()
        var msg = "drift snapshot on \(host): \(changes.count) path(s), \(pipDrift.count) pip change(s)\n\n"
            + "Host: \(host)\nTime: \(Timestamp.format(now))\n\n"
        var entries: [SnapshotEntry] = built.included.map { SnapshotEntry($0, inTree: true, reason: nil) }
        entries += built.withheld.map { SnapshotEntry($0.0, inTree: false, reason: $0.1) }
        entries.sort { PathBytes.less($0.path, $1.path) }
        msg += entries.map { $0.line + "\n" }.joined()
        msg += pipDrift.map { "Drift-Pip: " + SnapshotPip($0).line + "\n" }.joined()
        msg += "Drift-Id: \(id)\nDrift-Base: \(commit)\n"
        let who = GitPerson(name: "drift", email: "drift@\(host)", time: now)
        let snap = try repo.createCommit(tree: built.tree, parents: [previous ?? base], author: who, committer: who,
                                         message: msg)
        try repo.setReference(Self.ref, to: snap)
        return done
    }
}

/// A parsed snapshot commit message.
public struct SnapshotInfo: Sendable {
    public var id: String
    public var host: String
    public var time: String
    public var entries: [SnapshotEntry]
    public var pip: [PipChange] = []
    /// The `Drift-Base` trailer: the commit the snapshot's tree is based on.
    public var base = ""

    /// Entries, pip changes, id and base from the trailer block (`Trailers`); host and time
    /// from the second paragraph, where `Journal.record` writes them.
    public static func parse(_ message: String) -> SnapshotInfo {
        var info = SnapshotInfo(id: "", host: "", time: "", entries: [])
        let trailers = Trailers(message)
        for (key, value) in trailers.pairs {
            let line = Substring(key + ": " + value)
            if let e = SnapshotEntry.parse(line) { info.entries.append(e) } else if let p = SnapshotPip.parse(line) {
                info.pip.append(p.change)
            }
        }
        info.id = trailers.single("Drift-Id") ?? ""
        info.base = trailers.single("Drift-Base") ?? ""
        let paragraphs = message.components(separatedBy: "\n\n")
        for line in (paragraphs.count > 1 ? paragraphs[1] : "").split(separator: "\n") {
            if line.hasPrefix("Host: ") {
                info.host = String(line.dropFirst(6))
            } else if line.hasPrefix("Time: ") {
                info.time = String(line.dropFirst(6))
            }
        }
        return info
    }
}
