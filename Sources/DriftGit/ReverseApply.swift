import CLibGit2
import DriftSystem

extension GitRepository {
    /// Whether the change `old` → `new` (two trees) is contained in `target`: its reverse
    /// (`new` → `old`, renames found as `git diff -M`) applies cleanly to `target` with
    /// libgit2's `git_apply_to_tree` — what `git apply --reverse --check` asks, and what
    /// `git am` reports as "already applied". The result is computed in memory; nothing is
    /// written. A failed application (a hunk not found, a file left non-empty by a removal,
    /// a missing object) is `false`, never an error: it only means "not shown contained".
    public func reverseApplies(old: ObjectID, new: ObjectID, onto target: ObjectID) throws -> Bool {
        let preimage = try lookupTree(target)
        return try withTreeDiff(new, old) { diff in
            var index: OpaquePointer?
            let rc = git_apply_to_tree(&index, pointer, preimage.pointer, diff, nil)
            git_index_free(index)
            return rc == 0
        }
    }
}
