import CLibGit2
import DriftSystem

/// A repository's objects seen read-only from in-memory stores stacked on it
/// (`MemoryObjectStore`). It remembers which ids it holds: the store does not change while
/// it is used, and a caller that checks the same upstream objects for thousands of
/// in-memory stores then asks the object database once per id.
public final class LowerObjects {
    public let repository: GitRepository
    private var database: GitODB?
    private var present = Set<ObjectID>()

    public init(_ repository: GitRepository) {
        self.repository = repository
    }

    var odb: GitODB {
        get throws {
            if let database { return database }
            let d = try repository.odb()
            database = d
            return d
        }
    }

    /// Whether the store holds `id`. A miss does not rescan the pack directory (libgit2
    /// would on every miss): the store is not written to while it is read here.
    public func contains(_ id: ObjectID) -> Bool {
        if present.contains(id) { return true }
        guard let db = try? odb else { return false }
        var o = id.oid
        guard git_odb_exists_ext(db.handle.pointer, &o, UInt32(GIT_ODB_LOOKUP_NO_REFRESH.rawValue)) == 1 else {
            return false
        }
        present.insert(id)
        return true
    }

    /// An object's type and content, nil when the store does not hold it.
    func read(_ id: ObjectID) throws -> (GitObjectType, [UInt8])? {
        guard contains(id) else { return nil }
        return try odb.read(id)
    }
}

/// A repository that lives only in memory: objects written to it stay in a mempack that
/// is freed with it; reads that miss fall through to `lower`, which is never written.
/// Nothing touches the file system, so a caller can afford one per untrusted input and
/// keep each input's objects invisible to every other (no shared store, no shared cache).
public final class MemoryObjectStore {
    public let repository: GitRepository
    public let lower: LowerObjects
    /// The mempack, owned by the repository's odb (valid while `repository` lives).
    let mempack: UnsafeMutablePointer<git_odb_backend>

    public init(over lower: LowerObjects, name: String) throws {
        ensureLibgit2()
        self.lower = lower
        var odb: OpaquePointer?
        try check(git_odb_new(&odb), "git_odb_new", name)
        defer { git_odb_free(odb) }
        var mem: UnsafeMutablePointer<git_odb_backend>?
        try check(git_mempack_new(&mem), "git_mempack_new", name)
        guard let mem else { throw DriftError(.gitFailure, "\(name): git_mempack_new returned no backend") }
        // Once added, the odb owns a backend and frees it with itself.
        if git_odb_add_backend(odb, mem, 2) < 0 {
            mem.pointee.free?(mem)
            try check(-1, "git_odb_add_backend", name)
        }
        let proxy = try makeReadThroughBackend(lower.repository)
        if git_odb_add_backend(odb, proxy, 1) < 0 {
            proxy.pointee.free?(proxy)
            try check(-1, "git_odb_add_backend", name)
        }
        var repo: OpaquePointer?
        try check(git_repository_wrap_odb(&repo, odb), "git_repository_wrap_odb", name)
        guard let repo else { throw DriftError(.gitFailure, "\(name): git_repository_wrap_odb returned no repository") }
        do {
            try giveEmptyConfig(repo, name)
        } catch {
            git_repository_free(repo)
            throw error
        }
        repository = GitRepository(owning: repo, path: name)
        mempack = mem
    }

    /// Stores an object in memory (no existence check against `lower`: this store's own
    /// objects are exactly what was put here) and returns its id.
    @discardableResult
    func put(_ type: GitObjectType, _ bytes: [UInt8]) throws -> ObjectID {
        guard let write = mempack.pointee.write else {
            throw DriftError(.gitFailure, path: repository.path, "mempack cannot write")
        }
        var oid = git_oid()
        // An empty object still gets a valid pointer (one byte of padding, zero length).
        let rc: Int32 = (bytes.isEmpty ? [0] : bytes).withUnsafeBytes { b in
            let rc = git_odb_hash(&oid, b.baseAddress, bytes.count, type.c)
            return rc < 0 ? rc : write(mempack, &oid, b.baseAddress, bytes.count, type.c)
        }
        try check(rc, "storing an object in memory", repository.shown)
        return ObjectID(oid)
    }

}

/// The layout of a read-through backend: libgit2's struct first (libgit2 hands the
/// callbacks that pointer), then the lower odb, which the backend holds a reference on.
private let readThroughTargetOffset = MemoryLayout<git_odb_backend>.stride

private func readThroughTarget(_ b: UnsafeMutablePointer<git_odb_backend>) -> OpaquePointer? {
    UnsafeMutableRawPointer(b).load(fromByteOffset: readThroughTargetOffset, as: OpaquePointer?.self)
}

/// Whether the lower odb holds the object, without a pack-directory rescan on a miss.
private func readThroughHas(_ b: UnsafeMutablePointer<git_odb_backend>, _ oid: UnsafePointer<git_oid>) -> Bool {
    git_odb_exists_ext(readThroughTarget(b), oid, UInt32(GIT_ODB_LOOKUP_NO_REFRESH.rawValue)) == 1
}

/// A read-only backend that answers from another object database (`lower`), so an odb
/// that lives in memory can see a repository's objects without opening its directory.
private func makeReadThroughBackend(_ lower: GitRepository) throws -> UnsafeMutablePointer<git_odb_backend> {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: readThroughTargetOffset + MemoryLayout<OpaquePointer>.size,
                                               alignment: MemoryLayout<git_odb_backend>.alignment)
    let b = raw.bindMemory(to: git_odb_backend.self, capacity: 1)
    b.initialize(to: git_odb_backend())
    guard git_odb_init_backend(b, UInt32(GIT_ODB_BACKEND_VERSION)) == 0 else {
        raw.deallocate()
        throw DriftError(.gitFailure, path: lower.path, "git_odb_init_backend failed")
    }
    // Its own reference on the lower odb, dropped in `free`.
    var target: OpaquePointer?
    guard git_repository_odb(&target, lower.pointer) == 0, let target else {
        raw.deallocate()
        try check(-1, "git_repository_odb", lower.shown)
        throw DriftError(.gitFailure, path: lower.path, "no object database")
    }
    raw.storeBytes(of: target, toByteOffset: readThroughTargetOffset, as: OpaquePointer.self)
    b.pointee.read = { data, len, type, backend, oid in
        guard let data, let len, let type, let backend, let oid else { return GIT_ERROR.rawValue }
        guard readThroughHas(backend, oid) else { return GIT_ENOTFOUND.rawValue }
        var obj: OpaquePointer?
        let rc = git_odb_read(&obj, readThroughTarget(backend), oid)
        guard rc == 0, let obj else { return rc < 0 ? rc : GIT_ERROR.rawValue }
        defer { git_odb_object_free(obj) }
        let n = git_odb_object_size(obj)
        // libgit2 frees what a backend returns: it must come from its allocator.
        guard let buf = git_odb_backend_data_alloc(backend, max(n, 1)) else { return GIT_ERROR.rawValue }
        if n > 0, let src = git_odb_object_data(obj) { buf.copyMemory(from: src, byteCount: n) }
        data.pointee = buf
        len.pointee = n
        type.pointee = git_odb_object_type(obj)
        return 0
    }
    b.pointee.read_header = { len, type, backend, oid in
        guard let len, let type, let backend, let oid else { return GIT_ERROR.rawValue }
        guard readThroughHas(backend, oid) else { return GIT_ENOTFOUND.rawValue }
        return git_odb_read_header(len, type, readThroughTarget(backend), oid)
    }
    b.pointee.exists = { backend, oid in
        guard let backend, let oid else { return 0 }
        return readThroughHas(backend, oid) ? 1 : 0
    }
    b.pointee.free = { backend in
        guard let backend else { return }
        git_odb_free(readThroughTarget(backend))
        UnsafeMutableRawPointer(backend).deallocate()
    }
    return b
}

/// Gives a repository made around an odb an empty in-memory config: a tree diff would
/// otherwise load the global and system git config files again for every such repository
/// (the gate makes one per ledger entry).
func giveEmptyConfig(_ repo: OpaquePointer, _ context: String) throws {
    var config: OpaquePointer?
    try check(git_config_new(&config), "git_config_new", context)
    defer { git_config_free(config) }
    try check(git_repository_set_config(repo, config), "git_repository_set_config", context)
}
