#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What one walking thread does with what it finds. Each thread gets its own visitor, so a
/// visitor may keep unlocked caches; it sees whole subtrees in path-byte order.
public protocol WalkVisitor: SendableMetatype {
    associatedtype Item: Sendable
    /// Whether to enter directory `dir` (relative path), called just before it is read.
    mutating func descend(_ dir: [UInt8]) -> Bool
    /// What to keep for one entry (nil: nothing). Directories are visited before `descend`.
    mutating func visit(_ path: [UInt8], _ stat: FileStat) -> Item?
}

/// `DirectoryWalker` on several threads: the same entries in the same path-byte order, each
/// directory opened beneath the root (`RootDirectory`: no symlink followed, nothing but
/// directories opened), read with `getdents64` into one reused buffer a thread (`DirentBuffer`)
/// and its entries `fstatat`ed relative to it.
///
/// The top of the tree is read on the calling thread until it has split into enough
/// disjoint subtrees; the threads then take subtrees from a shared counter, and their
/// results are joined in the order the subtrees came in, which is path-byte order.
public struct ParallelDirectoryWalker: Sendable {
    public let root: [UInt8]
    public var strategy: ResolveStrategy = .automatic
    public var threads: Int

    /// Enough subtrees per thread that one big subtree does not leave the others idle.
    static let subtreesPerThread = 16
    /// Levels read on the calling thread at most before the subtrees are handed out.
    static let maxSplitLevels = 4

    public init(root: [UInt8], threads: Int, strategy: ResolveStrategy = .automatic) {
        self.root = root
        self.threads = max(1, threads)
        self.strategy = strategy
    }

    /// Every entry below the root the visitors keep, in path-byte order, plus the entries
    /// that could not be read. `makeVisitor` runs once per thread, on that thread.
    public func walk<V: WalkVisitor>(_ makeVisitor: @escaping @Sendable () -> V) throws
        -> (items: [V.Item], issues: [WalkIssue]) {
        let rootFD = try openWalkRoot(root)
        let reader = DirectoryReader(rootFD: rootFD, directory: RootDirectory(path: root, strategy: strategy))
        defer { close(rootFD) }

        // Split the top of the tree into an ordered plan of kept items and unread subtrees.
        var visitor = makeVisitor()
        var plan: [Part<V.Item>] = [.subtree([])]
        var issues: [WalkIssue] = []
        var level = 0
        let buffer = DirentBuffer()
        while threads > 1 && level < Self.maxSplitLevels {
            let subtrees = plan.reduce(0) { n, p in if case .subtree = p { n + 1 } else { n } }
            if subtrees == 0 || subtrees >= threads * Self.subtreesPerThread { break }
            var next: [Part<V.Item>] = []
            for part in plan {
                guard case .subtree(let dir) = part else {
                    next.append(part)
                    continue
                }
                var kept: [V.Item] = []
                for c in reader.list(dir, &issues, buffer) {
                    if let item = visitor.visit(c.path, c.stat) { kept.append(item) }
                    if c.stat.kind == .directory && visitor.descend(c.path) {
                        if !kept.isEmpty { next.append(.items(kept)) }
                        kept = []
                        next.append(.subtree(c.path))
                    }
                }
                if !kept.isEmpty { next.append(.items(kept)) }
            }
            plan = next
            level += 1
        }

        let subtrees = plan.compactMap { p -> [UInt8]? in if case .subtree(let d) = p { d } else { nil } }
        let results = (0..<subtrees.count).map { _ in SubtreeResult<V.Item>() }
        let cursor = Cursor()
        let work: @Sendable (Int) -> Void = { worker in
            var v = makeVisitor()
            while true {
                let k = cursor.next.add(1, ordering: .relaxed).oldValue
                if k >= subtrees.count { return }
                reader.walk(subtrees[k], &v, into: results[k])
            }
        }
        if threads > 1 && subtrees.count > 1 {
            WorkerThreads.run(min(threads, subtrees.count), work)
        } else {
            work(0)
        }

        let total = plan.reduce(0) { n, p in if case .items(let kept) = p { n + kept.count } else { n } }
            + results.reduce(0) { $0 + $1.items.count }
        var k = 0
        // Each thread's items are moved, not copied, into the joined walk (no retain and release
        // of every path on the one thread left running), and freed as they go.
        let items = [V.Item](unsafeUninitializedCapacity: total) { room, count in
            count = 0
            guard let base = room.baseAddress else { return }
            for part in plan {
                switch part {
                case .items(let kept):
                    for item in kept {
                        (base + count).initialize(to: item)
                        count += 1
                    }
                case .subtree:
                    count += results[k].items.moveAll(to: base + count)
                    k += 1
                }
            }
        }
        for r in results { issues += r.issues }
        return (items, issues)
    }

    private enum Part<Item> {
        case items([Item])
        case subtree([UInt8])
    }

    private final class Cursor: Sendable {
        let next = Atomic<Int>(0)
    }
}

/// What one thread found below one subtree; written by that thread alone, read after the join.
final class SubtreeResult<Item>: @unchecked Sendable {
    var items = MovableItems<Item>()
    var issues: [WalkIssue] = []
}

/// A growing run of items that can be moved out whole (`moveAll`): an `Array` can only be
/// copied out, one retain per item, and its copies released when it is freed.
struct MovableItems<Item>: ~Copyable {
    private var base: UnsafeMutablePointer<Item>?
    private var capacity = 0
    private(set) var count = 0

    init() {}

    deinit {
        base?.deinitialize(count: count)
        base?.deallocate()
    }

    mutating func append(_ item: Item) {
        if count == capacity {
            let grown = UnsafeMutablePointer<Item>.allocate(capacity: max(64, capacity * 2))
            if let base {
                grown.moveInitialize(from: base, count: count)
                base.deallocate()
            }
            base = grown
            capacity = max(64, capacity * 2)
        }
        (base.unsafelyUnwrapped + count).initialize(to: item)
        count += 1
    }

    /// Moves every item to `target` (uninitialised room for `count` items), leaving this empty
    /// and its memory freed; returns how many moved.
    mutating func moveAll(to target: UnsafeMutablePointer<Item>) -> Int {
        let moved = count
        if let base {
            target.moveInitialize(from: base, count: moved)
            base.deallocate()
        }
        base = nil
        capacity = 0
        count = 0
        return moved
    }
}

/// Reads directories beneath the root; shared by the walking threads (it holds only
/// descriptors, and `openat`/`openat2` on a shared descriptor are thread-safe).
struct DirectoryReader: Sendable {
    let rootFD: Int32
    let directory: RootDirectory

    struct Child {
        /// The path relative to the root.
        var path: [UInt8]
        var stat: FileStat
    }

    /// Walks everything below `dir` (whose own entry was visited already) depth-first, on an
    /// explicit stack (never one call frame per level); a directory past `WalkLimit` is
    /// visited but not read, and reported.
    func walk<V: WalkVisitor>(_ dir: [UInt8], _ v: inout V, into out: SubtreeResult<V.Item>) {
        var stack: [(children: [Child], next: Int, depth: Int)] = []
        let depth = WalkLimit.depth(dir)
        if let issue = WalkLimit.check(dir, depth: depth) {
            out.issues.append(issue)
            return
        }
        let buffer = DirentBuffer()
        stack.append((list(dir, &out.issues, buffer), 0, depth))
        while let top = stack.indices.last {
            if stack[top].next == stack[top].children.count {
                stack.removeLast()
                continue
            }
            let c = stack[top].children[stack[top].next]
            stack[top].next += 1
            if let item = v.visit(c.path, c.stat) { out.items.append(item) }
            guard c.stat.kind == .directory && v.descend(c.path) else { continue }
            let d = stack[top].depth + 1
            if let issue = WalkLimit.check(c.path, depth: d) {
                out.issues.append(issue)
                continue
            }
            stack.append((list(c.path, &out.issues, buffer), 0, d))
        }
    }

    /// The entries of one directory (not `.`/`..`) with their `lstat`, sorted the way the
    /// manifest is: by name, a directory's name with a `/` appended.
    func list(_ dir: [UInt8], _ issues: inout [WalkIssue], _ buffer: DirentBuffer) -> [Child] {
        let opened: Result<Int32, Errno> = dir.isEmpty ? .success(dup(rootFD)) : directory.openDirectory(dir)
        var fd: Int32 = -1
        switch opened {
        case .success(let f): fd = f
        case .failure(let e): errno = e.code
        }
        if fd < 0 {
            issues.append(WalkIssue(path: dir, message: "cannot open directory: \(errnoText(errno))",
                                    unreadableDirectory: true))
            return []
        }
        defer { close(fd) }
        var children: [Child] = []
        let failed = buffer.forEachName(fd) { name, n in
            var st = stat()
            if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                if errno != ENOENT {
                    let path = PathBytes.join(dir, Array(UnsafeRawBufferPointer(start: name, count: n)))
                    issues.append(WalkIssue(path: path, message: "cannot stat: \(errnoText(errno))"))
                }
                return
            }
            // One allocation per entry: the relative path is built straight from the name read.
            var path: [UInt8] = []
            path.reserveCapacity(dir.count + 1 + n)
            if !dir.isEmpty {
                path += dir
                path.append(UInt8(ascii: "/"))
            }
            path.append(contentsOf: UnsafeRawBufferPointer(start: name, count: n))
            children.append(Child(path: path, stat: FileStat(st)))
        }
        if failed != 0 { issues.append(WalkIssue(path: dir, message: "readdir failed: \(errnoText(failed))")) }
        let from = dir.isEmpty ? 0 : dir.count + 1
        return Self.sorted(children, from: from)
    }

    /// `children` in `nameLess` order. Sorted as 16-byte keys (the name's first 8 bytes, a
    /// directory's with its `/`, and the index), not as the children themselves: the sort then
    /// moves no paths, and most comparisons are one integer's (a name never holds a NUL, so
    /// zero padding sorts a shorter name first, as `nameLess` does).
    static func sorted(_ children: [Child], from: Int) -> [Child] {
        guard children.count > 1 else { return children }
        var keys: [(prefix: UInt64, index: Int)] = []
        keys.reserveCapacity(children.count)
        for (i, c) in children.enumerated() {
            keys.append((namePrefix(c, from: from), i))
        }
        keys.sort { a, b in
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            return nameLess(children[a.index], children[b.index], from: from)
        }
        return keys.map { children[$0.index] }
    }

    /// The first 8 bytes of a child's name, a directory's read with `/` appended, big-endian,
    /// zero-padded.
    static func namePrefix(_ c: Child, from: Int) -> UInt64 {
        var key: UInt64 = 0
        var taken = 0
        c.path.withUnsafeBufferPointer { p in
            var i = from
            while taken < 8 && i < p.count {
                key = key << 8 | UInt64(p[i])
                i += 1
                taken += 1
            }
        }
        if taken < 8 && c.stat.kind == .directory {
            key = key << 8 | UInt64(UInt8(ascii: "/"))
            taken += 1
        }
        return taken < 8 ? key << UInt64(8 * (8 - taken)) : key
    }

    /// Byte order of the names from `from` on, a directory's name read with a `/` appended
    /// (git's index order, so the depth-first walk comes out sorted by path bytes).
    static func nameLess(_ a: Child, _ b: Child, from: Int) -> Bool {
        let la = a.path.count - from, lb = b.path.count - from
        let n = min(la, lb)
        let c = a.path.withUnsafeBufferPointer { pa in
            b.path.withUnsafeBufferPointer { pb in
                n == 0 ? 0 : memcmp(pa.baseAddress! + from, pb.baseAddress! + from, n)
            }
        }
        if c != 0 { return c < 0 }
        // One name is a prefix of the other: compare the next byte, a directory's being `/`.
        let slash = Int(UInt8(ascii: "/"))
        let na = la > n ? Int(a.path[from + n]) : (a.stat.kind == .directory ? slash : -1)
        let nb = lb > n ? Int(b.path[from + n]) : (b.stat.kind == .directory ? slash : -1)
        return na < nb
    }
}
