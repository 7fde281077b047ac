import DriftGit
import DriftSystem
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
    /// Each snapshot's record (`SnapshotRecord`, JSON) is its git note under this ref.
    static let notesRef = "refs/notes/drift-snapshot"
    public var state: StateDirectory
    public var manifestDir: ManifestDirectory
    public var commit: String

    public init(state: StateDirectory, manifestDir: ManifestDirectory, commit: String) {
        self.state = state
        self.manifestDir = manifestDir
        self.commit = commit
    }

    var path: [UInt8] { state.file("journal.git") }

    /// Refuses a journal its `shallow` file says belongs to another base (a redeploy that
    /// kept the state volume) before anything is re-pointed at this manifest: it stays readable
    /// with its own base's manifest, and `drift log` says so instead of a libgit2 lookup error.
    private func checkBase() throws {
        let file = path.appending(text: "/shallow")
        if FileSystem.isAbsent(file) { return }
        let named = try readWholeFile(file, limit: 4096, followSymlinks: false)
        guard named != Array("\(commit)\n".utf8) else { return }
        let other = DriftError.neutralised(String(decoding: named, as: UTF8.self).trimmingWhitespace())
        throw DriftError(.stateDamaged, path: state.path, "journal belongs to base commit \(other), but the manifest "
            + "is for \(commit); read it with that base's manifest (--manifest, --state), then move the state "
            + "dir aside")
    }

    /// Opens the journal repository, creating it on first use.
    func open(create: Bool) throws -> GitRepository? {
        let base = try BaseObjects.open(manifestDir, commit: commit)
        _ = base
        let alternates = path.appending(text: "/objects/info/alternates")
        if FileSystem.isAbsent(path.appending(text: "/objects")) {
            if !create { return nil }
            _ = try GitRepository(initBare: path)
        }
        try checkBase()
        let baseRepoPath = manifestDir.file(ManifestDirectory.baseRepo)
        let baseDir = canonicalPath(baseRepoPath) ?? baseRepoPath
        // `objects/info/alternates` is one path a line (git and libgit2 alike).
        guard !baseDir.contains(0x0A) else {
            throw DriftError(.manifestInvalid, path: baseDir, "a manifest directory whose path holds a newline "
                             + "cannot be named in the journal's objects/info/alternates; move or link it")
        }
        let baseObjects = baseDir.appending(text: "/objects\n")
        // Re-point at MDIR every time: a recreated container may mount it elsewhere.
        if (try? readWholeFile(alternates)) != baseObjects {
            try AtomicFile.makeDirectory(path.appending(text: "/objects/info"))
            try AtomicFile.write(baseObjects, to: alternates, mode: 0o600)
        }
        // The first snapshot's parent is the base commit, whose own parents are in no object
        // store drift has: without a `shallow` file naming it, stock `git log` and `git fsck`
        // fail on the journal ("Failed to traverse parents"). Journals made before this file
        // existed get it here, on their next open.
        let shallow = Array("\(commit)\n".utf8)
        if (try? readWholeFile(path.appending(text: "/shallow"))) != shallow {
            try AtomicFile.write(shallow, to: path.appending(text: "/shallow"), mode: 0o600)
        }
        return try GitRepository(path: path)
    }

    /// Opens the journal of a state dir whose base is not the manifest's (an archive, or a
    /// state not yet moved aside) as it is: nothing re-pointed or rewritten, the old base's
    /// objects absent (`ExportChain` and the readers skip them). nil: no journal.
    func openAsIs() throws -> GitRepository? {
        if FileSystem.isAbsent(path.appending(text: "/objects")) { return nil }
        let repo = try GitRepository(path: path)
        // Its `alternates` may still name MDIR/base.git, now another base's objects.
        try repo.useOwnObjectsOnly()
        return repo
    }

    /// Opens the journal: as the manifest's when the state's base is `manifestCommit`, else as it is.
    func open(manifestCommit: String) throws -> GitRepository? {
        commit == manifestCommit ? try open(create: false) : try openAsIs()
    }

    /// Whether the journal branch exists as a loose ref (libgit2 writes it loose).
    var hasSnapshotRef: Bool { !FileSystem.isAbsent(path.appending(text: "/" + Self.ref)) }

    /// The latest snapshot commit, if any.
    public func latest() throws -> (GitRepository, ObjectID)? {
        guard let repo = try open(create: false), let id = try repo.reference(Self.ref) else { return nil }
        return (repo, id)
    }

    /// What the scan saw, in one hash: when it equals the last fully recorded drift, the
    /// journal has nothing to add and cron scans skip re-reading every drifted file.
    ///
    /// Version 3 (docs/journal.md "The fingerprint"): the SHA-256 of `journal-fp/3`, then one
    /// line `<count> <sha256>` per chunk of the changes (`FingerprintChunks`: a directory's
    /// changes, small directories together), the digest that of the chunk's lines `<change>
    /// <escaped path> <sha256 or -> <git mode or -> <unstable>`, then the pip lines. A watcher
    /// (`memo`) hashes again only the chunks whose members moved since its last batch. An
    /// older fingerprint (version 2 hashed the lines as one) is only different: one record more.
    static func fingerprint(_ changes: [FileChange], pip: [PipChange], memo: JournalMemo? = nil) throws -> Digest {
        try fingerprintAndFold(changes, pip: pip, memo: memo).fingerprint
    }

    /// `fingerprint`, and with a memo the check of every change the snapshot's fold may fold
    /// (`record`'s `foldable`, a `SequenceCheck`): made in the same pass, while each path is in
    /// cache. `splice`, `generation`: as `DriftState.merge`'s (`ChangeSplice`): when the memo
    /// holds the chunks of the list `splice` edits, only the chunks around its hunks are made
    /// again (`FingerprintChunks.spliced`); the memo then holds this list's, of `generation`.
    static func fingerprintAndFold(_ changes: [FileChange], pip: [PipChange], memo: JournalMemo?,
                                   splice: ChangeSplice? = nil, generation: UInt64? = nil) throws
        -> (fingerprint: Digest, foldable: MemberCheck?) {
        var top = HashedLines(try SHA256Hasher())
        top.append(text: "journal-fp/3")
        try top.endLine()
        var lines = HashedLines(try SHA256Hasher())
        let old = memo?.takeChunks()
        var chunks: [JournalMemo.Chunk]?
        if let old, let splice, let from = old.generation, splice.from == from, splice.to == generation {
            chunks = try FingerprintChunks.spliced(changes, old: old.list, splice: splice, &lines)
        }
        if chunks == nil {
            var known: [MemberCheck: Digest] = [:]
            for c in old?.list ?? [] { known[c.check] = c.digest }
            chunks = try FingerprintChunks.all(changes, checked: memo != nil, known: known, &lines)
        }
        let list = chunks ?? []
        var fold = SequenceCheck()
        for chunk in list {
            fold.append(chunk.fold)
            top.append(text: String(chunk.count))
            top.append(byte: 0x20)
            top.append(digest: chunk.digest)
            try top.endLine()
        }
        for p in pip where !p.allowed {
            top.append(text: "pip " + SnapshotPip(p).line)
            try top.endLine()
        }
        let fingerprint = try top.finish()
        // Only now: a memo is of this list once everything of it was made.
        memo?.putChunks(JournalMemo.Chunks(list: list, generation: generation))
        return (fingerprint, memo == nil ? nil : fold.check)
    }

    /// The fold a record of `changes` would make, kept in `memo` when the record is skipped
    /// (the drift is the one last recorded, `expected`): a watcher's start-up skips it, and its
    /// first batch then folds a million files from scratch (issue 28). The fold reads only the
    /// changes it may fold (`FoldRuns.mayFold`, withheld for their class alone by any record),
    /// so it is made from them without building the tree; a record finds it again when its
    /// count of entries besides the fold is in the fold's range (`JournalMemo.Whole`).
    static func keepFold(_ changes: [FileChange], memo: JournalMemo?, _ foldable: MemberCheck?) throws {
        guard let memo, let foldable else { return }
        if memo.whole?.holds(foldable, entries: changes.count) == true { return }
        var list = WithheldChanges(changes)
        changes.withUnsafeBufferPointer { c in
            for i in c.indices where FoldRuns.mayFold(c[i].fileClass, c[i].secrecy, c[i].change) {
                list.append(i, .notCode(c[i].fileClass))
            }
        }
        _ = try SnapshotFold(list, others: changes.count - list.count, memo: memo, foldable: foldable)
    }

    /// What recording gave: whether every content was settled, and the files whose content
    /// the journal read itself and found different from the scan's (the report takes those).
    public struct Recorded: Sendable {
        /// False when some content moved while it was read (so the next scan must try again).
        var complete: Bool
        var observed: [[UInt8]: EntryState]
        /// The snapshot commit that holds exactly this drift (written now, or the latest one
        /// when it already did); nil when there is no drift to record.
        var snapshot: ObjectID?
        /// The latest snapshot when its record named this drift's id but its tree or record
        /// did not hold what was read (the journal was changed outside drift): a new snapshot
        /// was written over it.
        var replaced: ObjectID?
    }

    /// Records the current drift when it differs from the latest snapshot. `contents` are
    /// the bytes the scan hashed (so what is journaled is what was reported).
    /// - Parameter expected: the caller's fingerprint says the latest snapshot records this
    ///   drift (`drift export` checks it anyway): a latest that does not is replaced, unless it
    ///   holds a secret known now — then `drift forget` must purge it first (thrown, nothing written).
    /// - Parameter foldable: `fingerprintAndFold`'s check of these very `changes` (with the
    ///   blob cache's memo): a fold of the same members as the last is not made again.
    @discardableResult
    public func record(_ changes: [FileChange], pip: [PipChange] = [], requirements: [UInt8]? = nil,
                       root: [UInt8], policy: Policy, now: Date, secrets: SecretIndex = SecretIndex(),
                       contents: [[UInt8]: [UInt8]] = [:], blobCache: JournalBlobCache? = nil,
                       expected: Bool = false, foldable: MemberCheck? = nil) throws -> Recorded {
        try record(changes, pip: pip, requirements: requirements, root: root, policy: policy, now: now,
                   secrets: secrets, contents: contents, blobCache: blobCache, expected: expected,
                   foldable: foldable, splice: nil, generation: nil)
    }

    /// `record`, told by a watcher's batch how `changes` differs from its last list
    /// (`ChangeSplice`; `generation`: this list's). Not used yet.
    func record(_ changes: [FileChange], pip: [PipChange], requirements: [UInt8]?, root: [UInt8], policy: Policy,
                now: Date, secrets: SecretIndex, contents: [[UInt8]: [UInt8]], blobCache: JournalBlobCache?,
                expected: Bool, foldable: MemberCheck?, splice: ChangeSplice?, generation: UInt64?) throws -> Recorded {
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
        let complete = !built.withheldList.anyRetried
        var done = Recorded(complete: complete, observed: built.observed)
        // Big directories of config/data are one entry and one id input each (drift.snapshot/2).
        let fold = try SnapshotFold(built.withheldList, others: built.included.count, memo: blobCache?.memo,
                                    foldable: foldable)
        let inputs = DriftID.inputs(withheld: fold.kept, pip: pipDrift)
            + fold.summaries.compactMap(SnapshotFold.inputLine)
        let id = try DriftID.compute(base: base, tree: built.tree, inputs: inputs)
        let previous = try repo.reference(Self.ref)
        var entries: [SnapshotEntry] = built.included.map { SnapshotEntry($0, inTree: true, reason: nil) }
        entries += fold.kept.map { SnapshotEntry($0.0, inTree: false, reason: $0.1) }
        entries += fold.summaries
        entries.sort { PathBytes.less($0.path, $1.path) }
        if let p = previous, let last = try Self.previous(p, in: repo, unless: expected ? nil : id, blobCache) {
            // A snapshot recorded before ids' inputs were kept is recorded again once, with them.
            if last.id == id, last.idInputs != nil {
                // The id is only what the record says: a snapshot whose tree or record is not what
                // was read now (a forged commit carrying a copy of the real note) is not this drift.
                if try repo.treeOf(commit: p) == built.tree, last.holdsSame(entries, pip: pipDrift) {
                    done.snapshot = p
                    return done
                }
                done.replaced = p
            } else if expected {
                done.replaced = p
            }
            if expected, done.replaced != nil,
               let hit = try OutgoingSecrets(secrets).firstHit(tree: repo.treeOf(commit: p),
                                                               baseTree: repo.treeOf(commit: base), repo: repo) {
                throw OutgoingSecrets.staleSnapshot(hit, id: last.id)
            }
        }
        let host = SystemInfo.hostName()
        var info = SnapshotInfo(id: id, host: host, time: now.wholeSeconds, entries: entries, pip: pipDrift,
                                base: base)
        info.idInputs = inputs
        let who = GitPerson(name: "drift", email: "drift@\(host)", time: now)
        let snap = try repo.createCommit(tree: built.tree, parents: [previous ?? base], author: who, committer: who,
                                         message: info.message(pathCount: changes.count))
        // The record goes in before the branch moves: a snapshot the branch names has one.
        try repo.setNote(Self.notesRef, on: snap, try SnapshotRecordWriter.encode(info), author: who)
        try repo.setReference(Self.ref, to: snap)
        blobCache?.wrote(snap, notesTip: try repo.reference(Self.notesRef), info)
        done.snapshot = snap
        return done
    }
}

extension Journal {
    /// The latest snapshot `p` as `record` compares with it: the one this recorder wrote last,
    /// else its record (or message) read back. nil when its record says at a glance that it is
    /// another drift state than `id` (`SnapshotRecord.peekDriftID`): nothing of it is needed then,
    /// and decoding a record of a million entries per batch was most of a watch batch's cost.
    static func previous(_ p: ObjectID, in repo: GitRepository, unless id: DriftID?,
                         _ blobCache: JournalBlobCache?) throws -> SnapshotInfo? {
        if let held = try blobCache?.lastSnapshot(p, notesTip: repo.reference(notesRef)) { return held }
        guard let bytes = try repo.note(notesRef, on: p) else { return try SnapshotInfo.read(repo, p) }
        if let id, let named = SnapshotRecord.peekDriftID(bytes), named != id { return nil }
        return try SnapshotRecord.decode(bytes, context: "\(repo.shown): snapshot \(p.hex)")
    }
}

extension SnapshotInfo {
    /// Whether this snapshot records these entries and pip changes (first-seen times aside:
    /// they come from `state.json`, not from what was read).
    func holdsSame(_ other: [SnapshotEntry], pip other2: [PipChange]) -> Bool {
        func key(_ e: SnapshotEntry) -> [String] {
            [e.change.rawValue, e.fileClass.rawValue, PathBytes.escape(e.path), e.detail]
        }
        return entries.map(key) == other.map(key)
            && pip.map { SnapshotPip($0).line } == other2.map { SnapshotPip($0).line }
    }

    /// The snapshot commit's message (docs/journal.md): a subject for people, then one line
    /// per entry and the trailers `SnapshotInfo.parse` reads back (snapshots without a record).
    /// - Parameter pathCount: the subject's path count (the scan's changes).
    func message(pathCount: Int) -> String {
        var m = "drift snapshot on \(host): \(pathCount) path(s), \(pip.count) pip change(s)\n\n"
            + "Host: \(host)\nTime: \(Timestamp.format(time))\n\n"
        m.reserveCapacity(m.utf8.count + entries.count * 128)
        // One line a path (a million with a million drifted files): appended in place, each
        // first-seen time formatted once for the run of entries that share it.
        var lastSeen: (Date, String)?
        for e in entries {
            if lastSeen?.0 != e.firstSeen { lastSeen = (e.firstSeen, Timestamp.format(e.firstSeen)) }
            m += "Drift-Entry: "
            m += e.value(seen: lastSeen?.1 ?? "")
            m += "\n"
        }
        for p in pip { m += "Drift-Pip: " + SnapshotPip(p).line + "\n" }
        return m + "Drift-Id: \(id)\nDrift-Base: \(base)\n"
    }
}

/// What a snapshot recorded: id, host, time, entries, pip changes and base.
public struct SnapshotInfo: Sendable {
    public var id: DriftID
    public var host: String
    /// When the snapshot was recorded (its export commit is dated by it).
    public var time: Date
    public var entries: [SnapshotEntry]
    /// The drifted paths the entries stand for (a summarised directory counts its files).
    var pathCount: Int { entries.reduce(0) { $0 + $1.pathCount } }
    var pip: [PipChange] = []
    /// The `Drift-Base` trailer: the commit the snapshot's tree is based on.
    public var base: ObjectID
    /// The lines `DriftID.compute` hashed besides base and tree (nil: recorded by an older
    /// drift); an export copies them into report.json so the gate can recompute the id.
    public var idInputs: [String]?

    /// A snapshot as drift reads it back: its record (the git note under `Journal.notesRef`),
    /// or, for a snapshot written before records existed, its message (`parse`).
    /// - Parameters:
    ///   - repo: the journal repository.
    ///   - snapshot: the snapshot commit.
    /// - Returns: the snapshot's content.
    /// - Throws: `GitError` when the commit or note cannot be read, `DriftError` for a note
    ///   that is not a snapshot record.
    public static func read(_ repo: GitRepository, _ snapshot: ObjectID) throws -> SnapshotInfo {
        if let bytes = try repo.note(Journal.notesRef, on: snapshot) {
            return try SnapshotRecord.decode(bytes, context: "\(repo.shown): snapshot \(snapshot.hex)")
        }
        return try parse(try repo.message(of: snapshot), context: "\(repo.shown): snapshot \(snapshot.hex)")
    }

    /// Entries, pip changes, id and base from the trailer block (`DriftTrailers`); host and
    /// time from the second paragraph, where `Journal.record` writes them. Only for snapshots
    /// that have no record (written by drift before records existed).
    /// - Throws: `DriftError` naming `context` when the `Time:` line is missing or not a time
    ///   (an export is dated by it: never silently by the clock).
    public static func parse(_ message: String, context: String) throws -> SnapshotInfo {
        let trailers = DriftTrailers(message)
        var host = ""
        var time: Date?
        let paragraphs = message.components(separatedBy: "\n\n")
        for line in (paragraphs.count > 1 ? paragraphs[1] : "").split(separator: "\n") {
            if line.hasPrefix("Host: ") {
                host = String(line.dropFirst(6))
            } else if line.hasPrefix("Time: ") {
                time = Timestamp.parse(String(line.dropFirst(6)))
            }
        }
        guard let time else {
            throw DriftError(.stateDamaged, "\(context): snapshot message has no readable Time: line")
        }
        // Journal.record writes both; a snapshot without them is not one drift can export.
        guard let id = trailers.id, let base = trailers.base else {
            throw DriftError(.stateDamaged, "\(context): snapshot message has no well-formed Drift-Id and Drift-Base")
        }
        return SnapshotInfo(id: id, host: host, time: time, entries: trailers.entries, pip: trailers.pip, base: base)
    }
}
