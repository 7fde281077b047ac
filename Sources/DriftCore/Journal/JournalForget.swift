import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `drift forget`: rewrites the journal so that no object in it — snapshot tree, note, export,
/// ledger commit, pack or loose object — holds content a secret source knows *now*. For a
/// secret learned after its paste was journaled (a key added to `.env` later, a variable set
/// after the fact). docs/secrets.md.
///
/// It scans first (the current secret index; current drift recorded), then builds a new
/// journal beside the old one: every snapshot is rewritten on the base with each blob that
/// holds a secret replaced by the base's version of its path (or removed), its entry recorded
/// `secret-content`, and a new Drift-Id; every other ref (exports, ledger commits, …) is
/// copied object by object unless something it reaches holds a secret, in which case it is
/// dropped (that export may already have left the box: its id is reported). Only objects
/// reachable from the kept refs are copied, so nothing of the old packs or loose objects
/// survives; the new journal then replaces the old one.
public struct JournalForget {
    public var runner: ScanRunner

    public init(runner: ScanRunner) { self.runner = runner }

    public struct Outcome: Sendable {
        /// Distinct blobs holding a secret that are gone.
        public var blobs = 0
        /// Snapshots rewritten because they held one.
        public var snapshots = 0
        /// Export ids dropped because their export or ledger commit held one.
        public var exports: [String] = []
        /// Of those, the ones `drift push` had sent (remote → ids).
        public var pushed: [String: [String]] = [:]
        /// Sources of remembered forgotten values this run did not know: content holding those
        /// values was not looked for (the run withheld drifted content instead).
        public var unknownForgotten: [[UInt8]] = []
        /// How many forgotten values were remembered before this run (`ForgottenValues`).
        public var rememberedValues = 0
    }

    /// Runs the scan and the rewrite under the state lock.
    /// - Throws: `DriftError`/`GitError` as a scan does; `DriftError` `.lockBusy` when another run holds the lock.
    public func run() throws -> Outcome {
        let (manifest, _) = try runner.manifestDir.load()
        let lock = try StateLock(state: runner.state, wait: runner.waitSeconds)
        defer { withExtendedLifetime(lock) {} }
        let secrets = try runner.run(alreadyLocked: true).secrets
        let journal = Journal(state: runner.state, manifestDir: runner.manifestDir, commit: manifest.commit)
        guard let old = try journal.open(create: false), let base = ObjectID(hex: manifest.commit) else {
            return Outcome()
        }
        // The new journal is made by the one journal opener (alternates, shallow) in a staging dir.
        let staging = StateDirectory(path: runner.state.file(".forget"))
        try? FileSystem.removeTree(staging.path)
        try AtomicFile.makeDirectory(staging.path, mode: 0o700)
        let fresh = Journal(state: staging, manifestDir: runner.manifestDir, commit: manifest.commit)
        guard let new = try fresh.open(create: true) else {
            throw DriftError(.io, path: staging.path, "cannot make a journal")
        }
        let newPath = fresh.path
        let baseRepo = try BaseObjects.open(runner.manifestDir, commit: manifest.commit)
        var rewrite = Rewrite(old: old, new: new, oldObjects: try old.odb(), newObjects: try new.odb(),
                              baseObjects: try baseRepo.odb(), base: base, secrets: secrets)
        var outcome = try rewrite.snapshots()
        outcome.unknownForgotten = secrets.missingForgotten
        for (name, target) in try old.referenceTargets(under: "refs/") {
            guard let target, name != Journal.ref, name != Journal.notesRef else { continue }
            if try rewrite.copyClosure(target, ledger: name.hasPrefix(LedgerCommit.journalRefPrefix)) {
                try rewrite.new.setReference(name, to: target)
            } else if let id = Self.exportID(name), !outcome.exports.contains(id) {
                outcome.exports.append(id)
            }
        }
        outcome.blobs = Set(rewrite.tainted.filter(\.value).keys.map(\.id)).count
        var st = try runner.state.loadState(commit: manifest.commit)
        outcome.rememberedValues = st.forgottenSources?.values?.count ?? 0
        // This forget looked for every remembered value: no journaled content holds one now.
        let looked = st.forgottenSources?.learned != nil && outcome.unknownForgotten.isEmpty
        if looked { st.forgottenSources?.learned = nil }
        for (remote, ids) in st.pushed ?? [:] {
            let gone = ids.filter { outcome.exports.contains($0) }
            if !gone.isEmpty { outcome.pushed[remote] = gone }
        }
        if outcome.blobs == 0 && outcome.exports.isEmpty {
            try? FileSystem.removeTree(staging.path)
            if looked { try runner.state.saveState(st) }
            return outcome
        }
        let aside = runner.state.file("journal.git.forgotten")
        try? FileSystem.removeTree(aside)
        do {
            try FileSystem.rename(journal.path, to: aside)
            try FileSystem.rename(newPath, to: journal.path)
        } catch {
            throw DriftError(.io, path: journal.path, "cannot put the rewritten journal in place: \(errorText(error))")
        }
        try? FileSystem.removeTree(aside)
        try? FileSystem.removeTree(staging.path)
        if let last = st.lastExportId, outcome.exports.contains(last) { st.lastExportId = nil }
        st.journalFingerprint = nil
        // The purged values: a later run that does not know one (a watcher started without this
        // shell's variable, the variable empty or rotated, `.env.local` moved away) withholds
        // drifted content instead of journaling it again. Every value this run knew, of any
        // source: which ones the purged blobs held is not tracked by the rewrite.
        st.forgottenSources = try ForgottenValues.adding(st.forgottenSources, secrets.rememberedValues,
                                                         random: runner.saltSource)
        try runner.state.saveState(st)
        return outcome
    }

    /// What `drift forget --release` did.
    public struct Released: Sendable {
        /// The names that were remembered and are dropped.
        public var names: [[UInt8]] = []
        /// Drifted files whose content holds a released value now: they stay withheld.
        public var holding: [[UInt8]] = []
    }

    /// `drift forget --release NAME`: drops names from the forgotten sources (the variable will
    /// not come back), under the state lock. Their values stop withholding everything but are
    /// kept as released (`ForgottenValues.released`): content holding one stays withheld, and the
    /// drifted files that hold one now are named (incident 12, F12).
    public func release(_ names: [[UInt8]]) throws -> Released {
        let (manifest, policy) = try runner.manifestDir.load()
        let lock = try StateLock(state: runner.state, wait: runner.waitSeconds)
        defer { withExtendedLifetime(lock) {} }
        var st = try runner.state.loadState(commit: manifest.commit)
        guard let memory = st.forgottenSources else { return Released() }
        let drop = Set(names.map(PathBytes.escape))
        let all = Set((memory.names ?? []) + (memory.values ?? []).map(\.name))
        let dropped = all.filter { drop.contains($0) }.sorted().compactMap { PathBytes.unescape(Array($0.utf8)) }
        st.forgottenSources = memory.releasing(drop)
        if !dropped.isEmpty { try runner.state.saveState(st) }
        var just = memory
        just.released = (memory.values ?? []).filter { drop.contains($0.name) }
        let search = ReleasedSearch(just)
        if search.isEmpty { return Released(names: dropped) }
        let reader = FileReader(root: runner.root ?? manifest.root)
        var holding: [[UInt8]] = []
        // Single drifted files only: a summary item's files are searched by the next scan.
        for item in st.items where item.count == nil && item.change != .deleted {
            guard let path = PathBytes.unescape(Array(item.path.utf8)) else { continue }
            // A file that cannot be read here is only left out of this list: the next scan
            // withholds what it cannot read.
            let bytes: [UInt8]
            do { bytes = try reader.readAll(path, limit: policy.sizeLimit) } catch { continue }
            if search.isFound(in: bytes) { holding.append(path) }
        }
        return Released(names: dropped, holding: holding.sorted(by: PathBytes.less))
    }

    /// The forgotten sources remembered for this boot (`drift status`).
    static func remembered(_ st: DriftState) -> [[UInt8]] {
        ForgottenValues.names(st.forgottenSources, boot: SystemInfo.bootID()).sorted(by: PathBytes.less)
    }

    static func exportID(_ ref: String) -> String? {
        for prefix in [Exporter.exportRefPrefix, LedgerCommit.journalRefPrefix] where ref.hasPrefix(prefix) {
            return String(ref.dropFirst(prefix.count))
        }
        return nil
    }

    /// The copy from the old journal to the new one.
    struct Rewrite {
        let old: GitRepository
        let new: GitRepository
        let oldObjects: GitODB
        let newObjects: GitODB
        /// The base's own object store: what is there is upstream's, never copied or judged.
        let baseObjects: GitODB
        let base: ObjectID
        let secrets: SecretIndex
        /// A blob as judged (as a file of a path's scope, or as a ledger's patch) → holds a secret.
        var tainted: [Judged: Bool] = [:]
        /// Objects already in the new journal (or its base), and closures found clean.
        var copied = Set<ObjectID>()

        init(old: GitRepository, new: GitRepository, oldObjects: GitODB, newObjects: GitODB, baseObjects: GitODB,
             base: ObjectID, secrets: SecretIndex) {
            self.old = old
            self.new = new
            self.oldObjects = oldObjects
            self.newObjects = newObjects
            self.baseObjects = baseObjects
            self.base = base
            self.secrets = secrets
        }

        /// How a blob is judged: as a file at a path of this scope, or as a ledger's `drift.patch`
        /// (each file's section with its own path's scope, as the scan judged that file).
        struct Judged: Hashable {
            enum How: Hashable { case file(SecretScope), patch }
            var id: ObjectID
            var how: How
        }

        mutating func isTainted(_ id: ObjectID, _ how: Judged.How) throws -> Bool {
            let key = Judged(id: id, how: how)
            if let t = tainted[key] { return t }
            if baseObjects.contains(id) { return false }
            let (_, bytes) = try oldObjects.read(id)
            let t: Bool
            switch how {
            case .file(let scope): t = secrets.matches(bytes, scope: scope)
            case .patch: t = secrets.matches(patch: bytes)
            }
            tainted[key] = t
            return t
        }

        /// The snapshot chain, oldest first, rewritten onto the base in the new journal.
        mutating func snapshots() throws -> Outcome {
            var outcome = Outcome()
            var chain: [ObjectID] = []
            var cursor = try old.reference(Journal.ref)
            while let c = cursor, c != base {
                chain.append(c)
                cursor = try old.parents(of: c).first
            }
            let baseTree = try old.treeOf(commit: base)
            var parent = base
            for snap in chain.reversed() {
                let tree = try old.treeOf(commit: snap)
                var updates: [TreeUpdate] = []
                var forgotten = Set<[UInt8]>()
                for ch in try old.treeChanges(from: baseTree, to: tree, limit: Int.max) {
                    guard let n = ch.new else {
                        updates.append(TreeUpdate(path: ch.path, action: .remove))
                        continue
                    }
                    if n.mode != .tree, try isTainted(n.id, .file(SecretScope(path: ch.path))) {
                        forgotten.insert(ch.path)
                        // Updates apply to the base tree: a file new since the base is simply left out.
                        if let o = ch.old {
                            updates.append(TreeUpdate(path: ch.path, action: .upsert(o.id, mode: o.mode)))
                        }
                        continue
                    }
                    if n.mode != .tree && !newObjects.contains(n.id) {
                        let (type, bytes) = try oldObjects.read(n.id)
                        _ = try newObjects.write(type, bytes)
                    }
                    updates.append(TreeUpdate(path: ch.path, action: .upsert(n.id, mode: n.mode)))
                }
                var info = try SnapshotInfo.read(old, snap)
                var message = try old.message(of: snap)
                let newTree = forgotten.isEmpty ? tree : try DriftTreeBuilder.apply(updates, to: baseTree, in: new)
                if forgotten.isEmpty {
                    _ = try copyClosure(tree)
                } else {
                    outcome.snapshots += 1
                    for i in info.entries.indices where forgotten.contains(info.entries[i].path) {
                        let before = info.entries[i].line
                        info.entries[i].recorded = .secretContent
                        message = message.replacing(before, with: info.entries[i].line)
                    }
                    let lines = info.entries.filter { forgotten.contains($0.path) }
                        .map { "forgotten \(PathBytes.escape($0.path))" }
                    let id = try DriftID.compute(base: base, tree: newTree, inputs: ["was \(info.id)"] + lines)
                    message = message.replacing("Drift-Id: \(info.id)\n", with: "Drift-Id: \(id)\n")
                    info.id = id
                }
                let when = try old.commitTime(snap)
                let who = GitPerson(name: "drift", email: "drift@\(info.host)", time: when)
                let commit = try new.createCommit(tree: newTree, parents: [parent], author: who, committer: who,
                                                  message: message)
                try new.setNote(Journal.notesRef, on: commit, try SnapshotRecord(info).encoded(), author: who)
                parent = commit
            }
            if parent != base { try new.setReference(Journal.ref, to: parent) }
            return outcome
        }

        /// Copies every object `id` reaches (down to what the base has) into the new journal;
        /// false, copying nothing more, when one of them is a blob holding a secret. Each blob is
        /// judged at the path it was reached by; a ledger commit's `drift.patch` file by file.
        mutating func copyClosure(_ id: ObjectID, ledger: Bool = false) throws -> Bool {
            var stack: [(ObjectID, [UInt8])] = [(id, [])]
            var pending: [(ObjectID, GitObjectType, [UInt8])] = []
            var seen = Set<[UInt8]>()
            while let (next, path) = stack.popLast() {
                // The same blob may sit at a fixture's path and at another: each is judged.
                if copied.contains(next) || !seen.insert(Array(next.hex.utf8) + [0] + path).inserted { continue }
                if baseObjects.contains(next) { continue }
                let (type, bytes) = try oldObjects.read(next)
                switch type {
                case .blob:
                    let patch = ledger && path == Array(Exporter.patchFile.utf8)
                    if try isTainted(next, patch ? .patch : .file(SecretScope(path: path))) { return false }
                case .tree:
                    stack += try old.treeEntries(next).map { ($0.id, path.isEmpty ? $0.name : path + [0x2F] + $0.name) }
                case .commit:
                    stack += Self.commitLinks(bytes).map { ($0, []) }
                case .tag:
                    break
                }
                pending.append((next, type, bytes))
            }
            for (oid, type, bytes) in pending {
                _ = try newObjects.write(type, bytes)
                copied.insert(oid)
            }
            return true
        }

        /// `tree` and `parent` ids of a raw commit.
        static func commitLinks(_ raw: [UInt8]) -> [ObjectID] {
            var out: [ObjectID] = []
            for line in raw.split(separator: 0x0A, omittingEmptySubsequences: false) {
                if line.isEmpty { break }
                let s = String(decoding: line, as: UTF8.self)
                for key in ["tree ", "parent "] where s.hasPrefix(key) {
                    if let oid = ObjectID(hex: String(s.dropFirst(key.count))) { out.append(oid) }
                }
            }
            return out
        }
    }
}
