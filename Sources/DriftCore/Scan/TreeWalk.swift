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

    /// Walks `root`, skipping ignored directories whole and dropping ignored entries.
    public static func run(root: [UInt8], classifier: Classifier) throws -> TreeWalk {
        var out: [ClassifiedEntry] = []
        let issues = try DirectoryWalker(root: root).walk(descend: classifier.shouldDescend) { path, stat in
            let (c, secret) = classifier.classifyAll(path, isDirectory: stat.kind == .directory)
            if c != .ignore { out.append(ClassifiedEntry(path: path, stat: stat, fileClass: c, secret: secret)) }
        }
        let unreadable = issues.filter(\.unreadableDirectory).map(\.path)
        return TreeWalk(entries: out, issues: issues, unreadableDirectories: unreadable)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Resolves a path to its canonical absolute form (for the "never write under the root" check).
public func canonicalPath(_ path: String) -> String? {
    guard let r = realpath(path, nil) else { return nil }
    defer { free(r) }
    return String(cString: r)
}

/// Throws when `target` (existing or not) is the root or lies under it: drift never
/// writes under the scanned root. Checked by identity (`WriteTarget`); returns the resolved path.
@discardableResult
public func refuseWriteUnder(root: String, target: String, what: String) throws -> String {
    try WriteTarget.refuseInside(root: root, target: target, what: what)
}

enum FileManagerShim {
    static func cwd() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "." }
        return cBufferString(buf)
    }
}
