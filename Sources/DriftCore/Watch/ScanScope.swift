import DriftGit
import DriftSystem
/// The part of the workspace one batch rescans: single paths, and directories walked whole
/// (relative to the root; the root itself is a full scan, not a scope).
public struct ScanScope: Sendable {
    public var paths: Set<[UInt8]> = []
    var trees: Set<[UInt8]> = []

    public init() {}

    public var isEmpty: Bool { paths.isEmpty && trees.isEmpty }

    /// Whether `path` is one of the paths, or lies in (or is) one of the trees.
    func contains(_ path: [UInt8]) -> Bool {
        if paths.contains(path) { return true }
        return inTree(path, includingSelf: true)
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
