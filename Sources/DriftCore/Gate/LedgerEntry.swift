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
    public var id: String
    public var host: String
    public var base: ObjectID
    var tip: ObjectID
    var firstSeen: Date?
    /// Every code change: path → (mode, blob) or nil for a deletion.
    public var changes: [(path: [UInt8], mode: GitFileMode?, blob: ObjectID?)]
}

/// Limits on what one ledger entry may be (documented in docs/gate.md).
public enum LedgerLimits {
    static let bundleBytes = 64 << 20
    static let patchBytes = 64 << 20
    static let reportBytes = 16 << 20
    static let changedPaths = 100_000
    /// The objects of one bundle's pack, inflated (each entry is indexed in memory).
    static let packObjectBytes = 256 << 20
}

/// Reads ledger entries: finds export directories at any depth and validates each
/// bundle (header, one prerequisite in REV's history, one `refs/heads/drift/<id>` ref,
/// a pack that indexes, safe paths) before anything in it is used.
public struct LedgerReader {
    public var ledger: String
    /// Upstream repository (REV's history).
    public var upstream: GitRepository
    /// Its objects as every entry's in-memory store sees them (read-only, shared).
    let lower: LowerObjects
    public var rev: ObjectID
    /// Every commit in REV's history, when the caller has walked it already (the gate walks
    /// it once for trailers): "is the base in REV's history" is then a set lookup, not one
    /// graph walk per entry. Nil: ask libgit2 per entry.
    public var history: Set<ObjectID>?

    public init(ledger: String, upstream: GitRepository, rev: ObjectID) {
        self.ledger = ledger
        self.upstream = upstream
        lower = LowerObjects(upstream)
        self.rev = rev
    }

    /// Directories under the ledger that hold a `drift.bundle`, sorted; symlinks are not followed.
    func entryDirectories() throws -> [String] {
        let (entries, issues) = try DirectoryWalker(root: Array(ledger.utf8)).walk { _ in true }
        if let i = issues.first { throw DriftError("\(ledger)/\(PathBytes.display(i.path)): \(i.message)") }
        var dirs: [String] = []
        let bundle = Array(Exporter.bundleFile.utf8)
        for e in entries where e.path == bundle || e.path.suffix(bundle.count + 1).elementsEqual([0x2F] + bundle) {
            guard e.stat.kind == .regular else {
                throw LedgerError(.entry(PathBytes.display(e.path)), "not a regular file")
            }
            let dir = e.path == bundle ? Array(".".utf8) : Array(e.path.dropLast(bundle.count + 1))
            // A directory name that a String cannot hold exactly would be read as another name.
            guard String(validating: dir, as: UTF8.self) != nil, !PathBytes.isSuspicious(dir) else {
                throw LedgerError(.entry(PathBytes.display(dir)), "directory name is not plain UTF-8 text")
            }
            dirs.append(PathBytes.fsString(dir))
        }
        return dirs.sorted()
    }

    public func read(_ dir: String) throws -> LedgerEntry {
        let full = dir == "." ? ledger : ledger + "/" + dir
        func bad(_ why: String) -> LedgerError { LedgerError(.entry(dir), why) }
        let bundle = try readLimited(full + "/" + Exporter.bundleFile, LedgerLimits.bundleBytes, bad)
        // Optional files are optional only when absent: a symlink, a FIFO or an oversized
        // file is a failed check (exit 2 naming the entry), never silently skipped.
        let patch = try readOptional(full + "/" + Exporter.patchFile, LedgerLimits.patchBytes, bad)
        let report = try readOptional(full + "/" + Exporter.reportFile, LedgerLimits.reportBytes, bad)
        return try entry(name: dir, bundle: bundle, patch: patch, report: report, bad)
    }

    /// Checks one export's files, wherever they came from (a ledger directory, or a ledger
    /// commit's tree: see LedgerRefs.swift), and turns them into an entry.
    func entry(name: String, bundle: [UInt8], patch: [UInt8]?, report: [UInt8]?,
               _ bad: (String) -> LedgerError) throws -> LedgerEntry {
        let (prereq, tip, id, packStart) = try parseHeader(bundle, bad)
        guard lower.contains(prereq), try inHistory(prereq) else {
            throw bad("its base \(prereq.hex) is not in the history of \(rev.hex)")
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
        let (message, base, changes) = try examine(tip, in: scratch, id: id, bad)
        guard base == prereq else { throw bad("the bundle's commit is not a child of its base") }
        let host = DriftTrailers(message).host
        if let patch { try checkPatchPaths(patch, bad) }
        let firstSeen: Date?
        do { firstSeen = try report.flatMap(Self.firstSeen) } catch let e as DriftError { throw bad(e.message) }
        return LedgerEntry(name: name, id: id, host: host ?? "unknown", base: prereq, tip: tip,
                           firstSeen: firstSeen, changes: changes)
    }

    /// An entry pushed to `refs/drift/<host>/<id>` of the upstream repository itself.
    func readRef(_ ref: String) throws -> LedgerEntry {
        func bad(_ why: String) -> LedgerError { LedgerError(.ref(ref), why) }
        guard let tip = try upstream.reference(ref) else { throw bad("does not resolve") }
        let id = String(ref.split(separator: "/").last ?? "")
        guard DriftID.isWellFormed(id) else {
            throw bad("bad drift id '\(id)'")
        }
        let (message, base, changes) = try examine(tip, in: upstream, id: id, bad)
        guard try inHistory(base) else { throw bad("its base \(base.hex) is not in the history of \(rev.hex)") }
        let host = DriftTrailers(message).host
        let firstSeen = message.split(separator: "\n").compactMap { line -> Date? in
            guard let r = line.firstRange(of: "first seen ") else { return nil }
            return Timestamp.parse(String(line[r.upperBound...].prefix(20)))
        }.min()
        return LedgerEntry(name: ref, id: id, host: host ?? "unknown", base: base, tip: tip,
                           firstSeen: firstSeen, changes: changes)
    }

    /// Whether `commit` is REV or one of its ancestors.
    func inHistory(_ commit: ObjectID) throws -> Bool {
        if let history { return history.contains(commit) }
        return try upstream.isAncestor(commit, of: rev)
    }

    /// The checks bundles and refs share: a readable commit with exactly one parent (its
    /// base), a `Drift-Id` trailer equal to `id`, and a tree with only safe names; returns the
    /// message, the base and the code changes.
    private func examine(_ tip: ObjectID, in repo: GitRepository, id: String, _ bad: (String) -> LedgerError) throws
        -> (String, ObjectID, [(path: [UInt8], mode: GitFileMode?, blob: ObjectID?)]) {
        let message: String, parents: [ObjectID], tree: ObjectID
        do {
            message = try repo.message(of: tip)
            parents = try repo.parents(of: tip)
            tree = try repo.treeOf(commit: tip)
        } catch { throw bad("its commit is unreadable (\(errorText(error)))") }
        guard parents.count == 1, let base = parents.first else {
            throw bad("its commit must have exactly one parent (the base)")
        }
        guard DriftTrailers(message).id == id else {
            throw bad("the commit's Drift-Id does not match the ref \(id)")
        }
        let changes = try diffTrees(repo, base: base, new: tree, bad)
        return (message, base, changes)
    }

    private func readOptional(_ file: String, _ limit: Int, _ bad: (String) -> LedgerError) throws -> [UInt8]? {
        if FileSystem.isAbsent(file) { return nil }
        return try readLimited(file, limit, bad)
    }

    private func readLimited(_ file: String, _ limit: Int, _ bad: (String) -> LedgerError) throws -> [UInt8] {
        guard let st = try? FileSystem.lstat(file) else { throw bad("\(lastPathComponent(file)) is missing") }
        guard st.kind == .regular else { throw bad("\(lastPathComponent(file)) is not a regular file") }
        guard st.size <= limit else {
            throw bad("\(lastPathComponent(file)) is over the \(limit >> 20) MiB limit")
        }
        do { return try readWholeFile(file, limit: limit, followSymlinks: false) } catch let e as DriftError {
            throw bad("\(lastPathComponent(file)) is unreadable (\(e.message))")
        }
    }

    /// `# v2 git bundle`, exactly one `-<base>` prerequisite, exactly one
    /// `<tip> refs/heads/drift/<id>` ref, a blank line, then `PACK`.
    private func parseHeader(_ b: [UInt8], _ bad: (String) -> LedgerError) throws -> (ObjectID, ObjectID, String, Int) {
        var pos = 0
        var lines: [String] = []
        while true {
            guard let nl = b[pos...].prefix(4096).firstIndex(of: 0x0A) else {
                throw bad("drift.bundle header is truncated")
            }
            let line = b[pos..<nl]
            pos = nl + 1
            if line.isEmpty { break }
            guard let s = String(validating: line, as: UTF8.self) else { throw bad("drift.bundle header is not text") }
            lines.append(s)
            if lines.count > 16 { throw bad("drift.bundle header is too long") }
        }
        guard lines.first == "# v2 git bundle" else { throw bad("drift.bundle is not a v2 git bundle") }
        let pre = lines.dropFirst().filter { $0.hasPrefix("-") }
        let refs = lines.dropFirst().filter { !$0.hasPrefix("-") }
        guard pre.count == 1, let p = ObjectID(hex: String(pre[0].dropFirst().prefix(40))) else {
            throw bad("drift.bundle must name exactly one base commit")
        }
        guard refs.count == 1 else { throw bad("drift.bundle must hold exactly one ref") }
        let parts = refs[0].split(separator: " ")
        guard parts.count == 2, let tip = ObjectID(hex: String(parts[0])),
              parts[1].hasPrefix("refs/heads/drift/") else {
            throw bad("drift.bundle's ref is not refs/heads/drift/<id>")
        }
        let id = String(parts[1].dropFirst("refs/heads/drift/".count))
        guard DriftID.isWellFormed(id) else {
            throw bad("bad drift id '\(id)'")
        }
        guard b.count >= pos + 32, b[pos..<(pos + 4)].elementsEqual("PACK".utf8) else {
            throw bad("drift.bundle is truncated or corrupt (no pack)")
        }
        return (p, tip, id, pos)
    }

    /// The changed paths between the base's tree and `new` (libgit2's tree diff), each with
    /// its new mode and blob (nil for a deletion); rejects names git itself would refuse.
    private func diffTrees(_ repo: GitRepository, base: ObjectID, new: ObjectID, _ bad: (String) -> LedgerError)
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
        for c in found {
            let unsafe = c.path.split(separator: 0x2F, omittingEmptySubsequences: false).contains { name in
                name.isEmpty || name.elementsEqual([0x2E]) || name.elementsEqual([0x2E, 0x2E])
                    || String(decoding: name, as: UTF8.self).lowercased() == ".git"
            }
            // A name holding '/' reads as two components: the path must lead back to the entry.
            let reached: GitTreeItem?
            do { reached = c.new == nil ? nil : try repo.entry(at: c.path, inTree: new) } catch let e as GitError {
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
    private func checkPatchPaths(_ patch: [UInt8], _ bad: (String) -> LedgerError) throws {
        do { try PatchPaths.check(patch) } catch let p as PatchPaths.Problem {
            switch p {
            case .unsafe(let path): throw bad("drift.patch names an unsafe path \(PathBytes.display(path))")
            case .unreadable(let why): throw bad("drift.patch is unreadable: \(why)")
            }
        }
    }

    /// The earliest `first_seen` in an export's report.json (either report schema). A report
    /// that is not such JSON is a failed check: the ledger is untrusted input.
    static func firstSeen(_ bytes: [UInt8]) throws -> Date? {
        struct File: Decodable {
            let firstSeen: String?
            enum CodingKeys: String, CodingKey { case firstSeen = "first_seen" }
            init(from d: Decoder) throws {
                let c = try d.container(keyedBy: CodingKeys.self)
                firstSeen = try c.decodeIfPresent(String.self, forKey: .firstSeen)
            }
        }
        struct Report: Decodable { let files: [File] }
        let report: Report
        do { report = try JSONDecoder().decode(Report.self, from: Data(bytes)) } catch {
            throw DriftError("report.json is not an export report")
        }
        return report.files.compactMap { $0.firstSeen.flatMap(Timestamp.parse) }.min()
    }
}
