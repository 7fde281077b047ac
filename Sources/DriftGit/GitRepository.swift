import CLibGit2
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An open git repository (owned `git_repository *`).
public final class GitRepository {
    let handle: GitHandle<RepositoryKind>
    /// Where it was opened from (bytes, a name that is not UTF-8 included).
    public let path: [UInt8]
    /// `path` for messages, through the one quoting function.
    public var shown: String { PathBytes.display(path) }

    var pointer: OpaquePointer { handle.pointer }

    /// Opens an existing repository (work tree or bare).
    /// - Throws: `DriftError` naming the path when nothing is there or it is not a repository.
    public convenience init(path: String) throws {
        try self.init(path: Array(path.utf8))
    }

    /// `init(path:)` for a path held as bytes: libgit2 gets them NUL-terminated, never decoded.
    public init(path: [UInt8]) throws {
        ensureLibgit2()
        do {
            handle = try GitHandle(owner: nil, "git_repository_open_ext", PathBytes.display(path)) { out in
                withCPath(path) { git_repository_open_ext(&out, $0, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil) }
            }
        } catch let e as GitError where e.isNotFound {
            throw DriftError(.gitFailure, path: path, Self.notRepository(path), underlying: e)
        }
        self.path = path
    }

    /// The sentence (after the name) for a path that does not open as a repository.
    static func notRepository(_ path: [UInt8]) -> String {
        if (try? FileSystem.stat(path)) == nil { return "no such file or directory (not a git repository)" }
        return "not a git repository"
    }

    /// Creates a new bare repository at `path`.
    public convenience init(initBare path: String) throws {
        try self.init(initBare: Array(path.utf8))
    }

    /// `init(initBare:)` for a path held as bytes.
    public init(initBare path: [UInt8]) throws {
        ensureLibgit2()
        handle = try GitHandle(owner: nil, "git_repository_init", PathBytes.display(path)) { out in
            withCPath(path) { git_repository_init(&out, $0, 1) }
        }
        self.path = path
    }

    /// Takes ownership of an open `git_repository *` (see ScratchObjects.swift).
    init(owning p: OpaquePointer, path: String) {
        handle = GitHandle(owning: p, owner: nil)
        self.path = Array(path.utf8)
    }

    /// Resolves a revision (`HEAD`, a branch, a sha) to a commit id.
    public func resolveCommit(_ rev: String) throws -> ObjectID {
        var obj: OpaquePointer?
        try check(git_revparse_single(&obj, pointer, rev), "git_revparse_single", "\(shown): revision '\(rev)'")
        defer { git_object_free(obj) }
        var commit: OpaquePointer?
        try check(git_object_peel(&commit, obj, GIT_OBJECT_COMMIT), "git_object_peel",
                  "\(shown): revision '\(rev)' is not a commit")
        defer { git_object_free(commit) }
        guard let id = git_object_id(commit) else {
            throw DriftError(.gitFailure, path: path, "revision '\(rev)' has no id")
        }
        return ObjectID(id.pointee)
    }

    /// The object database (it keeps this repository alive).
    public func odb() throws -> GitODB {
        GitODB(handle: try GitHandle(owner: self, "git_repository_odb", shown) { git_repository_odb(&$0, pointer) },
               owner: self)
    }
}

/// A repository's object database.
public final class GitODB {
    let handle: GitHandle<ODBKind>
    public let owner: GitRepository

    init(handle: GitHandle<ODBKind>, owner: GitRepository) {
        self.handle = handle
        self.owner = owner
    }

    /// Whether the object exists.
    public func contains(_ id: ObjectID) -> Bool {
        var o = id.oid
        return git_odb_exists(handle.pointer, &o) == 1
    }
}

/// Git object types drift handles.
public enum GitObjectType: Sendable {
    case commit, tree, blob, tag

    var c: git_object_t {
        switch self {
        case .commit: return GIT_OBJECT_COMMIT
        case .tree: return GIT_OBJECT_TREE
        case .blob: return GIT_OBJECT_BLOB
        case .tag: return GIT_OBJECT_TAG
        }
    }

    init?(_ t: git_object_t) {
        switch t {
        case GIT_OBJECT_COMMIT: self = .commit
        case GIT_OBJECT_TREE: self = .tree
        case GIT_OBJECT_BLOB: self = .blob
        case GIT_OBJECT_TAG: self = .tag
        default: return nil
        }
    }
}

extension GitODB {
    /// Reads an object's type and raw content.
    public func read(_ id: ObjectID) throws -> (GitObjectType, [UInt8]) {
        var o = id.oid
        var obj: OpaquePointer?
        try check(git_odb_read(&obj, handle.pointer, &o), "git_odb_read", "\(owner.shown): object \(id.hex)")
        defer { git_odb_object_free(obj) }
        guard let t = GitObjectType(git_odb_object_type(obj)) else {
            throw DriftError(.gitFailure, path: owner.path, "object \(id.hex) has an unknown type")
        }
        let n = git_odb_object_size(obj)
        guard let data = git_odb_object_data(obj) else { return (t, []) }
        return (t, Array(UnsafeRawBufferPointer(start: data, count: n)))
    }

    /// Writes an object and returns its id.
    @discardableResult
    public func write(_ type: GitObjectType, _ bytes: [UInt8]) throws -> ObjectID {
        var out = git_oid()
        let rc = bytes.withUnsafeBytes { buf in
            git_odb_write(&out, handle.pointer, buf.baseAddress, buf.count, type.c)
        }
        try check(rc, "git_odb_write", owner.shown)
        return ObjectID(out)
    }
}

extension GitRepository {
    /// Creates or moves a direct reference.
    public func setReference(_ name: String, to id: ObjectID) throws {
        var o = id.oid
        var ref: OpaquePointer?
        let rc = git_reference_create(&ref, pointer, name, &o, 1, "drift")
        try check(rc, "git_reference_create", "\(shown): \(name)")
        git_reference_free(ref)
    }

    /// Points HEAD at a branch reference.
    public func setHead(_ name: String) throws {
        try check(git_repository_set_head(pointer, name), "git_repository_set_head", shown)
    }

    /// The id a reference points at.
    /// - Parameter name: the full reference name (`refs/heads/main`).
    /// - Returns: the id, or nil when the reference does not exist (`GIT_ENOTFOUND`).
    /// - Throws: `GitError` for anything else: a corrupt or unreadable ref store, a bad name.
    public func reference(_ name: String) throws -> ObjectID? {
        var o = git_oid()
        let rc = git_reference_name_to_id(&o, pointer, name)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "git_reference_name_to_id", "\(shown): \(name)")
        return ObjectID(o)
    }
}

extension GitODB {
    /// An object's type and size, without reading its content.
    /// - Parameter id: the object.
    /// - Returns: its type (nil for a type drift does not know) and size in bytes.
    /// - Throws: `GitError` when the object is missing or unreadable.
    public func header(_ id: ObjectID) throws -> (GitObjectType?, Int) {
        var o = id.oid
        var size = 0
        var type = GIT_OBJECT_INVALID
        try check(git_odb_read_header(&size, &type, handle.pointer, &o), "git_odb_read_header",
                  "\(owner.shown): object \(id.hex)")
        return (GitObjectType(type), size)
    }
}

extension GitRepository {
    /// Deletes reference `name` only while it still points at `expected` (a compare and
    /// delete: a ref moved since it was judged is left alone).
    /// - Returns: false when the ref is gone or points elsewhere.
    /// - Throws: `GitError` when the ref store cannot be read or written.
    public func deleteReference(_ name: String, ifAt expected: ObjectID) throws -> Bool {
        var ref: OpaquePointer?
        let rc = git_reference_lookup(&ref, pointer, name)
        if rc == GIT_ENOTFOUND.rawValue { return false }
        try check(rc, "git_reference_lookup", "\(shown): \(name)")
        defer { git_reference_free(ref) }
        guard let target = git_reference_target(ref), ObjectID(target.pointee) == expected else { return false }
        // libgit2 refuses when the ref changed after the lookup above.
        let del = git_reference_delete(ref)
        if del == GIT_EMODIFIED.rawValue { return false }
        try check(del, "git_reference_delete", "\(shown): \(name)")
        return true
    }

    /// A commit's committer time.
    public func commitTime(_ id: ObjectID) throws -> Date {
        Date(timeIntervalSince1970: TimeInterval(git_commit_time(try lookupCommit(id).pointer)))
    }
}
