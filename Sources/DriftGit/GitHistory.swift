import CLibGit2
import DriftSystem

extension GitRepository {
    /// Indexes a pack (e.g. the one inside a bundle) into this repository's object store.
    public func indexPack(_ pack: ArraySlice<UInt8>) throws {
        var opts = git_indexer_options()
        try check(git_indexer_options_init(&opts, UInt32(GIT_INDEXER_OPTIONS_VERSION)), "git_indexer_options_init")
        opts.verify = 1
        var idx: OpaquePointer?
        // The odb lets the connectivity check find objects the pack's base already has.
        let db = try odb()
        try check(git_indexer_new(&idx, path + "/objects/pack", 0, db.handle.pointer, &opts), "git_indexer_new", path)
        defer { git_indexer_free(idx) }
        var stats = git_indexer_progress()
        let rc = pack.withUnsafeBytes { git_indexer_append(idx, $0.baseAddress, $0.count, &stats) }
        try check(rc, "git_indexer_append", "pack")
        try check(git_indexer_commit(idx, &stats), "git_indexer_commit", "pack")
    }

    /// Whether `ancestor` is `commit` or one of its ancestors.
    public func isAncestor(_ ancestor: ObjectID, of commit: ObjectID) throws -> Bool {
        if ancestor == commit { return true }
        var c = commit.oid, a = ancestor.oid
        let rc = git_graph_descendant_of(pointer, &c, &a)
        try check(rc, "git_graph_descendant_of", path)
        return rc == 1
    }

    /// Every commit message reachable from `tip`.
    public func messages(from tip: ObjectID) throws -> [String] {
        let walk = try GitRevwalk(owner: self, "git_revwalk_new", path) { git_revwalk_new(&$0, pointer) }
        var t = tip.oid
        try check(git_revwalk_push(walk.pointer, &t), "git_revwalk_push", path)
        var out: [String] = []
        var id = git_oid()
        while git_revwalk_next(&id, walk.pointer) == 0 {
            out.append(try lookupCommit(ObjectID(id)).message)
        }
        return out
    }

    /// Every commit reachable from `tip`, with its message (one walk).
    public func commitsAndMessages(from tip: ObjectID) throws -> [(ObjectID, String)] {
        let walk = try GitRevwalk(owner: self, "git_revwalk_new", path) { git_revwalk_new(&$0, pointer) }
        var t = tip.oid
        try check(git_revwalk_push(walk.pointer, &t), "git_revwalk_push", path)
        var out: [(ObjectID, String)] = []
        var id = git_oid()
        while git_revwalk_next(&id, walk.pointer) == 0 {
            let c = ObjectID(id)
            out.append((c, try lookupCommit(c).message))
        }
        return out
    }

    /// The directory holding this repository's objects (`.git/objects` or `objects`).
    var objectsDirectory: String {
        guard let p = git_repository_path(pointer) else { return path + "/objects" }
        return String(cString: p) + "objects"
    }
}
