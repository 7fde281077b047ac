import CLibGit2
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A change to apply to a tree (`git_tree_create_updated`).
public struct TreeUpdate: Sendable {
    public enum Action: Sendable { case upsert(ObjectID, mode: GitFileMode), remove }
    public var path: [UInt8]
    public var action: Action

    public init(path: [UInt8], action: Action) {
        self.path = path
        self.action = action
    }
}

/// Name, email and time of an author or committer.
public struct GitPerson: Sendable, Equatable {
    public var name: String
    public var email: String
    public var time: Date

    public init(name: String, email: String, time: Date) {
        self.name = name
        self.email = email
        self.time = time
    }
}

extension GitRepository {
    /// Looks a commit up.
    func lookupCommit(_ id: ObjectID) throws -> GitCommit {
        var o = id.oid
        return try GitCommit(owner: self, "git_commit_lookup", "\(shown): commit \(id.hex)") {
            git_commit_lookup(&$0, pointer, &o)
        }
    }
}

extension GitHandle where Kind == SignatureKind {
    /// A signature for `person`.
    convenience init(_ person: GitPerson) throws {
        try self.init(owner: nil, "git_signature_new", "author \(person.name)") {
            git_signature_new(&$0, person.name, person.email, git_time_t(person.time.timeIntervalSince1970), 0)
        }
    }
}

extension GitHandle where Kind == CommitKind {
    var treeID: ObjectID { ObjectID(git_commit_tree_id(pointer).pointee) }
    var message: String { git_commit_message(pointer).map { String(cString: $0) } ?? "" }
    var parentIDs: [ObjectID] {
        (0..<git_commit_parentcount(pointer)).compactMap {
            git_commit_parent_id(pointer, $0).map { ObjectID($0.pointee) }
        }
    }
}

extension GitRepository {
    /// Sends every object written from now on to memory (the on-disk store stays untouched).
    public func writeObjectsToMemory() throws {
        var backend: UnsafeMutablePointer<git_odb_backend>?
        try check(git_mempack_new(&backend), "git_mempack_new", shown)
        let db = try odb()
        // The odb owns the backend once added; priority above the disk backends.
        try check(git_odb_add_backend(db.handle.pointer, backend, 999), "git_odb_add_backend", shown)
    }

    /// The tree of a commit.
    public func treeOf(commit id: ObjectID) throws -> ObjectID {
        try lookupCommit(id).treeID
    }

    /// The full message of a commit.
    public func message(of id: ObjectID) throws -> String {
        try lookupCommit(id).message
    }

    /// The parents of a commit.
    public func parents(of id: ObjectID) throws -> [ObjectID] {
        try lookupCommit(id).parentIDs
    }

    /// Writes a blob.
    public func writeBlob(_ bytes: [UInt8]) throws -> ObjectID {
        try odb().write(.blob, bytes)
    }

    /// A new tree: `base` with `updates` applied (at most one update per path).
    public func updateTree(_ base: ObjectID, _ updates: [TreeUpdate]) throws -> ObjectID {
        if updates.isEmpty { return base }
        let tree = try lookupTree(base)
        // The C structs borrow the path strings: keep them alive for the call.
        let cpaths: [[CChar]] = updates.map { u in u.path.map { CChar(bitPattern: $0) } + [0] }
        var out = git_oid()
        let rc: Int32 = cpaths.withUnsafeBufferPointers { ptrs in
            var cu: [git_tree_update] = []
            for (i, u) in updates.enumerated() {
                var x = git_tree_update()
                x.path = ptrs[i]
                switch u.action {
                case .remove:
                    x.action = GIT_TREE_UPDATE_REMOVE
                case .upsert(let id, let mode):
                    x.action = GIT_TREE_UPDATE_UPSERT
                    x.id = id.oid
                    x.filemode = mode.c
                }
                cu.append(x)
            }
            return git_tree_create_updated(&out, pointer, tree.pointer, cu.count, cu)
        }
        try check(rc, "git_tree_create_updated", shown)
        return ObjectID(out)
    }

    /// One entry of a tree written by `writeTree`: a name (one component, no `/`), its mode
    /// and the object it names.
    public struct TreeEntryInput: Sendable {
        public var name: [UInt8]
        public var mode: GitFileMode
        public var id: ObjectID

        public init(name: [UInt8], mode: GitFileMode, id: ObjectID) {
            self.name = name
            self.mode = mode
            self.id = id
        }
    }

    /// A new tree of `entries` (one level), built by libgit2's tree builder: it orders the
    /// entries as git requires and refuses a name git cannot store, so no caller writes tree
    /// bytes by hand.
    /// - Throws: `GitError` for a refused name, a missing object, or a failed write.
    public func writeTree(_ entries: [TreeEntryInput]) throws -> ObjectID {
        let builder = try GitTreeBuilder(owner: self, "git_treebuilder_new", shown) {
            git_treebuilder_new(&$0, pointer, nil)
        }
        for e in entries {
            var id = e.id.oid
            // A NUL would end the C string early and insert another name.
            let rc = e.name.contains(0) ? GIT_EINVALID.rawValue
                : withCPath(e.name) { git_treebuilder_insert(nil, builder.pointer, $0, &id, e.mode.c) }
            try check(rc, "git_treebuilder_insert", PathBytes.display(e.name))
        }
        var out = git_oid()
        try check(git_treebuilder_write(&out, builder.pointer), "git_treebuilder_write", shown)
        return ObjectID(out)
    }

    /// Creates a commit object (no reference is moved).
    public func createCommit(
        tree: ObjectID,
        parents: [ObjectID],
        author: GitPerson,
        committer: GitPerson,
        message: String
    ) throws -> ObjectID {
        let t = try lookupTree(tree)
        let ps = try parents.map { try lookupCommit($0) }
        let a = try GitSignature(author)
        let c = try GitSignature(committer)
        var out = git_oid()
        var pp: [OpaquePointer?] = ps.map { $0.pointer }
        let rc = pp.withUnsafeMutableBufferPointer { buf in
            git_commit_create(&out, pointer, nil, a.pointer, c.pointer, nil, message, t.pointer,
                              ps.count, buf.baseAddress)
        }
        try check(rc, "git_commit_create", shown)
        return ObjectID(out)
    }

    /// A patch between two trees in git's format (binary as `GIT binary patch`).
    public func diffTrees(_ old: ObjectID, _ new: ObjectID) throws -> [UInt8] {
        try withTreeDiff(old, new) { diff in
            var buf = git_buf()
            try check(git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH), "git_diff_to_buf", shown)
            return takeBuffer(&buf)
        }
    }

    /// The tree-to-tree diff (binary shown), alive only inside `body`.
    func withTreeDiff<T>(_ old: ObjectID, _ new: ObjectID, _ body: (OpaquePointer?) throws -> T) throws -> T {
        let a = try lookupTree(old)
        let b = try lookupTree(new)
        var opts = git_diff_options()
        try check(git_diff_options_init(&opts, UInt32(GIT_DIFF_OPTIONS_VERSION)), "git_diff_options_init")
        opts.flags = GIT_DIFF_SHOW_BINARY.rawValue
        let diff = try GitDiff(owner: self, "git_diff_tree_to_tree", shown) {
            git_diff_tree_to_tree(&$0, pointer, a.pointer, b.pointer, &opts)
        }
        // Renames as `git diff -M` finds them (50% similarity, exact renames first): a hotfix
        // that moved a file travels as a rename, so `git am -3` merges an upstream edit of
        // the old name instead of conflicting on a delete.
        var find = git_diff_find_options()
        try check(git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)),
                  "git_diff_find_options_init")
        find.flags = GIT_DIFF_FIND_RENAMES.rawValue
        try check(git_diff_find_similar(diff.pointer, &find), "git_diff_find_similar", shown)
        return try body(diff.pointer)
    }

    /// A pack holding exactly `objects` (no thin deltas: it stands alone).
    public func pack(_ objects: [ObjectID]) throws -> [UInt8] {
        let pb = try GitPackBuilder(owner: self, "git_packbuilder_new", shown) { git_packbuilder_new(&$0, pointer) }
        for id in objects {
            var o = id.oid
            try check(git_packbuilder_insert(pb.pointer, &o, nil), "git_packbuilder_insert", "\(shown): \(id.hex)")
        }
        var buf = git_buf()
        try check(git_packbuilder_write_buf(&buf, pb.pointer), "git_packbuilder_write_buf", shown)
        return takeBuffer(&buf)
    }
}

extension Array where Element == [CChar] {
    /// Calls `body` with stable C pointers to every element.
    func withUnsafeBufferPointers<R>(_ body: ([UnsafePointer<CChar>]) throws -> R) rethrows -> R {
        var ptrs: [UnsafeMutablePointer<CChar>] = []
        defer { ptrs.forEach { $0.deallocate() } }
        for s in self {
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: s.count)
            p.initialize(from: s, count: s.count)
            ptrs.append(p)
        }
        return try body(ptrs.map { UnsafePointer($0) })
    }
}
