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
///
/// Entries come out sorted by path bytes (the manifest's order) without a global sort:
/// each directory's children are sorted by name, a directory's name with a `/` appended —
/// the same trick git's index uses — so a depth-first walk is already in byte order.
public struct DirectoryWalker {
    /// Absolute (or cwd-relative) root, as bytes.
    public let root: [UInt8]
    /// How directories below the root are opened (never through a symlink).
    public var strategy: ResolveStrategy = .automatic

    public init(root: [UInt8], strategy: ResolveStrategy = .automatic) {
        self.root = root
        self.strategy = strategy
    }

    /// Every entry below the root (directories included) in path-byte order, plus the
    /// entries that could not be read. `descend` decides whether to enter a directory.
    public func walk(descend: ([UInt8]) -> Bool) throws -> (entries: [WalkEntry], errors: [WalkIssue]) {
        var entries: [WalkEntry] = []
        let issues = try walk(descend: descend) { entries.append(WalkEntry(path: $0, stat: $1)) }
        return (entries, issues)
    }

    /// The same walk, handing each entry to `visit` in path-byte order instead of keeping
    /// them all (the scanner keeps only what the policy does not ignore).
    public func walk(descend: ([UInt8]) -> Bool, visit: ([UInt8], FileStat) -> Void) throws -> [WalkIssue] {
        try walk(below: [], descend: descend, visit: visit)
    }

    /// The same walk of one directory below the root (`start`, relative, never the root's
    /// parent): `start` and every directory under it are opened beneath the root with no
    /// symlink at any component, so a component swapped for a symlink is an issue, never a
    /// listing of another tree. Paths are relative to the root; `start` itself is not visited.
    public func walk(below start: [UInt8], descend: ([UInt8]) -> Bool,
                     visit: ([UInt8], FileStat) -> Void) throws -> [WalkIssue] {
        let rootFD = try openWalkRoot(root)
        defer { close(rootFD) }
        var state = State(rootFD: rootFD, directory: RootDirectory(path: root, strategy: strategy))
        walkDirectory(start, &state, descend, visit)
        return state.issues
    }

    private struct State {
        let rootFD: Int32
        /// Opens each directory beneath the root: a directory swapped for a symlink while
        /// the walk runs makes the open fail instead of listing another tree.
        let directory: RootDirectory
        var issues: [WalkIssue] = []
    }

    private struct Child {
        var name: [UInt8]
        var stat: FileStat
        /// name, plus `/` for directories: the sort key.
        var key: [UInt8]
    }

    /// One directory being walked: its sorted children and the next one to visit.
    private struct Frame {
        var dir: [UInt8]
        var children: [Child]
        var next = 0
        var depth: Int
    }

    /// Depth-first, in path-byte order, on an explicit stack (never one call frame per level):
    /// a directory past `WalkLimit` is visited but not read, and reported.
    private func walkDirectory(_ start: [UInt8], _ state: inout State, _ descend: ([UInt8]) -> Bool,
                               _ visit: ([UInt8], FileStat) -> Void) {
        let depth = WalkLimit.depth(start)
        if !start.isEmpty, let issue = WalkLimit.check(start, depth: depth) {
            state.issues.append(issue)
            return
        }
        var stack = [Frame(dir: start, children: list(start, &state), depth: depth)]
        while let top = stack.indices.last {
            if stack[top].next == stack[top].children.count {
                stack.removeLast()
                continue
            }
            let c = stack[top].children[stack[top].next]
            stack[top].next += 1
            let rel = PathBytes.join(stack[top].dir, c.name)
            visit(rel, c.stat)
            guard c.stat.kind == .directory && descend(rel) else { continue }
            let d = stack[top].depth + 1
            if let issue = WalkLimit.check(rel, depth: d) {
                state.issues.append(issue)
                continue
            }
            stack.append(Frame(dir: rel, children: list(rel, &state), depth: d))
        }
    }

    /// The children of one directory (not `.`/`..`), sorted by name with a directory's
    /// name read with `/` appended; an unreadable directory is an issue and no children.
    private func list(_ dir: [UInt8], _ state: inout State) -> [Child] {
        let opened: Result<Int32, Errno> = dir.isEmpty
            ? .success(dup(state.rootFD))
            : state.directory.openDirectory(dir)
        let fd: Int32
        switch opened {
        case .success(let f) where f >= 0: fd = f
        case .success: fd = -1
        case .failure(let e):
            fd = -1
            errno = e.code
        }
        if fd < 0 {
            state.issues.append(WalkIssue(path: dir, message: "cannot open directory: \(errnoText(errno))",
                                          unreadableDirectory: true))
            return []
        }
        guard let d = fdopendir(fd) else {
            state.issues.append(WalkIssue(path: dir, message: "cannot read directory: \(errnoText(errno))",
                                          unreadableDirectory: true))
            close(fd)
            return []
        }
        var children: [Child] = []
        while true {
            errno = 0
            guard let ent = readdir(d) else {
                if errno != 0 {
                    state.issues.append(WalkIssue(path: dir, message: "readdir failed: \(errnoText(errno))"))
                }
                break
            }
            let namePointer = direntNamePointer(ent)
            let name = Array(UnsafeRawBufferPointer(start: namePointer, count: strlen(namePointer)))
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            var st = stat()
            let rc = fstatat(dirfd(d), namePointer, &st, AT_SYMLINK_NOFOLLOW)
            if rc != 0 {
                if errno != ENOENT {
                    state.issues.append(WalkIssue(path: PathBytes.join(dir, name),
                                                  message: "cannot stat: \(errnoText(errno))"))
                }
                continue
            }
            let fs = FileStat(st)
            children.append(Child(name: name, stat: fs, key: fs.kind == .directory ? name + [UInt8(ascii: "/")] : name))
        }
        closedir(d)
        children.sort { bytesLess($0.key, $1.key) }
        return children
    }
}

/// How deep a walk goes. Every path below a directory repeats that directory's path, so a
/// chain N levels deep costs N² bytes and opens: past these bounds a directory is visited
/// but not read, and reported (the scan is incomplete, nothing below it is called deleted).
/// Real trees are far inside them (Linux's `PATH_MAX` is 4096 bytes).
public enum WalkLimit {
    /// Directory levels below the root a walk reads.
    public static let maxDepth = 1024
    /// Bytes of a directory's relative path a walk still reads.
    public static let maxPathBytes = 32_768

    /// The number of components of a relative path (0 for the root).
    public static func depth(_ rel: [UInt8]) -> Int {
        rel.isEmpty ? 0 : rel.reduce(1) { $1 == UInt8(ascii: "/") ? $0 + 1 : $0 }
    }

    /// The issue for a directory at `depth` levels that a walk must not read, else nil.
    public static func check(_ dir: [UInt8], depth: Int) -> WalkIssue? {
        if depth > maxDepth {
            return WalkIssue(path: dir, message: "deeper than \(maxDepth) directory levels: not walked",
                             unreadableDirectory: true, beyondLimit: true)
        }
        if dir.count > maxPathBytes {
            return WalkIssue(path: dir, message: "path longer than \(maxPathBytes) bytes: not walked",
                             unreadableDirectory: true, beyondLimit: true)
        }
        return nil
    }
}

/// Byte-wise `a < b` with memcmp.
@inline(__always)
public func bytesLess(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    bytesCompare(a, b) < 0
}

/// memcmp ordering of two byte strings (shorter prefix first).
@inline(__always)
func bytesCompare(_ a: [UInt8], _ b: [UInt8]) -> Int {
    let n = min(a.count, b.count)
    let c = a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in n == 0 ? 0 : Int(memcmp(pa.baseAddress!, pb.baseAddress!, n)) }
    }
    if c != 0 { return c }
    return a.count - b.count
}

/// Every name in one directory (not `.`/`..`) as bytes, or nil when it cannot be read.
/// A name that is not UTF-8 is kept as it is, never decoded and never left out: a repaired
/// name handed back to `unlink` or `open` would be another file, and a name left out is a
/// file drift does not see (a supervisord `*.conf` named in Latin-1 is still read).
public func directoryEntries(_ path: [UInt8]) -> [[UInt8]]? {
    guard let d = withCPath(path, { opendir($0) }) else { return nil }
    defer { closedir(d) }
    var out: [[UInt8]] = []
    while let ent = readdir(d) {
        let p = direntNamePointer(ent)
        let name = Array(UnsafeRawBufferPointer(start: p, count: strlen(p)))
        if name == [0x2E] || name == [0x2E, 0x2E] { continue }
        out.append(name)
    }
    return out
}

/// `directoryEntries` of a path given as text.
public func directoryEntries(_ path: String) -> [[UInt8]]? {
    directoryEntries(Array(path.utf8))
}

/// Byte matchers for names read by `directoryEntries`: callers look for names drift itself
/// makes (`*.tmp.*`, `*.lock`, `pack-*.idx`, `python3.*`) or reads (`*.conf`) without decoding.
extension Array where Element == UInt8 {
    /// Whether these bytes start with `text`'s UTF-8.
    public func hasPrefix(text: String) -> Bool { starts(with: text.utf8) }

    /// Whether these bytes end with `text`'s UTF-8.
    public func hasSuffix(text: String) -> Bool {
        let t = Array(text.utf8)
        return count >= t.count && self[(count - t.count)...].elementsEqual(t)
    }

    /// Whether `text`'s UTF-8 occurs in these bytes.
    public func contains(text: String) -> Bool {
        let t = Array(text.utf8)
        guard !t.isEmpty else { return true }
        guard count >= t.count else { return false }
        for i in 0...(count - t.count) where self[i..<(i + t.count)].elementsEqual(t) { return true }
        return false
    }
}

/// Where an entry's name starts, read in place: a `dirent` record is only as long as its name,
/// so copying the whole 256-byte `d_name` tuple reads past the end of readdir's buffer (ASan).
func direntNamePointer(_ ent: UnsafeMutablePointer<dirent>) -> UnsafePointer<CChar> {
    let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name) ?? 19
    return UnsafeRawPointer(ent).advanced(by: offset).assumingMemoryBound(to: CChar.self)
}

/// Opens a walk's root: a real directory, never through a symlink at its last component.
/// - Parameter root: the root's path bytes.
/// - Returns: the descriptor (the caller closes it).
/// - Throws: `DriftError` naming the root when it is a symlink, not a directory, or unreadable.
func openWalkRoot(_ root: [UInt8]) throws -> Int32 {
    let fd = withCPath(root) { open($0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
    if fd < 0 {
        let e = errno
        if e == ELOOP || e == ENOTDIR {
            throw DriftError(.unreadable, path: root, "the root is not a directory "
                + "(a symlink root is refused; pass the real path)")
        }
        throw DriftError.posix(.unreadable, "open root", root, Errno(e))
    }
    return fd
}
