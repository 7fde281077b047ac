import CLibGit2
import DriftSystem

/// Looks many paths up in one tree, loading each directory once: the answers of
/// `git_tree_entry_bypath`, without re-reading and re-parsing a large directory for every
/// path in it (libgit2 does not cache trees over 4 KiB, so a 5,000-entry directory
/// looked up 5,000 times costs 5,000 parses).
public final class TreeLookup {
    private let repo: GitRepository
    /// Directory path → its parsed tree, or nil when the path is not a directory there.
    private var directories: [ByteKey: GitTree?] = [:]

    public init(_ repo: GitRepository, tree: ObjectID) throws {
        self.repo = repo
        directories[ByteKey([])] = try repo.lookupTree(tree)
    }

    /// The (mode, id) of the entry at `path` (`a/b/c`), nil when absent; modes are
    /// libgit2's normalised ones, as `GitRepository.entry(at:inTree:)` gives them.
    public func entry(at path: [UInt8]) throws -> GitTreeItem? {
        let slash = path.lastIndex(of: 0x2F)
        let dir = slash.map { Array(path[..<$0]) } ?? []
        let name = slash.map { Array(path[($0 + 1)...]) } ?? path
        guard !name.isEmpty, let tree = try directory(dir) else { return nil }
        guard let e = withCPath(name, { git_tree_entry_byname(tree.pointer, $0) }) else { return nil }
        // The entry belongs to the tree, which the cache keeps alive.
        return GitTreeItem(mode: GitFileMode(normalizing: git_tree_entry_filemode(e).rawValue),
                           id: ObjectID(git_tree_entry_id(e).pointee))
    }

    private func directory(_ path: [UInt8]) throws -> GitTree? {
        let key = ByteKey(path[...])
        if let known = directories[key] { return known }
        var found: GitTree?
        if let e = try entry(at: path), e.mode == .tree { found = try repo.lookupTree(e.id) }
        directories[key] = found
        return found
    }
}
