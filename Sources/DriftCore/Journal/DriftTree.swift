import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Builds the drifted tree: the base tree with the code drift applied. Only code-class,
/// non-secret paths enter it; config, data and secret content never does.
public struct DriftTreeBuilder {
    public var repo: GitRepository
    var baseCommit: ObjectID
    var reader: FileReader
    var sizeLimit: Int64
    /// Code whose bytes match a secret is withheld (checked on the exact bytes that go in).
    var secrets = SecretIndex()
    /// Blob ids of content this journal already has (`drift watch` keeps one across snapshots).
    var blobCache: JournalBlobCache?

    public init(repo: GitRepository, baseCommit: ObjectID, reader: FileReader, sizeLimit: Int64) {
        self.repo = repo
        self.baseCommit = baseCommit
        self.reader = reader
        self.sizeLimit = sizeLimit
    }

    public struct Output {
        var baseTree: ObjectID
        public var tree: ObjectID
        /// Code paths whose content is in the tree.
        var included: [FileChange]
        /// Changes recorded by name (and hash) only, with the reason: places in the changes
        /// built from, not copies (a copy of each of 200,000 withheld data files was 37 MB a
        /// watch batch, page faults included; issue 28).
        var withheldList: WithheldChanges
        /// The withheld changes, each with its reason, copied out (`drift diff`, tests).
        public var withheld: [(FileChange, WithholdReason)] { withheldList.copied }
        /// Files read here (not by the scan) whose content differs from what the scan
        /// reported: the report takes this state, so report and journal agree.
        var observed: [[UInt8]: EntryState] = [:]
    }

    /// Whether a change's content may enter git objects at all.
    static func carriesContent(_ c: FileChange) -> Bool {
        carriesContent(fileClass: c.fileClass, secret: c.secret)
    }

    /// Whether content of this class may enter git objects at all.
    static func carriesContent(fileClass: FileClass, secret: Bool) -> Bool { fileClass == .code && !secret }

    /// Whether git can hold the path with the entry's mode (libgit2's own verdict); a
    /// directory or special file never enters the tree, so only its name's parents matter.
    static func storable(_ path: [UInt8], _ new: EntryState) -> Bool {
        switch new.kind {
        case .regular: return GitNames.isStorable(path, mode: GitFileMode(symlink: false, executable: new.executable))
        case .symlink: return GitNames.isStorable(path, mode: .symlink)
        case .directory, .special: return true
        }
    }

    /// Only pip drift a requirements file can express (not allowed, not modified/unowned).
    static func pinnable(_ pip: [PipChange]) -> [PipChange] {
        pip.filter { !$0.allowed && $0.change.isPinnable }
    }

    /// The drifted tree; pip drift edits `requirements` (a path under the root) when given.
    /// `contents` holds bytes the scan already read (and hashed) for drifted files; any other
    /// drifted file is read here once, and that one read gives both its blob and its state.
    public func build(_ changes: [FileChange], pip: [PipChange] = [], requirements: [UInt8]? = nil,
                      contents: [[UInt8]: [UInt8]] = [:]) throws -> Output {
        let baseTree = try repo.treeOf(commit: baseCommit)
        let hasher = try SHA256Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var edits = Edits(blobs: try SnapshotBlobs(repo: repo), withheld: WithheldChanges(changes))
        blobCache?.begin(journal: repo.path, secrets: secrets)
        defer { blobCache?.end() }
        let source = Source(contents: contents,
                            requirementsPath: requirements.flatMap { $0.first == UInt8(ascii: "/") ? nil : $0 },
                            hasher: hasher, buffer: buffer)
        for i in changes.indices {
            // Asked in place: a data file withheld by its class is never copied out of the list.
            if let why = Self.withheldByClass(changes[i].fileClass, changes[i].secrecy) {
                edits.withheld.append(i, why)
                continue
            }
            let c = changes[i]
            if let why = Self.withholdReason(c) {
                edits.withheld.append(i, why)
                continue
            }
            guard let new = c.new else {
                edits.updates.append(TreeUpdate(path: c.path, action: .remove))
                edits.included.append(c)
                continue
            }
            switch new.kind {
            case .regular:
                guard try addFile(i, c, new, &edits, source) else { continue }
            case .symlink:
                // A target carrying a secret, or unchecked, was flagged by `SecretIndex.flag`.
                let link = try edits.blobs.add(new.target ?? [])
                edits.updates.append(TreeUpdate(path: c.path, action: .upsert(link, mode: .symlink)))
            case .directory, .special:
                // git cannot hold a special file; a directory's files arrive as their own adds.
                if c.old != nil { edits.updates.append(TreeUpdate(path: c.path, action: .remove)) }
            }
            edits.included.append(c)
        }
        // The manifest can list files the commit never had (generated in the image): removing
        // one of those from the base tree is no change at all.
        var updates = try edits.updates.filter { u in
            guard case .remove = u.action else { return true }
            return try repo.entry(at: u.path, inTree: baseTree) != nil
        }
        let pins = Self.pinnable(pip)
        if !pins.isEmpty, let path = requirements, path.first != UInt8(ascii: "/") {
            let current = try edits.written[path] ?? repo.blob(at: path, inTree: baseTree) ?? []
            let edited = Array(Requirements.apply(pins, to: String(decoding: current, as: UTF8.self)).utf8)
            updates.removeAll { $0.path == path }
            updates.append(TreeUpdate(path: path, action: .upsert(try repo.writeBlob(edited), mode: .blob)))
        }
        try edits.blobs.flush()
        let tree = try Self.apply(updates, to: baseTree, in: repo)
        return Output(baseTree: baseTree, tree: tree, included: edits.included, withheldList: edits.withheld,
                      observed: edits.observed)
    }

    /// Applies updates in two passes, removals first, so a file that became a directory
    /// (or the reverse) at any depth never meets itself in one `git_tree_create_updated`
    /// (which refuses a blob and a tree at one path: "D/F conflict").
    static func apply(_ updates: [TreeUpdate], to baseTree: ObjectID, in repo: GitRepository) throws -> ObjectID {
        var removals: [[UInt8]] = []
        var upserts: [TreeUpdate] = []
        // Many updates share their directories: each base path is looked up once.
        var modes: [[UInt8]: GitFileMode?] = [:]
        func mode(_ path: [UInt8]) throws -> GitFileMode? {
            if let m = modes[path] { return m }
            let m = try repo.entry(at: path, inTree: baseTree)?.mode
            modes[path] = .some(m)
            return m
        }
        for u in updates {
            switch u.action {
            case .remove: removals.append(u.path)
            case .upsert: upserts.append(u)
            }
        }
        for u in upserts {
            // What stands in the way in the base: a tree where a file goes, a file where a directory goes.
            if try mode(u.path) == .tree { removals.append(u.path) }
            var prefix: [UInt8] = []
            for part in u.path.split(separator: UInt8(ascii: "/")).dropLast() {
                prefix += prefix.isEmpty ? Array(part) : [UInt8(ascii: "/")] + Array(part)
                if let m = try mode(prefix), m != .tree {
                    removals.append(prefix)
                    break
                }
            }
        }
        // A removal below a path removed whole is already done (one update per path).
        var seen = Set<[UInt8]>()
        let sorted = removals.sorted { PathBytes.less($0, $1) }.filter { seen.insert($0).inserted }
        let pass1 = sorted.filter { r in !sorted.contains { $0 != r && PathBytes.isWithin(r, $0) } }
        let removed = try repo.updateTree(baseTree, pass1.map { TreeUpdate(path: $0, action: .remove) })
        return try repo.updateTree(removed, upserts)
    }
}

/// The stable id of a drift state: same base, same code content, same config/data
/// changes, same secret paths and change kinds → same id.
///
/// A secret enters only by path and change kind, never by any hash of its content: the id
/// is published (patch, bundle, ref names), and a hash of a short secret is an oracle for
/// guessing it. Ids of drift without secrets are what they always were.
///
/// The id is the SHA-256 of a text: a header (`drift-id/1`, base, tree) and one line per
/// withheld change and pip change (`inputs`). An export carries those lines in report.json
/// (`drift_id_inputs`) so the gate recomputes the id from what a ledger entry holds. A line
/// of withheld *code* ends in ` code`: the gate rejects withheld code until it is waived, so
/// which withheld paths are code is part of what the id binds.
extension DriftID {
    static func compute(
        base: ObjectID,
        tree: ObjectID,
        withheld: [(FileChange, WithholdReason)],
        pip: [PipChange] = []
    ) throws -> DriftID {
        try compute(base: base, tree: tree, inputs: inputs(withheld: withheld, pip: pip))
    }

    /// The id of a state given its input lines (`inputs(withheld:pip:)`).
    static func compute(base: ObjectID, tree: ObjectID, inputs: [String]) throws -> DriftID {
        var s = "drift-id/1\nbase \(base.hex)\ntree \(tree.hex)\n"
        for line in inputs { s += line + "\n" }
        return DriftID(computed: String(try SHA256Hasher.digest(Array(s.utf8)).hex.prefix(20)))
    }

    /// One line per pip change (not allowed), then per withheld change in path order.
    static func inputs(withheld: [(FileChange, WithholdReason)], pip: [PipChange]) -> [String] {
        var out: [String] = []
        for p in pip where !p.allowed { out.append("pip \(SnapshotPip(p).line)") }
        for (c, _) in withheld.sorted(by: { PathBytes.less($0.0.path, $1.0.path) }) {
            // Bytecode is evidence for the instance, not code upstream must take: bound, not gated.
            let code = c.fileClass == .code && c.change != .bytecode ? " code" : ""
            if c.secret {
                out.append("\(c.change.rawValue) \(PathBytes.escape(c.path)) secret\(code)")
                continue
            }
            let digest = c.new?.digest?.hex ?? "-"
            let mode = c.new?.gitMode?.octal ?? "-"
            out.append("\(c.change.rawValue) \(PathBytes.escape(c.path)) \(digest) \(mode)\(code)")
        }
        return out
    }

    /// The withheld code an input line names: (path, change), nil for any other line.
    static func withheldCode(_ line: String) -> (path: [UInt8], change: ChangeKind)? {
        let f = line.split(separator: " ", omittingEmptySubsequences: false)
        guard f.count >= 4, f.last == "code", let change = ChangeKind(rawValue: String(f[0])),
              let path = PathBytes.unescape(f[1].utf8) else { return nil }
        return (path, change)
    }
}
