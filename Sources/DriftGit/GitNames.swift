import CLibGit2
import DriftSystem
import Synchronization

/// Whether git can store a path in a tree, as libgit2 itself decides: the verdict is
/// `git_treebuilder_insert`'s (the call `git_tree_create_updated` makes for every entry), on a
/// repository in memory configured with `core.protectNTFS` and `core.protectHFS`, so every
/// `.git` spelling git refuses on any platform (case, `GIT~1`, `.git.`, `.git `, HFS ignorable
/// code points, a `.gitmodules` symlink, …) is refused here, and nothing is re-listed in drift.
///
/// One checker serves the process behind a lock: libgit2 objects are not shared across threads.
public enum GitNames {
    /// Whether every component of `path` (relative, `/`-separated) can be a tree entry, the last
    /// one with `mode` and the others as directories. A path git cannot store fails one
    /// `git_tree_create_updated` for the whole update, so such a path is withheld by name.
    /// - Parameters:
    ///   - path: the path bytes relative to the tree's root.
    ///   - mode: the last component's mode.
    /// - Returns: false when libgit2 refuses any component (or the checker cannot be made).
    public static func isStorable(_ path: [UInt8], mode: GitFileMode = .blob) -> Bool {
        let parts = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if parts.isEmpty { return false }
        return checker.withLock { c in
            guard let c else { return false }
            for (i, part) in parts.enumerated() {
                let last = i == parts.count - 1
                if !c.accepts(Array(part), mode: last ? mode : .tree) { return false }
            }
            return true
        }
    }

    /// Whether libgit2 accepts `name` as one entry of a tree (a directory's own name).
    /// - Parameters:
    ///   - name: one path component.
    ///   - mode: the entry's mode.
    /// - Returns: false when libgit2 refuses it.
    public static func isStorableName(_ name: [UInt8], mode: GitFileMode = .tree) -> Bool {
        checker.withLock { c in c?.accepts(name, mode: mode) ?? false }
    }

    /// THE safe-path rule for every path drift reads from git content someone else wrote (a
    /// ledger entry's tree, the names in its patch): relative, and every component a name
    /// libgit2 would store in a tree (`isStorable`: not empty, `.`, `..`, no NUL, no spelling of
    /// `.git` on any platform). One rule, so a tree and its patch are never judged apart.
    /// - Parameters:
    ///   - path: the path bytes, `/`-separated (an absolute path has an empty first component).
    ///   - mode: the last component's mode.
    /// - Returns: whether the path is safe to hand to `git am`/`git apply` or a checkout.
    public static func isSafePath(_ path: [UInt8], mode: GitFileMode = .blob) -> Bool {
        isStorable(path, mode: mode)
    }

    // `try?`: a checker that cannot be made answers "not storable" to every question (safe).
    private static let checker = Mutex<NameChecker?>(try? NameChecker())
}

/// The in-memory repository, its empty blob and tree, and one tree builder that is cleared
/// after each question. Used only under `GitNames.checker`'s lock.
/// Not Sendable: `Mutex` takes it as a `sending` value and hands it out only inside `withLock`.
private final class NameChecker {
    let repo: OpaquePointer
    let builder: OpaquePointer
    var blob = git_oid()
    var tree = git_oid()

    init() throws {
        ensureLibgit2()
        var odb: OpaquePointer?
        try check(git_odb_new(&odb), "git_odb_new", "name check")
        defer { git_odb_free(odb) }
        var mem: UnsafeMutablePointer<git_odb_backend>?
        try check(git_mempack_new(&mem), "git_mempack_new", "name check")
        guard let mem else { throw DriftError(.gitFailure, "name check: git_mempack_new returned no backend") }
        if git_odb_add_backend(odb, mem, 1) < 0 {
            mem.pointee.free?(mem)
            try check(-1, "git_odb_add_backend", "name check")
        }
        var r: OpaquePointer?
        try check(git_repository_wrap_odb(&r, odb), "git_repository_wrap_odb", "name check")
        guard let r else { throw DriftError(.gitFailure, "name check: git_repository_wrap_odb returned no repository") }
        var config: OpaquePointer?
        let rc = drift_protect_config(&config)
        if rc < 0 {
            git_repository_free(r)
            try check(rc, "git_config_add_backend", "name check")
        }
        defer { git_config_free(config) }
        if git_repository_set_config(r, config) < 0 {
            git_repository_free(r)
            try check(-1, "git_repository_set_config", "name check")
        }
        var b: OpaquePointer?
        var e = git_blob_create_from_buffer(&blob, r, nil, 0)
        if e >= 0 { e = git_treebuilder_new(&b, r, nil) }
        if e >= 0, let b { e = git_treebuilder_write(&tree, b) }
        guard e >= 0, let b else {
            git_repository_free(r)
            try check(e < 0 ? e : -1, "git_treebuilder_new", "name check")
            throw DriftError(.gitFailure, "name check: no tree builder")
        }
        repo = r
        builder = b
    }

    deinit {
        git_treebuilder_free(builder)
        git_repository_free(repo)
    }

    func accepts(_ name: [UInt8], mode: GitFileMode) -> Bool {
        // A NUL would end the C string early and let libgit2 judge another name.
        if name.contains(0) { return false }
        var id = mode == .tree ? tree : blob
        // A gitlink's commit need not exist; a blob or tree must (strict object creation).
        let rc = withCPath(name) { git_treebuilder_insert(nil, builder, $0, &id, mode.c) }
        git_treebuilder_clear(builder)
        return rc >= 0
    }
}
