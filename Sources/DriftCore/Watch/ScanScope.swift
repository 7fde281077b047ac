import DriftGit
import DriftSystem
/// The part of the workspace one batch rescans: single paths, and directories walked whole
/// (relative to the root; the root itself is a full scan, not a scope).
///
/// A single path covers what lies below it too: one that is a directory now is walked whole
/// (`PartialScan` moves it to `trees`), and one that is not (a file, symlink or FIFO where a
/// directory was, or nothing) has nothing below it, so whatever the last scan recorded there
/// is dropped, and what the manifest has there is reported deleted, in the same batch.
public struct ScanScope: Sendable {
    public var paths: Set<[UInt8]> = []
    var trees: Set<[UInt8]> = []

    public init() {}

    public var isEmpty: Bool { paths.isEmpty && trees.isEmpty }

    /// Whether `path` is one of the paths or lies below one, or lies in (or is) one of the trees.
    func contains(_ path: [UInt8]) -> Bool {
        // A small scope asked of every kept path (a watch batch): its members are compared in
        // place, no ancestor of the path is allocated and hashed.
        if paths.count + trees.count <= Self.compareBelow {
            return paths.contains { Self.atOrBelow(path, $0) } || trees.contains { Self.atOrBelow(path, $0) }
        }
        if paths.contains(path) { return true }
        if inTree(path, includingSelf: true) { return true }
        if paths.isEmpty { return false }
        var i = 0
        while i < path.count {
            if path[i] == UInt8(ascii: "/"), paths.contains(Array(path[0..<i])) { return true }
            i += 1
        }
        return false
    }

    /// Scopes of at most this many members are compared member by member in `contains`.
    static let compareBelow = 8

    /// `path` is `member` or lies below it (`member/…`); an empty member is only the empty path
    /// (the ancestors `contains` looks at end before a `/`, and none is empty in a relative path).
    private static func atOrBelow(_ path: [UInt8], _ member: [UInt8]) -> Bool {
        if member.isEmpty { return path.isEmpty || path.first == UInt8(ascii: "/") }
        return path.count >= member.count && path.starts(with: member)
            && (path.count == member.count || path[member.count] == UInt8(ascii: "/"))
    }

    private func inTree(_ path: [UInt8], includingSelf: Bool) -> Bool {
        if trees.isEmpty { return false }
        if includingSelf && trees.contains(path) { return true }
        var i = 0
        while i < path.count {
            if path[i] == UInt8(ascii: "/"), trees.contains(Array(path[0..<i])) { return true }
            i += 1
        }
        return false
    }

    /// Drops trees inside other trees and paths inside trees (the outer walk covers them).
    mutating func normalize() {
        let before = self
        trees = trees.filter { !before.inTree($0, includingSelf: false) }
        let after = self
        paths = paths.filter { !after.inTree($0, includingSelf: true) }
    }
}
