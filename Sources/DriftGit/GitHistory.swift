import CLibGit2
import DriftSystem

extension GitRepository {
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
