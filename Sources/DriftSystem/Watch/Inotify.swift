#if canImport(Glibc)
import Glibc
#endif

/// One inotify event: the watch it came from, what happened, and the entry's name
/// (empty for events about the watched directory itself).
public struct InotifyEvent: Sendable {
    public var wd: Int32
    var mask: UInt32
    var cookie: UInt32
    public var name: [UInt8]

    public func has(_ bits: UInt32) -> Bool { mask & bits != 0 }
}

/// An inotify instance (non-blocking, close-on-exec); closed when released.
public final class Inotify {
    public static let attrib = UInt32(IN_ATTRIB)
    public static let closeWrite = UInt32(IN_CLOSE_WRITE)
    /// Content written (also through a descriptor that is never closed).
    public static let modify = UInt32(IN_MODIFY)
    public static let movedFrom = UInt32(IN_MOVED_FROM)
    public static let movedTo = UInt32(IN_MOVED_TO)
    public static let create = UInt32(IN_CREATE)
    public static let delete = UInt32(IN_DELETE)
    public static let deleteSelf = UInt32(IN_DELETE_SELF)
    public static let moveSelf = UInt32(IN_MOVE_SELF)
    static let unmount = UInt32(IN_UNMOUNT)
    public static let overflow = UInt32(IN_Q_OVERFLOW)
    public static let ignored = UInt32(IN_IGNORED)
    public static let isDirectory = UInt32(IN_ISDIR)
    /// What drift watches on every directory (the list), never following a symlink
    /// and only on directories; events of unlinked children are dropped.
    /// `IN_MODIFY` too: a write through a descriptor kept open has no close to wait for (the
    /// kernel merges repeated identical events at the queue's tail, so a long write is few events).
    public static let directoryMask: UInt32 = attrib | closeWrite | modify | movedFrom | movedTo | create | delete
        | deleteSelf | moveSelf | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW) | UInt32(IN_EXCL_UNLINK)

    public let fd: Int32

    /// Fails with the errno (EMFILE at `fs.inotify.max_user_instances`).
    public init() throws(Errno) {
        let fd = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        if fd < 0 { throw Errno(errno) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Watches a directory by absolute byte path: the watch descriptor, or the errno.
    public func add(_ path: [UInt8], mask: UInt32 = Inotify.directoryMask) -> Result<Int32, Errno> {
        let wd = withCPath(path) { inotify_add_watch(fd, $0, mask) }
        return wd >= 0 ? .success(wd) : .failure(Errno(errno))
    }

    /// Watches the directory an open descriptor (an `O_PATH` one will do) refers to, through
    /// its `/proc/self/fd` link: the watch is on exactly the inode that was opened, however
    /// its path changes afterwards. ENOENT when `/proc` is not mounted.
    public func add(descriptor: Int32, mask: UInt32 = Inotify.directoryMask) -> Result<Int32, Errno> {
        // The magic link must be followed; IN_ONLYDIR still refuses anything but a directory.
        add(Array("/proc/self/fd/\(descriptor)".utf8), mask: mask & ~UInt32(IN_DONT_FOLLOW))
    }

    public func remove(_ wd: Int32) {
        _ = inotify_rm_watch(fd, wd)
    }

    /// Every event queued now (none when the queue is empty).
    public func drain() -> [InotifyEvent] {
        var out: [InotifyEvent] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            Self.parse(buffer[0..<n], into: &out)
        }
        return out
    }

    /// Splits a read of `struct inotify_event` records (16-byte header in host byte order,
    /// then a NUL-padded name).
    static func parse(_ bytes: ArraySlice<UInt8>, into out: inout [InotifyEvent]) {
        var i = bytes.startIndex
        func u32(_ at: Int) -> UInt32 {
            bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at - bytes.startIndex, as: UInt32.self) }
        }
        while i + 16 <= bytes.endIndex {
            let len = Int(u32(i + 12))
            guard i + 16 + len <= bytes.endIndex else { break }
            let raw = bytes[(i + 16)..<(i + 16 + len)]
            let name = Array(raw.prefix { $0 != 0 })
            out.append(InotifyEvent(wd: Int32(bitPattern: u32(i)), mask: u32(i + 4), cookie: u32(i + 8), name: name))
            i += 16 + len
        }
    }
}
