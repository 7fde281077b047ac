#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Builds the drifted tree: the base tree with the code drift applied. Only code-class,
/// non-secret paths enter it; config, data and secret content never does.
public struct DriftTreeBuilder {
    public var repo: GitRepository
    public var baseCommit: ObjectID
    public var reader: FileReader
    public var sizeLimit: Int64

    public init(repo: GitRepository, baseCommit: ObjectID, reader: FileReader, sizeLimit: Int64) {
        self.repo = repo
        self.baseCommit = baseCommit
        self.reader = reader
        self.sizeLimit = sizeLimit
    }

    public struct Output {
        public var baseTree: ObjectID
        public var tree: ObjectID
        /// Code paths whose content is in the tree.
        public var included: [FileChange]
        /// Changes recorded by name (and hash) only, with the reason.
        public var withheld: [(FileChange, String)]
    }

    /// Whether a change's content may enter git objects at all.
    public static func carriesContent(_ c: FileChange) -> Bool { c.fileClass == .code && !c.secret }

    /// Only pip drift a requirements file can express (not allowed, not modified/unowned).
    public static func pinnable(_ pip: [PipChange]) -> [PipChange] {
        pip.filter { !$0.allowed && ["added", "removed", "upgraded", "downgraded", "editable"].contains($0.change) }
    }

    /// The drifted tree; pip drift edits `requirements` (a path under the root) when given.
    public func build(_ changes: [FileChange], pip: [PipChange] = [], requirements: String? = nil) throws -> Output {
        let baseTree = try repo.treeOf(commit: baseCommit)
        var updates: [TreeUpdate] = []
        var written: [[UInt8]: [UInt8]] = [:]
        var included: [FileChange] = []
        var withheld: [(FileChange, String)] = []
        for c in changes {
            guard Self.carriesContent(c) else {
                withheld.append((c, c.secret ? "secret" : c.fileClass.rawValue))
                continue
            }
            guard let new = c.new else {
                updates.append(TreeUpdate(path: c.path, action: .remove))
                included.append(c)
                continue
            }
            switch new.kind {
            case .regular:
                if new.size > sizeLimit {
                    withheld.append((c, "over the \(sizeLimit)-byte size limit"))
                    continue
                }
                // Content that moved under us is not recorded as truth: the scan reported what
                // it hashed, and the next scan records the settled version.
                let bytes: [UInt8]
                do { bytes = try reader.readAll(c.path, limit: sizeLimit) } catch {
                    withheld.append((c, "changed while read"))
                    continue
                }
                let moved = try new.digest.map { want in try SHA256Hasher.digest(bytes) != want } ?? false
                if c.unstable || moved {
                    withheld.append((c, "changed while read"))
                    continue
                }
                written[c.path] = bytes
                updates.append(TreeUpdate(path: c.path, action: .upsert(try repo.writeBlob(bytes), mode: new.executable ? "100755" : "100644")))
            case .symlink:
                updates.append(TreeUpdate(path: c.path, action: .upsert(try repo.writeBlob(new.target ?? []), mode: "120000")))
            case .directory, .special:
                // git cannot hold a special file; a directory's files arrive as their own adds.
                if c.old != nil { updates.append(TreeUpdate(path: c.path, action: .remove)) }
            }
            included.append(c)
        }
        // A path turned into a directory: drop its removal when files are added below it,
        // since the upserts replace it (git_tree_create_updated takes one update per path).
        let upserted = Set(updates.compactMap { u -> [UInt8]? in
            if case .upsert = u.action { return u.path } else { return nil }
        })
        updates = updates.filter { u in
            guard case .remove = u.action else { return true }
            return !upserted.contains { PathBytes.isWithin($0, u.path) && $0 != u.path }
        }
        // The manifest can list files the commit never had (generated in the image): removing
        // one of those from the base tree is no change at all.
        updates = try updates.filter { u in
            guard case .remove = u.action else { return true }
            return try repo.entry(at: u.path, inTree: baseTree) != nil
        }
        let pins = Self.pinnable(pip)
        if !pins.isEmpty, let req = requirements, !req.hasPrefix("/") {
            let path = Array(req.utf8)
            let current = try written[path] ?? repo.blob(at: path, inTree: baseTree) ?? []
            let edited = Array(Requirements.apply(pins, to: String(decoding: current, as: UTF8.self)).utf8)
            updates.removeAll { $0.path == path }
            updates.append(TreeUpdate(path: path, action: .upsert(try repo.writeBlob(edited), mode: "100644")))
        }
        let tree = try repo.updateTree(baseTree, updates)
        return Output(baseTree: baseTree, tree: tree, included: included, withheld: withheld)
    }
}

/// The stable id of a drift state: same base, same code content, same config/data
/// changes → same id.
public enum DriftID {
    public static func compute(base: String, tree: ObjectID, withheld: [(FileChange, String)], pip: [PipChange] = []) throws -> String {
        var s = "drift-id/1\nbase \(base)\ntree \(tree.hex)\n"
        for p in pip where !p.allowed { s += "pip \(SnapshotPip(p).line)\n" }
        for (c, _) in withheld.sorted(by: { PathBytes.less($0.0.path, $1.0.path) }) {
            s += "\(c.change.rawValue) \(PathBytes.escape(c.path)) \(c.new?.digest?.hex ?? "-") \(c.new?.gitMode ?? "-")\n"
        }
        return String(try SHA256Hasher.digest(Array(s.utf8)).hex.prefix(20))
    }
}
