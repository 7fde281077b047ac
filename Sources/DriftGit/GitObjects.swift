import CLibGit2
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A change to apply to a tree (`git_tree_create_updated`).
public struct TreeUpdate: Sendable {
    public enum Action: Sendable { case upsert(ObjectID, mode: String), remove }
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

/// A `git_signature *`, freed on deinit.
final class GitSignature {
    public let pointer: UnsafeMutablePointer<git_signature>

    init(_ p: GitPerson) throws {
        var s: UnsafeMutablePointer<git_signature>?
        try check(git_signature_new(&s, p.name, p.email, git_time_t(p.time.timeIntervalSince1970), 0),
                  "git_signature_new", "author \(p.name)")
        guard let s else { throw DriftError("git_signature_new returned nothing") }
        pointer = s
    }

    deinit { git_signature_free(pointer) }
}

/// An owned `git_tree *`.
final class GitTree {
    public let pointer: OpaquePointer
    public let owner: GitRepository

    init(_ repo: GitRepository, _ id: ObjectID) throws {
        var o = id.oid
        var t: OpaquePointer?
        try check(git_tree_lookup(&t, repo.pointer, &o), "git_tree_lookup", "\(repo.path): tree \(id.hex)")
        guard let t else { throw DriftError("\(repo.path): tree \(id.hex) not found") }
        pointer = t
        owner = repo
    }

    deinit { git_tree_free(pointer) }
}

/// An owned `git_commit *`.
public final class GitCommit {
    public let pointer: OpaquePointer
    public let owner: GitRepository

    public init(_ repo: GitRepository, _ id: ObjectID) throws {
        var o = id.oid
        var c: OpaquePointer?
        try check(git_commit_lookup(&c, repo.pointer, &o), "git_commit_lookup", "\(repo.path): commit \(id.hex)")
        guard let c else { throw DriftError("\(repo.path): commit \(id.hex) not found") }
        pointer = c
        owner = repo
    }

    deinit { git_commit_free(pointer) }

    public var treeID: ObjectID { ObjectID(git_commit_tree_id(pointer).pointee) }
    public var message: String { git_commit_message(pointer).map { String(cString: $0) } ?? "" }
    public var parentIDs: [ObjectID] {
        (0..<git_commit_parentcount(pointer)).compactMap {
            git_commit_parent_id(pointer, $0).map { ObjectID($0.pointee) }
        }
    }
}

extension GitRepository {
    /// Sends every object written from now on to memory (the on-disk store stays untouched).
    public func writeObjectsToMemory() throws {
        var backend: UnsafeMutablePointer<git_odb_backend>?
        try check(git_mempack_new(&backend), "git_mempack_new", path)
        let db = try odb()
        // The odb owns the backend once added; priority above the disk backends.
        try check(git_odb_add_backend(db.pointer, backend, 999), "git_odb_add_backend", path)
    }

    /// The tree of a commit.
    public func treeOf(commit id: ObjectID) throws -> ObjectID {
        try GitCommit(self, id).treeID
    }

    /// The full message of a commit.
    public func message(of id: ObjectID) throws -> String {
        try GitCommit(self, id).message
    }

    /// The parents of a commit.
    public func parents(of id: ObjectID) throws -> [ObjectID] {
        try GitCommit(self, id).parentIDs
    }

    /// Writes a blob.
    public func writeBlob(_ bytes: [UInt8]) throws -> ObjectID {
        try odb().write(.blob, bytes)
    }

    /// A new tree: `base` with `updates` applied (at most one update per path).
    public func updateTree(_ base: ObjectID, _ updates: [TreeUpdate]) throws -> ObjectID {
        if updates.isEmpty { return base }
        let tree = try GitTree(self, base)
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
                    x.filemode = git_filemode_t(rawValue: UInt32(mode, radix: 8) ?? 0o100644)
                }
                cu.append(x)
            }
            return git_tree_create_updated(&out, pointer, tree.pointer, cu.count, cu)
        }
        try check(rc, "git_tree_create_updated", path)
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
        let t = try GitTree(self, tree)
        let ps = try parents.map { try GitCommit(self, $0) }
        let a = try GitSignature(author)
        let c = try GitSignature(committer)
        var out = git_oid()
        var pp: [OpaquePointer?] = ps.map { $0.pointer }
        let rc = pp.withUnsafeMutableBufferPointer { buf in
            git_commit_create(&out, pointer, nil, a.pointer, c.pointer, nil, message, t.pointer,
                              ps.count, buf.baseAddress)
        }
        try check(rc, "git_commit_create", path)
        return ObjectID(out)
    }

    /// A patch between two trees in git's format (binary as `GIT binary patch`).
    public func diffTrees(_ old: ObjectID, _ new: ObjectID) throws -> [UInt8] {
        try withTreeDiff(old, new) { diff in
            var buf = git_buf()
            try check(git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH), "git_diff_to_buf", path)
            return takeBuffer(&buf)
        }
    }

    /// The tree-to-tree diff (binary shown), alive only inside `body`.
    func withTreeDiff<T>(_ old: ObjectID, _ new: ObjectID, _ body: (OpaquePointer?) throws -> T) throws -> T {
        let a = try GitTree(self, old)
        let b = try GitTree(self, new)
        var opts = git_diff_options()
        try check(git_diff_options_init(&opts, UInt32(GIT_DIFF_OPTIONS_VERSION)), "git_diff_options_init")
        opts.flags = GIT_DIFF_SHOW_BINARY.rawValue
        var diff: OpaquePointer?
        try check(git_diff_tree_to_tree(&diff, pointer, a.pointer, b.pointer, &opts), "git_diff_tree_to_tree", path)
        defer { git_diff_free(diff) }
        return try body(diff)
    }

    /// A pack holding exactly `objects` (no thin deltas: it stands alone).
    public func pack(_ objects: [ObjectID]) throws -> [UInt8] {
        var pb: OpaquePointer?
        try check(git_packbuilder_new(&pb, pointer), "git_packbuilder_new", path)
        defer { git_packbuilder_free(pb) }
        for id in objects {
            var o = id.oid
            try check(git_packbuilder_insert(pb, &o, nil), "git_packbuilder_insert", "\(path): \(id.hex)")
        }
        var buf = git_buf()
        try check(git_packbuilder_write_buf(&buf, pb), "git_packbuilder_write_buf", path)
        return takeBuffer(&buf)
    }

    /// The content of the blob at `path` in a tree, nil when there is none.
    public func blob(at path: [UInt8], inTree tree: ObjectID) throws -> [UInt8]? {
        var cur = tree
        let parts = path.split(separator: UInt8(ascii: "/")).map(Array.init)
        for (i, name) in parts.enumerated() {
            guard let e = try treeEntries(cur).first(where: { $0.name == name }) else { return nil }
            if i == parts.count - 1 {
                guard e.mode != "40000" else { return nil }
                return try odb().read(e.id).1
            }
            guard e.mode == "40000" else { return nil }
            cur = e.id
        }
        return nil
    }

    /// Entries of a tree object.
    public func treeEntries(_ id: ObjectID) throws -> [RawTreeEntry] {
        let (t, body) = try odb().read(id)
        guard t == .tree else { throw DriftError("\(path): \(id.hex) is not a tree") }
        return try parseTree(body, context: path)
    }

    /// Objects reachable from `newTree` that `oldTree` does not have (trees and blobs),
    /// found by descending only into subtrees whose ids differ.
    public func newObjects(_ newTree: ObjectID, comparedTo oldTree: ObjectID?) throws -> [ObjectID] {
        if newTree == oldTree { return [] }
        var out = [newTree]
        let old = try oldTree.map { try treeEntries($0) } ?? []
        var oldByName: [[UInt8]: RawTreeEntry] = [:]
        for e in old { oldByName[e.name] = e }
        for e in try treeEntries(newTree) {
            let prev = oldByName[e.name]
            if prev?.id == e.id { continue }
            switch e.mode {
            case "40000": out += try newObjects(e.id, comparedTo: prev?.mode == "40000" ? prev?.id : nil)
            case "160000": continue
            default: out.append(e.id)
            }
        }
        return out
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
