#if canImport(Glibc)
import Glibc
#endif

/// One entry found by a walk: its path relative to the root and its `lstat`.
public struct WalkEntry: Sendable {
    public var path: [UInt8]
    public var stat: FileStat
}

/// Walks a tree with `openat`/`fdopendir`/`readdir`/`fstatat`, never following symlinks
/// and never opening anything but directories.
public struct DirectoryWalker {
    /// Absolute (or cwd-relative) root, as bytes.
    public let root: [UInt8]

    public init(root: [UInt8]) { self.root = root }

    /// Returns every entry below the root (directories included), in no particular order,
    /// plus the entries that could not be read. `descend` decides whether to enter a
    /// directory (pruning ignored trees saves the walk entirely).
    public func walk(descend: ([UInt8]) -> Bool) throws -> (entries: [WalkEntry], errors: [ScanIssue]) {
        let rootFD = withCPath(root) { open($0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        if rootFD < 0 {
            let e = errno
            if e == ELOOP || e == ENOTDIR {
                throw DriftError("\(PathBytes.display(root)): the root is not a directory (a symlink root is refused; pass the real path)")
            }
            throw DriftError.posix("open root", root, e)
        }
        defer { close(rootFD) }
        var entries: [WalkEntry] = []
        var issues: [ScanIssue] = []
        var stack: [[UInt8]] = [[]]
        while let dir = stack.popLast() {
            let fd: Int32 = dir.isEmpty
                ? dup(rootFD)
                : withCPath(dir) { openat(rootFD, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            if fd < 0 {
                issues.append(ScanIssue(path: dir, message: "cannot open directory: \(errnoText(errno))"))
                continue
            }
            guard let d = fdopendir(fd) else {
                issues.append(ScanIssue(path: dir, message: "cannot read directory: \(errnoText(errno))"))
                close(fd)
                continue
            }
            while true {
                errno = 0
                guard let ent = readdir(d) else {
                    if errno != 0 { issues.append(ScanIssue(path: dir, message: "readdir failed: \(errnoText(errno))")) }
                    break
                }
                let name: [UInt8] = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                    let n = raw.firstIndex(of: 0) ?? raw.count
                    return Array(raw[0..<n])
                }
                if name == [0x2E] || name == [0x2E, 0x2E] { continue }
                var st = stat()
                let rc = withCPath(name) { fstatat(dirfd(d), $0, &st, AT_SYMLINK_NOFOLLOW) }
                let rel = PathBytes.join(dir, name)
                if rc != 0 {
                    if errno != ENOENT {
                        issues.append(ScanIssue(path: rel, message: "cannot stat: \(errnoText(errno))"))
                    }
                    continue
                }
                let fs = FileStat(st)
                entries.append(WalkEntry(path: rel, stat: fs))
                if fs.kind == .directory && descend(rel) { stack.append(rel) }
            }
            closedir(d)
        }
        return (entries, issues)
    }
}

/// A path that could not be read or checked, reported in `errors` without stopping the scan.
public struct ScanIssue: Sendable, Equatable {
    public var path: [UInt8]
    public var message: String

    public init(path: [UInt8], message: String) {
        self.path = path
        self.message = message
    }
}
