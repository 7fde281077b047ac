import DriftGit
import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// A walk of the root with the policy applied: every non-ignored entry with its class.
public struct ClassifiedEntry: Sendable {
    public var path: [UInt8]
    public var stat: FileStat
    public var fileClass: FileClass
    public var secret: Bool
}

public struct TreeWalk {
    public var entries: [ClassifiedEntry]
    public var issues: [ScanIssue]
    /// Directories that could not be read: nothing below them is known.
    public var unreadableDirectories: [[UInt8]]

    /// Walks `root`, skipping ignored directories whole and dropping ignored entries;
    /// `entering` sees each directory (relative path, the root as `[]`) just before it is read.
    public static func run(root: [UInt8], classifier: Classifier,
                           entering: (([UInt8]) -> Void)? = nil) throws -> TreeWalk {
        var out: [ClassifiedEntry] = []
        let descend: ([UInt8]) -> Bool = { dir in
            guard classifier.shouldDescend(dir) else { return false }
            entering?(dir)
            return true
        }
        entering?([])
        let issues = try DirectoryWalker(root: root).walk(descend: descend) { path, stat in
            let (c, secret) = classifier.classifyAll(path, isDirectory: stat.kind == .directory)
            if c != .ignore { out.append(ClassifiedEntry(path: path, stat: stat, fileClass: c, secret: secret)) }
        }
        let unreadable = issues.filter(\.unreadableDirectory).map(\.path)
        return TreeWalk(entries: out, issues: issues, unreadableDirectories: unreadable)
    }
}

/// Throws when `target` (existing or not) is the root or lies under it: drift never
/// writes under the scanned root. Checked by identity (`WriteTarget`); returns the resolved path.
@discardableResult
public func refuseWriteUnder(root: String, target: String, what: String) throws -> String {
    try WriteTarget.refuseInside(root: root, target: target, what: what)
}
