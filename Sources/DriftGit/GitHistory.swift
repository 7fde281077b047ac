import CLibGit2
import DriftSystem

extension GitRepository {
    /// Whether `ancestor` is `commit` or one of its ancestors.
    public func isAncestor(_ ancestor: ObjectID, of commit: ObjectID) throws -> Bool {
        if ancestor == commit { return true }
        try ignoreCommitGraph()
        var c = commit.oid, a = ancestor.oid
        let rc = git_graph_descendant_of(pointer, &c, &a)
        try check(rc, "git_graph_descendant_of", shown)
        return rc == 1
    }

    /// A common ancestor of every one of `commits` (`git merge-base --octopus`), nil when
    /// they share none. Everything it reaches is an ancestor of each of them.
    public func commonAncestor(of commits: [ObjectID]) throws -> ObjectID? {
        guard let first = commits.first else { return nil }
        if commits.count == 1 { return first }
        try ignoreCommitGraph()
        var oids = commits.map(\.oid)
        var out = git_oid()
        let rc = git_merge_base_octopus(&out, pointer, oids.count, &oids)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "git_merge_base_octopus", shown)
        return ObjectID(out)
    }

    /// Streams the commits reachable from `tip` and from none of `hidden` (`git rev-list
    /// TIP ^H…`), each with its message, to `body`; nothing is kept between two calls, so
    /// memory does not grow with history. libgit2's revwalk stops once every commit left in
    /// its queue is reachable from a hidden one, as git's does.
    public func walkCommits(from tip: ObjectID, hiding hidden: [ObjectID],
                            _ body: (ObjectID, String) throws -> Void) throws {
        try ignoreCommitGraph()
        let walk = try GitRevwalk(owner: self, "git_revwalk_new", shown) { git_revwalk_new(&$0, pointer) }
        var t = tip.oid
        try check(git_revwalk_push(walk.pointer, &t), "git_revwalk_push", shown)
        for h in hidden {
            var o = h.oid
            try check(git_revwalk_hide(walk.pointer, &o), "git_revwalk_hide", "\(shown): commit \(h.hex)")
        }
        var id = git_oid()
        while true {
            let rc = git_revwalk_next(&id, walk.pointer)
            if rc == GIT_ITEROVER.rawValue { break }
            try check(rc, "git_revwalk_next", shown)
            let c = ObjectID(id)
            try body(c, try lookupCommit(c).message)
        }
    }

    /// Keeps libgit2 from reading `objects/info/commit-graph` (git gc and git maintenance write
    /// one). libgit2 1.5 hashes the whole file before its first walk (SHA-1 of 60 MB for a
    /// million commits: O(history) on every run), then rejects the graphs current git writes
    /// (their generation-data chunk, GDA2, is unknown to it); one it does accept is trusted
    /// without reading the commits (a damaged one changes ancestry). Nothing is lost: the gate's
    /// walk reads every commit since the bases anyway, for its message.
    func ignoreCommitGraph() throws {
        let db = try odb()
        try check(git_odb_set_commit_graph(db.handle.pointer, nil), "git_odb_set_commit_graph", shown)
    }

    /// The directory holding this repository's objects (`.git/objects` or `objects`).
    var objectsDirectory: [UInt8] {
        guard let p = git_repository_path(pointer) else { return path + Array("/objects".utf8) }
        return cBytes(p) + Array("objects".utf8)
    }
}
