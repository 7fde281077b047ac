/// `GitNames.isSafePath` over many paths of one tree or patch: the rule judges each component
/// alone (directories as trees, the last by its mode), so a directory that passed once is not
/// asked of libgit2 again: a bulk entry holds thousands of paths under one directory, and its
/// patch names each path three times.
public struct SafePathMemo {
    private var directories: Set<ByteKey> = []
    private var previous: (path: [UInt8], mode: GitFileMode)?

    public init() {}

    /// `GitNames.isSafePath(path, mode: mode)`, remembered.
    public mutating func isSafe(_ path: [UInt8], mode: GitFileMode = .blob) -> Bool {
        if let p = previous, p.path == path, p.mode == mode { return true }
        let safe: Bool
        if let slash = path.lastIndex(of: 0x2F), slash > path.startIndex,
           directories.contains(ByteKey(path[..<slash])) {
            safe = GitNames.isStorableName(Array(path[(slash + 1)...]), mode: mode)
        } else {
            safe = GitNames.isSafePath(path, mode: mode)
            if safe, let slash = path.lastIndex(of: 0x2F), slash > path.startIndex {
                directories.insert(ByteKey(path[..<slash]))
            }
        }
        if safe { previous = (path, mode) }
        return safe
    }
}
