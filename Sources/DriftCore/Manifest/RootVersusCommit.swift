import DriftGit
import DriftSystem

/// `manifest create` bakes the root as it is, and names `--commit` as its base: scans compare
/// with the root's hashes, while `drift diff` and `export` diff against the commit. A root that
/// already differs from the commit (an uncommitted edit, a stale checkout, another `--commit`)
/// makes a later patch carry or miss those differences, so the bake says how many tracked
/// paths differ (docs/manifest-format.md).
enum RootVersusCommit {
    /// The commit's files (not ignored by the policy) whose content or mode differs in the
    /// root, or that the root lacks. Files only in the root are not counted: an image holds
    /// build output git never tracks (`__pycache__`, generated files). Blobs are read only
    /// where the size matches.
    /// Entries are looked up in the flat table by binary search (no map of every path).
    static func differing(_ entries: ManifestTable, repo: GitRepository, commit: ObjectID,
                          classifier: Classifier) throws -> Int {
        var count = 0
        let odb = try repo.odb()
        try repo.walkTree(try repo.treeOf(commit: commit)) { t in
            switch t.mode {
            case .tree:
                return classifier.classify(t.path, isDirectory: true) == .ignore ? .skip : .descend
            case .commit:
                return .skip
            case .blob, .executable, .symlink:
                if let i = entries.index(of: t.path) {
                    if try !same(entries[i], t, odb) { count += 1 }
                } else if classifier.classify(t.path) != .ignore {
                    count += 1
                }
                return .skip
            }
        }
        return count
    }

    private static func same(_ e: ManifestEntry, _ t: GitTreeEntry, _ odb: GitODB) throws -> Bool {
        let isLink = t.mode == .symlink
        guard (e.kind == .symlink) == isLink, isLink || e.executable == (t.mode == .executable) else { return false }
        guard Int64(try odb.header(t.id).1) == e.size else { return false }
        return try SHA256Hasher.digest(try odb.read(t.id).1) == e.digest
    }
}
