import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One exported drift found in a ledger directory, read as untrusted input.
public struct LedgerEntry: Sendable {
    /// The export directory, relative to the ledger (for messages).
    public var name: String
    public var id: DriftID
    public var host: String
    public var base: ObjectID
    var tip: ObjectID
    var firstSeen: Date?
    /// Every code change: path → (mode, blob) or nil for a deletion.
    public var changes: [(path: [UInt8], mode: GitFileMode?, blob: ObjectID?)]
    /// The `Drift-Host` trailer as written (nil when absent): what a ref's name must carry.
    var rawHost: String?
    /// False when `--repo` does not hold the base commit at all: nothing but the bundle's
    /// header could be read, and the entry is judged `no-base`.
    var baseKnown = true
    /// Code withheld from the patch (report.json `withheld`), bound to the id.
    var withheld: [WithheldCode] = []
    /// Why the entry is not what it claims (its id or its ref's name); nil when it is.
    var invalid: String?
    /// Earlier exports of a follow-up chain below the tip, newest first (their commits).
    var earlier: [ObjectID] = []
    /// True for a ref that could not be read as an entry at all (`invalid`, its base and tip
    /// unknown: see `LedgerReader.unreadable`).
    var unread = false
    /// Its change (base → tip, cumulative) reverse-applies cleanly on REV's tree (rule 2b);
    /// not asked of an entry over `LedgerLimits.containedPaths` changed paths.
    var contained = false
}

/// One withheld code change of an entry: path, change and reason, never content or hash.
public struct WithheldCode: Codable, Sendable, Equatable {
    /// The path as report.json encodes it (`path`, and `path_bytes` when not UTF-8).
    var path: String
    var pathBytes: String?
    var change: ChangeKind
    var reason: String

    enum CodingKeys: String, CodingKey {
        case path, change, reason
        case pathBytes = "path_bytes"
    }

    /// The path's bytes (nil when `path_bytes` is not base64).
    var bytes: [UInt8]? {
        guard let pb = pathBytes else { return Array(path.utf8) }
        return Data(base64Encoded: pb).map(Array.init)
    }

    /// The withheld code of a snapshot (class code, content not in the tree).
    static func of(_ entries: [SnapshotEntry]) -> [WithheldCode] {
        entries.compactMap { e in
            // Bytecode is evidence for the instance, never upstream material: nothing to reconcile.
            guard e.fileClass == .code, e.change != .bytecode else { return nil }
            let reason: String
            switch e.recorded {
            case .content: return nil
            case .secret: reason = WithholdReason.secret.text
            case .secretContent: reason = WithholdReason.secretContent.text
            case .hashOnly(_, let why): reason = why?.text ?? e.fileClass.rawValue
            case .summary: return nil
            }
            let (p, pb) = ScanReport.pathFields(e.path)
            return WithheldCode(path: p, pathBytes: pb, change: e.change, reason: reason)
        }
    }
}

/// Limits on what one ledger entry may be (documented in docs/gate.md).
public enum LedgerLimits {
    static let bundleBytes = 64 << 20
    static let patchBytes = 64 << 20
    static let reportBytes = 16 << 20
    static let changedPaths = 100_000
    /// The most changed paths of an entry the gate reverse-applies on REV (rule 2b).
    static let containedPaths = 1000
    /// The objects of one bundle's pack, inflated (each entry is indexed in memory).
    static let packObjectBytes = 256 << 20
}

/// Reads ledger entries: finds export directories at any depth and validates each
/// bundle (header, one prerequisite in REV's history, one `refs/heads/drift/<id>` ref,
/// a pack that indexes, safe paths) before anything in it is used.
public struct LedgerReader {
    /// The ledger directory, as bytes (`--ledger` as given, not UTF-8 too).
    public var ledger: [UInt8]
    /// Upstream repository (REV's history).
    public var upstream: GitRepository
    /// Its objects as every entry's in-memory store sees them (read-only, shared).
    let lower: LowerObjects
    public var rev: ObjectID
    public init(ledger: [UInt8], upstream: GitRepository, rev: ObjectID) {
        self.ledger = ledger
        self.upstream = upstream
        lower = LowerObjects(upstream)
        self.rev = rev
    }

    /// Directories under the ledger that hold a `drift.bundle`, sorted; symlinks are not followed.
    func entryDirectories() throws -> [String] {
        let (entries, issues) = try DirectoryWalker(root: ledger).walk { _ in true }
        if let i = issues.first {
            throw DriftError(.unreadable, path: PathBytes.join(ledger, i.path), i.message)
        }
        var dirs: [String] = []
        let bundle = Array(Exporter.bundleFile.utf8)
        for e in entries where e.path == bundle || e.path.suffix(bundle.count + 1).elementsEqual([0x2F] + bundle) {
            guard e.stat.kind == .regular else {
                throw DriftError(ledger: .entry(PathBytes.display(e.path)), "not a regular file")
            }
            let dir = e.path == bundle ? Array(".".utf8) : Array(e.path.dropLast(bundle.count + 1))
            // A directory name that a String cannot hold exactly would be read as another name.
            guard let name = String(validating: dir, as: UTF8.self), !PathBytes.isSuspicious(dir) else {
                throw DriftError(ledger: .entry(PathBytes.display(dir)), "directory name is not plain UTF-8 text")
            }
            dirs.append(name)
        }
        return dirs.sorted()
    }

    public func read(_ dir: String) throws -> LedgerEntry {
        let full = dir == "." ? ledger : PathBytes.join(ledger, Array(dir.utf8))
        func bad(_ why: String) -> DriftError { DriftError(ledger: .entry(dir), why) }
        let bundle = try readLimited(full, Exporter.bundleFile, LedgerLimits.bundleBytes, bad)
        // Optional files are optional only when absent: a symlink, a FIFO or an oversized
        // file is a failed check (exit 2 naming the entry), never silently skipped.
        let patch = try readOptional(full, Exporter.patchFile, LedgerLimits.patchBytes, bad)
        let report = try readOptional(full, Exporter.reportFile, LedgerLimits.reportBytes, bad)
        return try entry(name: dir, bundle: bundle, patch: patch, report: report, bad)
    }

    /// Checks one export's files, wherever they came from (a ledger directory, or a ledger
    /// commit's tree: see LedgerRefs.swift), and turns them into an entry.
    func entry(name: String, bundle: [UInt8], patch: [UInt8]?, report: [UInt8]?,
               _ bad: (String) -> DriftError) throws -> LedgerEntry {
        let (prereq, tip, id, packStart) = try parseHeader(bundle, bad)
        // Without the base's objects the (thin) pack cannot be read: judged `no-base`.
        guard lower.contains(prereq) else {
            return LedgerEntry(name: name, id: id, host: "unknown", base: prereq, tip: tip, firstSeen: nil,
                               changes: [], baseKnown: false)
        }
        // Each entry gets its own in-memory object store over the upstream's (nothing written
        // to disk): a hostile pack cannot shadow another entry's objects, nor borrow them.
        // `bad` names the entry (quoted); the store's own name appears inside its messages.
        let store = try MemoryObjectStore(over: lower, name: Exporter.bundleFile)
        do {
            try store.indexPack(bundle[packStart...], maxBytes: LedgerLimits.packObjectBytes)
        } catch {
            throw bad("drift.bundle is truncated or corrupt (\(errorText(error)))")
        }
        let scratch = store.repository
        guard try scratch.odb().contains(tip) else { throw bad("the bundle's pack does not hold its ref's commit") }
        let ex = try examine(tip, in: scratch, id: id, base: prereq, bad)
        if let patch { try checkPatchPaths(patch, bad) }
        let carried: ExportReportFields
        do { carried = try report.map(ExportReportFields.read) ?? ExportReportFields() } catch let e as DriftError {
            throw bad(e.message)
        }
        var e = LedgerEntry(name: name, id: id, host: ex.trailers.host ?? "unknown", base: prereq, tip: tip,
                            firstSeen: carried.firstSeen, changes: ex.changes, rawHost: ex.trailers.rawHost,
                            withheld: carried.withheld, earlier: ex.earlier)
        e.invalid = try Self.bindingProblem(e, tree: scratch.treeOf(commit: tip), inputs: carried.idInputs)
        e.contained = try isContained(e, in: scratch)
        return e
    }

    /// Why the entry's id is not the id of what it carries (nil when it is): the id is
    /// recomputed with `DriftID.compute` from the base, the tip's tree and report.json's
    /// `drift_id_inputs` (absent: none), and its `withheld` list must be exactly the
    /// withheld code those inputs name.
    static func bindingProblem(_ e: LedgerEntry, tree: ObjectID, inputs: [String]) throws -> String? {
        let recomputed = try DriftID.compute(base: e.base, tree: tree, inputs: inputs)
        guard recomputed == e.id else {
            return "its Drift-Id \(e.id) is not the id of its content (\(recomputed))"
        }
        var named: [[UInt8]: ChangeKind] = [:]
        for line in inputs { if let w = DriftID.withheldCode(line) { named[w.path] = w.change } }
        var listed: [[UInt8]: ChangeKind] = [:]
        for w in e.withheld {
            guard let p = w.bytes else { return "report.json's withheld list has a bad path_bytes" }
            listed[p] = w.change
        }
        guard named == listed else { return "report.json's withheld list is not the withheld code its id names" }
        return nil
    }

    /// An entry pushed to `refs/drift/<host>/<id>` by a drift from before ledger commits: the
    /// export commit itself, judged by its trailers, tree and base alone.
    func readRef(_ ref: String) throws -> LedgerEntry {
        func bad(_ why: String) -> DriftError { DriftError(ledger: .ref(ref), why) }
        guard let tip = try upstream.reference(ref) else { throw bad("does not resolve") }
        let text = String(ref.split(separator: "/").last ?? "")
        guard let id = DriftID(text) else {
            throw bad("bad drift id '\(text)'")
        }
        let ex = try examine(tip, in: upstream, id: id, base: nil, bad)
        // Such a ref holds no report.json, and its commit's trailers carry no time: its first
        // sighting is unknown, and said so (`first seen unknown`), never read from the message's
        // prose. Nothing in the verdict depends on it (docs/architecture.md, "Legacy refs").
        var e = LedgerEntry(name: ref, id: id, host: ex.trailers.host ?? "unknown", base: ex.base, tip: tip,
                            firstSeen: nil, changes: ex.changes, rawHost: ex.trailers.rawHost)
        e.invalid = try Self.bindingProblem(e, tree: upstream.treeOf(commit: tip), inputs: [])
        e.contained = try isContained(e, in: upstream)
        return e
    }

    /// Rule 2b: the entry's whole change reverse-applies on REV's tree (`repo` sees the
    /// entry's objects and the upstream's). Asked only of a valid entry of bounded size.
    private func isContained(_ e: LedgerEntry, in repo: GitRepository) throws -> Bool {
        guard e.invalid == nil, !e.changes.isEmpty, e.changes.count <= LedgerLimits.containedPaths else { return false }
        return try repo.reverseApplies(old: repo.treeOf(commit: e.base), new: repo.treeOf(commit: e.tip),
                                       onto: repo.treeOf(commit: rev))
    }

    /// What `examine` read from an export commit.
    struct Examined {
        var trailers: DriftTrailers
        var base: ObjectID
        var changes: [(path: [UInt8], mode: GitFileMode?, blob: ObjectID?)]
        var earlier: [ObjectID]
    }

    /// The longest follow-up chain one entry may carry.
    static let maxChain = ExportChain.limit

    /// The checks bundles and refs share: a readable commit whose `Drift-Id` trailer equals
    /// `id`, and a tree with only safe names. With `base` (a bundle's prerequisite) the commit
    /// may follow earlier exports of a chain down to it: every commit on the way has exactly
    /// one parent, its own Drift-Id, and `Drift-Follows` naming its parent's; without, its one
    /// parent is the base. Returns the trailers, the base, the code changes against the base
    /// and the chain's earlier commits.
    private func examine(_ tip: ObjectID, in repo: GitRepository, id: DriftID, base: ObjectID?,
                         _ bad: (String) -> DriftError) throws -> Examined {
        func read(_ c: ObjectID) throws -> (String, [ObjectID]) {
            do { return (try repo.message(of: c), try repo.parents(of: c)) } catch {
                throw bad("its commit is unreadable (\(errorText(error)))")
            }
        }
        let (message, parents) = try read(tip)
        let tree: ObjectID
        do { tree = try repo.treeOf(commit: tip) } catch { throw bad("its commit is unreadable (\(errorText(error)))") }
        guard parents.count == 1, var parent = parents.first else {
            throw bad("its commit must have exactly one parent (the base or the export it follows)")
        }
        let trailers = DriftTrailers(message)
        guard trailers.id != nil else { throw bad("its commit has no Drift-Id trailer") }
        guard trailers.id == id else {
            throw bad("the commit's Drift-Id does not match the ref \(id)")
        }
        var earlier: [ObjectID] = []
        var follows = trailers.follows
        while let base, parent != base {
            guard earlier.count < Self.maxChain else {
                throw bad("its commit does not lead to its base \(base.hex) within \(Self.maxChain) exports")
            }
            let (m, ps) = try read(parent)
            let t = DriftTrailers(m)
            guard let pid = t.id, follows == pid, ps.count == 1 else {
                throw bad("its commit is not a child of its base, nor a follow-up export of one")
            }
            earlier.append(parent)
            follows = t.follows
            parent = ps[0]
        }
        let changes = try diffTrees(repo, base: parent, new: tree, bad)
        return Examined(trailers: trailers, base: parent, changes: changes, earlier: earlier)
    }

    private func readOptional(_ dir: [UInt8], _ name: String, _ limit: Int,
                              _ bad: (String) -> DriftError) throws -> [UInt8]? {
        if FileSystem.isAbsent(PathBytes.join(dir, Array(name.utf8))) { return nil }
        return try readLimited(dir, name, limit, bad)
    }

    /// The entry's file `name` (drift's own ASCII file name, which the messages say).
    private func readLimited(_ dir: [UInt8], _ name: String, _ limit: Int,
                             _ bad: (String) -> DriftError) throws -> [UInt8] {
        let file = PathBytes.join(dir, Array(name.utf8))
        let st: FileStat
        do { st = try FileSystem.lstat(file) } catch { throw bad("\(name): \(error)") }
        guard st.kind == .regular else { throw bad("\(name) is not a regular file") }
        guard st.size <= limit else {
            throw bad("\(name) is over the \(limit >> 20) MiB limit")
        }
        do { return try readWholeFile(file, limit: limit, followSymlinks: false) } catch let e as DriftError {
            throw bad("\(name) is unreadable (\(e.message))")
        }
    }

    /// A drift export's bundle: a v2 bundle (read by `GitBundle.readHeader`, beside its
    /// writer) with exactly one prerequisite, the base, and exactly one ref,
    /// `refs/heads/drift/<id>`.
    private func parseHeader(_ b: [UInt8], _ bad: (String) -> DriftError) throws -> (ObjectID, ObjectID, DriftID, Int) {
        let header: GitBundle.Header
        do { header = try GitBundle.readHeader(b) } catch {
            switch error {
            case .truncatedHeader: throw bad("drift.bundle header is truncated")
            case .headerNotText: throw bad("drift.bundle header is not text")
            case .headerTooLong: throw bad("drift.bundle header is too long")
            case .notVersion2: throw bad("drift.bundle is not a v2 git bundle")
            case .badPrerequisite: throw bad("drift.bundle must name exactly one base commit")
            case .badRef: throw bad("drift.bundle's ref is not refs/heads/drift/<id>")
            case .noPack: throw bad("drift.bundle is truncated or corrupt (no pack)")
            }
        }
        guard header.prerequisites.count == 1, let base = header.prerequisites.first else {
            throw bad("drift.bundle must name exactly one base commit")
        }
        guard header.refs.count == 1, let ref = header.refs.first else {
            throw bad("drift.bundle must hold exactly one ref")
        }
        let prefix = "refs/heads/drift/"
        guard ref.name.hasPrefix(prefix) else { throw bad("drift.bundle's ref is not refs/heads/drift/<id>") }
        let text = String(ref.name.dropFirst(prefix.count))
        guard let id = DriftID(text) else {
            throw bad("bad drift id '\(text)'")
        }
        return (base, ref.tip, id, header.packOffset)
    }

    /// The changed paths between the base's tree and `new` (libgit2's tree diff), each with
    /// its new mode and blob (nil for a deletion); rejects names git itself would refuse.
    private func diffTrees(_ repo: GitRepository, base: ObjectID, new: ObjectID, _ bad: (String) -> DriftError)
        throws -> [(path: [UInt8], mode: GitFileMode?, blob: ObjectID?)] {
        let found: [GitTreeChange]
        do {
            found = try repo.treeChanges(from: upstream.treeOf(commit: base), to: new, limit: LedgerLimits.changedPaths)
        } catch is GitTooManyChanges {
            throw bad("more than \(LedgerLimits.changedPaths) changed paths")
        } catch let e as GitError {
            throw bad("its tree is unreadable (\(e.message))")
        }
        var out: [(path: [UInt8], mode: GitFileMode?, blob: ObjectID?)] = []
        out.reserveCapacity(found.count)
        // Each directory of the new tree parsed once, not once per path in it (linear, not
        // quadratic, in the changed paths).
        let lookup: TreeLookup
        do { lookup = try TreeLookup(repo, tree: new) } catch let e as GitError {
            throw bad("its tree is unreadable (\(e.message))")
        }
        var safe = SafePathMemo()
        for c in found {
            let unsafe = !safe.isSafe(c.path, mode: c.new?.mode ?? .blob)
            // A name holding '/' reads as two components: the path must lead back to the entry.
            let reached: GitTreeItem?
            do { reached = c.new == nil ? nil : try lookup.entry(at: c.path) } catch let e as GitError {
                throw bad("its tree is unreadable (\(e.message))")
            }
            if unsafe || reached != c.new {
                throw bad("tree entry '\(PathBytes.display(c.path))' is not a safe path")
            }
            out.append((c.path, c.new?.mode, c.new?.id))
        }
        return out
    }

    /// Rejects a patch that names a path outside the repository or inside `.git/`.
    private func checkPatchPaths(_ patch: [UInt8], _ bad: (String) -> DriftError) throws {
        do { try PatchPaths.check(patch) } catch let p as PatchPaths.Problem {
            switch p {
            case .unsafe(let path): throw bad("drift.patch names an unsafe path \(PathBytes.display(path))")
            case .unreadable(let why): throw bad("drift.patch is unreadable: \(why)")
            }
        }
    }
}
