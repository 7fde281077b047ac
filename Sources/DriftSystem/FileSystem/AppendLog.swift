#if canImport(Glibc)
import Glibc
#endif

/// An append-only file of framed records, for state that changes a little at a time (a
/// base file plus the changes since, as git's split index keeps them).
///
/// A frame is `u32 length` (little-endian) + payload + SHA-256 of the payload. A reader takes
/// frames up to the first one that is short or whose checksum fails (a torn last append):
/// it never sees a partial frame. An append first cuts such a tail off, so what it writes
/// follows the last good frame, and is made durable (`fdatasync`) before it returns.
public enum AppendLog {
    static let overhead = 4 + 32
    /// Frames larger than this are refused on read (damage, not data).
    public static let frameLimit = 1 << 30

    /// The payloads of the whole frames after `header` bytes, and where the last one ends
    /// (the file's valid length); a damaged or torn frame ends the list.
    public static func frames(_ bytes: [UInt8], from start: Int) -> (payloads: [ArraySlice<UInt8>], end: Int) {
        var out: [ArraySlice<UInt8>] = []
        var i = start
        while i + overhead <= bytes.count {
            let len = bytes.withUnsafeBytes {
                Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
            }
            guard len <= frameLimit, i + overhead + len <= bytes.count else { break }
            let payload = bytes[(i + 4)..<(i + 4 + len)]
            guard let sum = try? SHA256Hasher.digest(Array(payload)),
                  sum.bytes.elementsEqual(bytes[(i + 4 + len)..<(i + overhead + len)]) else { break }
            out.append(payload)
            i += overhead + len
        }
        return (out, i)
    }

    /// One frame holding `payload`.
    public static func frame(_ payload: [UInt8]) throws -> [UInt8] {
        guard payload.count <= frameLimit else {
            throw DriftError(.internal, "internal: log frame of \(payload.count) bytes")
        }
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + overhead)
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { out.append(contentsOf: $0) }
        out += payload
        out += try SHA256Hasher.digest(payload).bytes
        return out
    }

    /// Appends `bytes` (whole frames, after a header when `validLength` is 0) at `validLength`,
    /// cutting off whatever follows it (a torn frame), then `fdatasync`s. A new file is
    /// created with `mode` and its directory synced, so the append survives a crash.
    /// `durable: false` leaves out both syncs, for a log whose loss costs only work (a stat
    /// cache's): a power loss may then drop or tear the append, which readers already survive.
    /// - Returns: the file's length after the append.
    @discardableResult
    public static func append(_ bytes: [UInt8], to path: String, at validLength: Int,
                              mode: mode_t = 0o600, durable: Bool = true) throws -> Int {
        try append(bytes, to: Array(path.utf8), at: validLength, mode: mode, durable: durable)
    }

    /// `append(_:to:at:mode:durable:)` for a path held as bytes (a name that is not UTF-8 included).
    @discardableResult
    public static func append(_ bytes: [UInt8], to path: [UInt8], at validLength: Int,
                              mode: mode_t = 0o600, durable: Bool = true) throws -> Int {
        let fd = withCPath(path) { open($0, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode) }
        if fd < 0 { throw DriftError(.io, path: path, "cannot open for append", errno: .current) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw DriftError(.unsafeTarget, path: path, "not a regular file")
        }
        let created = st.st_size == 0
        if Int(st.st_size) != validLength, ftruncate(fd, off_t(validLength)) != 0 {
            throw DriftError(.io, path: path, "cannot truncate a torn record", errno: .current)
        }
        if lseek(fd, off_t(validLength), SEEK_SET) < 0 {
            throw DriftError(.io, path: path, "seek failed", errno: .current)
        }
        if FaultInjection.due() {
            // The worst moment for an append: half of it on disk, then the crash.
            try writeAll(fd, Array(bytes.prefix(max(1, bytes.count / 2))), path: path)
            _ = fsync(fd)
            kill(getpid(), SIGKILL)
        }
        try writeAll(fd, bytes, path: path)
        guard durable else { return validLength + bytes.count }
        if fdatasync(fd) != 0 { throw DriftError(.io, path: path, "fdatasync failed", errno: .current) }
        if created { AtomicFile.syncDirectory(of: path) }
        return validLength + bytes.count
    }

    /// Removes the log (after its content went into a new base); absent is fine.
    public static func remove(_ path: String) throws {
        try remove(Array(path.utf8))
    }

    /// `remove(_:)` of a byte path.
    public static func remove(_ path: [UInt8]) throws {
        if withCPath(path, { unlink($0) }) != 0 && errno != ENOENT {
            throw DriftError(.io, path: path, "cannot remove", errno: .current)
        }
    }
}
