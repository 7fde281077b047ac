import CLibGit2
import DriftSystem

extension GitRepository {
    /// Replaces this repository's object database with one that lives only in memory (a
    /// mempack, no disk backend): objects written from now on stay in memory, and a lookup of
    /// an object it lacks costs a hash lookup, never a system call. For a scratch repository
    /// that pushes a few objects: libgit2's push looks up every remote tip locally.
    public func useMemoryObjectsOnly() throws {
        var db: OpaquePointer?
        try check(git_odb_new(&db), "git_odb_new", shown)
        defer { git_odb_free(db) }
        var backend: UnsafeMutablePointer<git_odb_backend>?
        try check(git_mempack_new(&backend), "git_mempack_new", shown)
        // The odb owns the backend once added.
        try check(git_odb_add_backend(db, backend, 1), "git_odb_add_backend", shown)
        try check(git_repository_set_odb(pointer, db), "git_repository_set_odb", shown)
    }
}

extension GitRepository {
    /// Pushes `objects` and `ref` → `target` into the repository at `path` directly (what a
    /// push over `file://` amounts to: libgit2 runs no hooks on either side). libgit2's local
    /// transport looks every one of the remote's refs up one by one (~8 system calls each);
    /// here only `ref` is. Returns false when the remote already has `ref`.
    public func pushDirectly(to path: String, objects: [ObjectID], ref: String, target: ObjectID) throws -> Bool {
        try pushDirectly(to: Array(path.utf8), objects: objects, ref: ref, target: target)
    }

    /// `pushDirectly(to:…)` for a repository named by bytes (a name that is not UTF-8 too).
    public func pushDirectly(to path: [UInt8], objects: [ObjectID], ref: String, target: ObjectID) throws -> Bool {
        let remote = try GitRepository(path: path)
        if try remote.reference(ref) != nil { return false }
        let from = try odb(), to = try remote.odb()
        for id in objects {
            let (type, bytes) = try from.read(id)
            try to.write(type, bytes)
        }
        var o = target.oid
        var created: OpaquePointer?
        let rc = git_reference_create(&created, remote.pointer, ref, &o, 0, "drift push")
        git_reference_free(created)
        // Created meanwhile by another push: the remote has it, as if it had been there.
        if rc == GIT_EEXISTS.rawValue { return false }
        try check(rc, "git_reference_create", "\(PathBytes.display(path)): \(ref)")
        return true
    }
}

extension GitRepository {
    /// Replaces this repository's object database with its own objects only — its loose
    /// objects and packs, without `objects/info/alternates`: for a journal whose borrowed base
    /// is no longer its own (a state dir of an earlier image), where an object the journal did
    /// not write must read as absent, not as the current image's. Reads only.
    public func useOwnObjectsOnly() throws {
        let objects = path.appending(text: "/objects")
        var db: OpaquePointer?
        try check(git_odb_new(&db), "git_odb_new", shown)
        defer { git_odb_free(db) }
        var loose: UnsafeMutablePointer<git_odb_backend>?
        try check(withCPath(objects) { git_odb_backend_loose(&loose, $0, -1, 0, 0, 0) }, "git_odb_backend_loose",
                  shown)
        // The odb owns a backend once added.
        try check(git_odb_add_backend(db, loose, 1), "git_odb_add_backend", shown)
        var packs: UnsafeMutablePointer<git_odb_backend>?
        try check(withCPath(objects) { git_odb_backend_pack(&packs, $0) }, "git_odb_backend_pack", shown)
        try check(git_odb_add_backend(db, packs, 2), "git_odb_add_backend", shown)
        try check(git_repository_set_odb(pointer, db), "git_repository_set_odb", shown)
    }
}
