import CLibGit2
import DriftSystem

/// What a tree entry holds: its mode and object.
public struct GitTreeItem: Sendable, Hashable {
    public var mode: GitFileMode
    public var id: ObjectID

    public init(mode: GitFileMode, id: ObjectID) {
        self.mode = mode
        self.id = id
    }
}

/// One entry of a tree, as a walk or a listing meets it.
public struct GitTreeEntry: Sendable, Equatable {
    /// From the walked tree's root, `dir/sub/name`, in the bytes git stores.
    public var path: [UInt8]
    /// The entry's own name (the last component of `path`).
    public var name: [UInt8]
    public var mode: GitFileMode
    public var id: ObjectID

    /// Mode and object.
    public var item: GitTreeItem { GitTreeItem(mode: mode, id: id) }
}

/// What a walk does after visiting an entry.
public enum GitWalkStep: Sendable {
    /// Go on; for a tree, into its entries.
    case descend
    /// Go on without entering this tree.
    case skip
}

/// One path that differs between two trees; `old` or `new` is nil where the path is absent.
public struct GitTreeChange: Sendable, Equatable {
    public var path: [UInt8]
    public var old: GitTreeItem?
    public var new: GitTreeItem?
}

/// A tree diff stopped because it found more changed paths than its limit.
public struct GitTooManyChanges: Error, Sendable {
    public let limit: Int
}

/// A walk's Swift side, reached from libgit2's C callback through the payload pointer.
private final class WalkContext {
    let visit: (GitTreeEntry) throws -> GitWalkStep
    var error: Error?

    init(_ visit: @escaping (GitTreeEntry) throws -> GitWalkStep) {
        self.visit = visit
    }
}

/// Counts a diff's deltas as libgit2 adds them, to stop at a limit.
private final class DiffLimit {
    let limit: Int
    var count = 0
    var exceeded = false

    init(_ limit: Int) {
        self.limit = limit
    }
}

extension GitRepository {
    /// Looks a tree up (libgit2 parses it and refuses a corrupt one).
    func lookupTree(_ id: ObjectID) throws -> GitTree {
        var o = id.oid
        return try GitTree(owner: self, "git_tree_lookup", "\(shown): tree \(id.hex)") {
            git_tree_lookup(&$0, pointer, &o)
        }
    }

    /// Visits every entry of `tree`, parents before their entries (libgit2's `git_tree_walk`).
    /// Submodule commits are visited, never entered.
    /// - Parameters:
    ///   - tree: the tree to walk.
    ///   - visit: called once per entry; `.skip` keeps the walk out of that tree.
    /// - Throws: what `visit` throws, or `GitError` for a missing or corrupt tree.
    public func walkTree(_ tree: ObjectID, _ visit: (GitTreeEntry) throws -> GitWalkStep) throws {
        let t = try lookupTree(tree)
        try withoutActuallyEscaping(visit) { visit in
            let context = WalkContext(visit)
            let payload = Unmanaged.passUnretained(context).toOpaque()
            let rc = git_tree_walk(t.pointer, GIT_TREEWALK_PRE, { root, entry, payload in
                guard let entry, let payload else { return -1 }
                let context = Unmanaged<WalkContext>.fromOpaque(payload).takeUnretainedValue()
                let e = GitTreeEntry(entry, prefix: cBytes(root))
                do {
                    return try context.visit(e) == .skip ? 1 : 0
                } catch {
                    context.error = error
                    return -1
                }
            }, payload)
            withExtendedLifetime(context) {}
            if let error = context.error { throw error }
            try check(rc, "git_tree_walk", "\(shown): tree \(tree.hex)")
        }
    }

    /// The entries of one tree, in its order (not recursive).
    /// - Parameter id: the tree.
    /// - Returns: each entry, `path` being its name.
    /// - Throws: `GitError` for a missing or corrupt tree, or an object that is not a tree.
    public func treeEntries(_ id: ObjectID) throws -> [GitTreeEntry] {
        let t = try lookupTree(id)
        return (0..<git_tree_entrycount(t.pointer)).compactMap { i in
            git_tree_entry_byindex(t.pointer, i).map { GitTreeEntry($0, prefix: []) }
        }
    }

    /// The entry at `path` in a tree (`git_tree_entry_bypath`), nil when there is none.
    /// - Parameters:
    ///   - path: `dir/name` bytes.
    ///   - tree: the tree to look in.
    /// - Returns: the entry's mode and object, or nil when the path is absent.
    /// - Throws: `GitError` for any failure other than an absent path (a corrupt tree).
    public func entry(at path: [UInt8], inTree tree: ObjectID) throws -> GitTreeItem? {
        try entry(at: path, in: try lookupTree(tree))
    }

    func entry(at path: [UInt8], in tree: GitTree) throws -> GitTreeItem? {
        let shown = path.isEmpty ? "" : PathBytes.display(path)
        let e: GitTreeEntryHandle
        do {
            e = try GitTreeEntryHandle(owner: tree, "git_tree_entry_bypath", shown) { out in
                withCPath(path) { git_tree_entry_bypath(&out, tree.pointer, $0) }
            }
        } catch let error as GitError where error.isNotFound {
            return nil
        }
        return GitTreeItem(mode: GitFileMode(normalizing: git_tree_entry_filemode(e.pointer).rawValue),
                           id: ObjectID(git_tree_entry_id(e.pointer).pointee))
    }

    /// The content of the blob at `path` in a tree; nil when there is none or it is a
    /// directory or a submodule.
    public func blob(at path: [UInt8], inTree tree: ObjectID) throws -> [UInt8]? {
        guard let e = try entry(at: path, inTree: tree), e.mode != .tree, e.mode != .commit else { return nil }
        return try odb().read(e.id).1
    }

    /// Objects reachable from `newTree` that `oldTree` does not hold at the same path (trees
    /// and blobs; no submodule commits): the walk enters only subtrees whose ids differ.
    public func newObjects(_ newTree: ObjectID, comparedTo oldTree: ObjectID?) throws -> [ObjectID] {
        if newTree == oldTree { return [] }
        let old = try oldTree.map { try lookupTree($0) }
        var out = [newTree]
        try walkTree(newTree) { e in
            if let old, try entry(at: e.path, in: old)?.id == e.id { return .skip }
            if e.mode == .commit { return .skip }
            out.append(e.id)
            return .descend
        }
        return out
    }

    /// The paths that differ between two trees (libgit2's `git_diff_tree_to_tree`, without
    /// type changes: a file that became a directory is a deletion and additions).
    /// - Parameters:
    ///   - old: the tree before.
    ///   - new: the tree after.
    ///   - limit: the most changes to accept.
    /// - Returns: the changes, sorted by path.
    /// - Throws: `GitTooManyChanges` past `limit`; `GitError` for a missing or corrupt tree.
    public func treeChanges(from old: ObjectID, to new: ObjectID, limit: Int) throws -> [GitTreeChange] {
        let a = try lookupTree(old)
        let b = try lookupTree(new)
        var opts = git_diff_options()
        try check(git_diff_options_init(&opts, UInt32(GIT_DIFF_OPTIONS_VERSION)), "git_diff_options_init")
        opts.flags = GIT_DIFF_SKIP_BINARY_CHECK.rawValue
        let counter = DiffLimit(limit)
        opts.payload = Unmanaged.passUnretained(counter).toOpaque()
        opts.notify_cb = { _, _, _, payload in
            guard let payload else { return -1 }
            let counter = Unmanaged<DiffLimit>.fromOpaque(payload).takeUnretainedValue()
            counter.count += 1
            if counter.count > counter.limit {
                counter.exceeded = true
                return -1
            }
            return 0
        }
        let diff: GitDiff
        do {
            diff = try GitDiff(owner: self, "git_diff_tree_to_tree", "\(shown): \(old.hex)..\(new.hex)") {
                git_diff_tree_to_tree(&$0, pointer, a.pointer, b.pointer, &opts)
            }
        } catch let error as GitError {
            if counter.exceeded { throw GitTooManyChanges(limit: limit) }
            throw error
        }
        withExtendedLifetime(counter) {}
        var out: [GitTreeChange] = []
        for i in 0..<git_diff_num_deltas(diff.pointer) {
            guard let d = git_diff_get_delta(diff.pointer, i)?.pointee else { continue }
            let before = GitTreeItem(d.old_file)
            let after = GitTreeItem(d.new_file)
            switch d.status {
            case GIT_DELTA_ADDED:
                out.append(GitTreeChange(path: cBytes(d.new_file.path), old: nil, new: after))
            case GIT_DELTA_DELETED:
                out.append(GitTreeChange(path: cBytes(d.old_file.path), old: before, new: nil))
            default:
                out.append(GitTreeChange(path: cBytes(d.new_file.path), old: before, new: after))
            }
        }
        return out
    }
}

extension GitTreeEntry {
    /// An entry libgit2 lent (valid only during the call), copied out.
    init(_ entry: OpaquePointer, prefix: [UInt8]) {
        name = cBytes(git_tree_entry_name(entry))
        path = prefix + name
        mode = GitFileMode(normalizing: git_tree_entry_filemode(entry).rawValue)
        id = ObjectID(git_tree_entry_id(entry).pointee)
    }
}

extension GitTreeItem {
    /// One side of a diff delta.
    init(_ file: git_diff_file) {
        mode = GitFileMode(normalizing: UInt32(file.mode))
        id = ObjectID(file.id)
    }
}
