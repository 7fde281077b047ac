import CLibGit2
import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// The new blobs of one journal snapshot, written together: a few as loose objects, many as
/// one pack. A burst of thousands of new files then costs two file creations in the journal
/// instead of one per file (on a busy ext4, each create was ~5 ms of kernel time).
public struct SnapshotBlobs {
    /// From this many new blobs on, they go into one pack.
    static let packAtLeast = 64
    /// Held bytes are written out once they pass this (memory stays bounded on huge drift).
    static let holdBytes = 8 << 20

    let repo: GitRepository
    /// The journal's object database.
    public let odb: GitODB
    private var pending: [(ObjectID, [UInt8])] = []
    private var pendingBytes = 0
    private var known = Set<ObjectID>()

    /// - Parameter repo: the journal repository the blobs go into.
    public init(repo: GitRepository) throws {
        self.repo = repo
        odb = try repo.odb()
    }

    /// The blob id of `bytes`; the blob is written by `flush` unless the journal has it.
    public mutating func add(_ bytes: [UInt8]) throws -> ObjectID {
        let id = try odb.hash(.blob, bytes)
        if known.insert(id).inserted && !odb.containsWithoutRefresh(id) {
            pending.append((id, bytes))
            pendingBytes += bytes.count
            if pendingBytes >= Self.holdBytes { try flush() }
        }
        return id
    }

    /// Writes what is held (loose when few, else one pack) and makes it visible to the odb.
    public mutating func flush() throws {
        defer {
            pending.removeAll()
            pendingBytes = 0
        }
        if pending.count < Self.packAtLeast {
            for (_, b) in pending { try odb.write(.blob, b) }
            return
        }
        let writer = try PackWriter(directory: repo.path + Array("/objects/pack".utf8), count: pending.count)
        for (id, b) in pending {
            try b.withUnsafeBytes { try writer.addWhole(id.raw, type: .blob, $0) }
        }
        try writer.finish()
        try odb.refresh()
    }
}

extension GitODB {
    /// The id an object with this content has (nothing is written).
    public func hash(_ type: GitObjectType, _ bytes: [UInt8]) throws -> ObjectID {
        var out = git_oid()
        let rc = bytes.withUnsafeBytes { git_odb_hash(&out, $0.baseAddress, $0.count, type.c) }
        try check(rc, "git_odb_hash", owner.shown)
        return ObjectID(out)
    }

    /// Whether the object exists, without re-reading the pack directory on a miss (a new
    /// blob is the usual case here; libgit2 would rescan `objects/pack` for each one).
    public func containsWithoutRefresh(_ id: ObjectID) -> Bool {
        var o = id.oid
        return git_odb_exists_ext(handle.pointer, &o, UInt32(GIT_ODB_LOOKUP_NO_REFRESH.rawValue)) == 1
    }

    /// Re-reads the pack directory (a pack written beside libgit2 becomes visible).
    public func refresh() throws {
        try check(git_odb_refresh(handle.pointer), "git_odb_refresh", owner.shown)
    }
}

