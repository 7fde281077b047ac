#if canImport(Glibc)
import Glibc
#endif

/// What kind of directory entry a path is. Only `regular` files are ever opened.
public enum FileKind: String, Sendable, Codable {
    case regular = "file"
    case symlink
    case directory
    case special

    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFLNK: self = .symlink
        case S_IFDIR: self = .directory
        default: self = .special
        }
    }
}

/// The metadata drift keeps of a path: enough to detect change without reading it.
public struct FileStat: Sendable, Equatable, Codable {
    public var kind: FileKind
    public var mode: UInt32
    public var size: Int64
    public var mtimeNs: Int64
    public var ctimeNs: Int64
    public var inode: UInt64
    public var device: UInt64

    /// Whether any execute bit is set (git's 100755).
    public var isExecutable: Bool { mode & 0o111 != 0 }

    public init(
        kind: FileKind,
        mode: UInt32,
        size: Int64,
        mtimeNs: Int64,
        ctimeNs: Int64,
        inode: UInt64,
        device: UInt64
    ) {
        self.kind = kind
        self.mode = mode
        self.size = size
        self.mtimeNs = mtimeNs
        self.ctimeNs = ctimeNs
        self.inode = inode
        self.device = device
    }

    public init(_ st: stat) {
        kind = FileKind(mode: st.st_mode)
        mode = UInt32(st.st_mode)
        size = Int64(st.st_size)
        mtimeNs = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        ctimeNs = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
        inode = UInt64(st.st_ino)
        device = UInt64(st.st_dev)
    }
}

/// `lstat` of a byte path; never follows a symlink.
public func lstatBytes(_ path: [UInt8]) -> Result<FileStat, DriftError> {
    var st = stat()
    let rc = withCPath(path) { lstat($0, &st) }
    if rc != 0 { return .failure(.posix(.unreadable, "lstat", path, .current)) }
    return .success(FileStat(st))
}

/// Calls `body` with a NUL-terminated copy of `path`.
public func withCPath<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
    // On the stack when it fits (every file a scan opens passes through here): no heap copy.
    try withUnsafeTemporaryAllocation(of: CChar.self, capacity: path.count + 1) { z in
        path.withUnsafeBytes { src in
            UnsafeMutableRawBufferPointer(z).copyMemory(from: src)
        }
        z[path.count] = 0
        return try body(UnsafePointer(z.baseAddress!))
    }
}

/// The bytes of a C string (up to its NUL), never decoded: argv entries, names from the kernel.
public func cStringBytes(_ p: UnsafePointer<CChar>) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: p, count: strlen(p)))
}
