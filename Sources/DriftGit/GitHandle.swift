import CLibGit2

/// What kind of libgit2 object a `GitHandle` owns: its C pointer type and how it is freed.
protocol GitHandleKind {
    associatedtype Pointer
    static func free(_ pointer: Pointer)
}

/// An owned libgit2 object: the one pattern behind every handle drift keeps (non-optional
/// pointer, throwing init, free in `deinit`). `owner` keeps what the object borrows from
/// (its repository) alive for as long as the object is.
final class GitHandle<Kind: GitHandleKind> {
    let pointer: Kind.Pointer
    private let owner: AnyObject?

    /// Calls the libgit2 constructor `make` and takes what it returns.
    /// - Parameters:
    ///   - owner: what must outlive the object (its repository), if anything.
    ///   - function: the C function, for the error.
    ///   - context: what it was called on, for the error.
    ///   - make: fills its argument and returns libgit2's code.
    /// - Throws: `GitError` when `make` fails or returns no object.
    init(owner: AnyObject?, _ function: String, _ context: String, _ make: (inout Kind.Pointer?) -> Int32) throws {
        var p: Kind.Pointer?
        try check(make(&p), function, context)
        guard let p else {
            throw GitError(code: GIT_ERROR.rawValue, klass: 0, message: "returned nothing", function: function,
                           context: context)
        }
        pointer = p
        self.owner = owner
    }

    /// Takes ownership of an object another call made.
    init(owning pointer: Kind.Pointer, owner: AnyObject?) {
        self.pointer = pointer
        self.owner = owner
    }

    deinit { Kind.free(pointer) }
}

enum RepositoryKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_repository_free(pointer) }
}

enum ODBKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_odb_free(pointer) }
}

enum TreeKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_tree_free(pointer) }
}

enum TreeEntryKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_tree_entry_free(pointer) }
}

enum CommitKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_commit_free(pointer) }
}

enum SignatureKind: GitHandleKind {
    static func free(_ pointer: UnsafeMutablePointer<git_signature>) { git_signature_free(pointer) }
}

enum DiffKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_diff_free(pointer) }
}

enum RevwalkKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_revwalk_free(pointer) }
}

enum TreeBuilderKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_treebuilder_free(pointer) }
}

enum PackBuilderKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_packbuilder_free(pointer) }
}

/// An owned `git_tree *`.
typealias GitTree = GitHandle<TreeKind>
/// An owned `git_tree_entry *` (from `git_tree_entry_bypath`).
typealias GitTreeEntryHandle = GitHandle<TreeEntryKind>
/// An owned `git_commit *`.
typealias GitCommit = GitHandle<CommitKind>
/// An owned `git_signature *`.
typealias GitSignature = GitHandle<SignatureKind>
/// An owned `git_diff *`.
typealias GitDiff = GitHandle<DiffKind>
/// An owned `git_revwalk *`.
typealias GitRevwalk = GitHandle<RevwalkKind>
/// An owned `git_treebuilder *`.
typealias GitTreeBuilder = GitHandle<TreeBuilderKind>
/// An owned `git_packbuilder *`.
typealias GitPackBuilder = GitHandle<PackBuilderKind>
