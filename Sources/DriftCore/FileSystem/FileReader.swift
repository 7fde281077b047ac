#if canImport(Glibc)
import Glibc
#endif

/// Reads files under a root safely: `O_NOFOLLOW | O_NONBLOCK`, metadata from the opened
/// descriptor, and anything that is not a regular file refused before a byte is read.
public struct FileReader: Sendable {
    public let root: [UInt8]

    public init(root: [UInt8]) { self.root = root }

    func absolute(_ rel: [UInt8]) -> [UInt8] { PathBytes.join(root, rel) }

    /// Opens `rel` for reading, returning the fd and its `fstat`. Throws for a
    /// non-regular file (a FIFO opened with O_NONBLOCK cannot block us).
    func openRegular(_ rel: [UInt8]) throws -> (Int32, FileStat) {
        let fd = withCPath(absolute(rel)) { open($0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) }
        if fd < 0 { throw DriftError.posix("open", rel, errno) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = errno
            close(fd)
            throw DriftError.posix("fstat", rel, e)
        }
        let fs = FileStat(st)
        if fs.kind != .regular {
            close(fd)
            throw DriftError("\(PathBytes.display(rel)): not a regular file any more")
        }
        return (fd, fs)
    }

    /// SHA-256 of a regular file, streamed in 1 MiB reads. Returns the stat taken from the
    /// open descriptor before reading, and whether the file changed while it was read.
    public func hash(_ rel: [UInt8], with hasher: SHA256Hasher, buffer: UnsafeMutableRawBufferPointer) throws -> (Digest, FileStat, stable: Bool) {
        let (fd, before) = try openRegular(rel)
        defer { close(fd) }
        if before.size >= Self.mmapThreshold, let d = try hashMapped(fd, before, rel, hasher) {
            var st = stat()
            let stable = fstat(fd, &st) == 0 && FileStat(st).size == before.size && FileStat(st).mtimeNs == before.mtimeNs
                && FileStat(st).ctimeNs == before.ctimeNs
            return (d, before, stable)
        }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        var total: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw DriftError.posix("read", rel, errno)
            }
            if n == 0 { break }
            try hasher.update(UnsafeRawPointer(buffer.baseAddress!), n)
            total += Int64(n)
        }
        let digest = try hasher.finish()
        var st = stat()
        let stable = fstat(fd, &st) == 0 && FileStat(st).size == total && FileStat(st).mtimeNs == before.mtimeNs
            && FileStat(st).ctimeNs == before.ctimeNs
        return (digest, before, stable)
    }

    /// Files this large are hashed through mmap in windows (fewer copies than read(2)).
    static let mmapThreshold: Int64 = 4 << 20
    static let mmapWindow = 8 << 20

    /// Hashes a big file through 8 MiB mmap windows with MADV_SEQUENTIAL, so memory
    /// stays bounded whatever the file size. Nil when mmap is not possible (read instead).
    private func hashMapped(_ fd: Int32, _ st: FileStat, _ rel: [UInt8], _ hasher: SHA256Hasher) throws -> Digest? {
        var off: Int64 = 0
        while off < st.size {
            let len = Int(min(Int64(Self.mmapWindow), st.size - off))
            let p = mmap(nil, len, PROT_READ, MAP_PRIVATE, fd, off_t(off))
            guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else {
                if off == 0 { return nil }
                throw DriftError.posix("mmap", rel, errno)
            }
            _ = madvise(p, len, MADV_SEQUENTIAL)
            _ = madvise(p, len, MADV_WILLNEED)
            defer { munmap(p, len) }
            // A file truncated under us raises SIGBUS on access; the stat check before
            // each window narrows that window to a race drift reports as unstable.
            var now = stat()
            if fstat(fd, &now) != 0 || Int64(now.st_size) < off + Int64(len) {
                throw DriftError("\(PathBytes.display(rel)): shrank while it was hashed")
            }
            try hasher.update(UnsafeRawPointer(p), len)
            off += Int64(len)
        }
        return try hasher.finish()
    }

    /// The whole content of a regular file (for git blobs of drifted code files only).
    public func readAll(_ rel: [UInt8], limit: Int64 = .max) throws -> [UInt8] {
        let (fd, st) = try openRegular(rel)
        defer { close(fd) }
        if st.size > limit {
            throw DriftError("\(PathBytes.display(rel)): \(st.size) bytes is over the \(limit)-byte limit")
        }
        var out = [UInt8]()
        out.reserveCapacity(Int(st.size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DriftError.posix("read", rel, errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if Int64(out.count) > limit {
                throw DriftError("\(PathBytes.display(rel)): grew over the \(limit)-byte limit while read")
            }
        }
        return out
    }

    /// The target of a symlink, as bytes.
    public func readLink(_ rel: [UInt8]) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = withCPath(absolute(rel)) { p in
            buf.withUnsafeMutableBytes { readlink(p, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        }
        if n < 0 { throw DriftError.posix("readlink", rel, errno) }
        return Array(buf[0..<n])
    }
}

/// Reads a whole file outside the root (manifest, policy, state): small files only.
/// `followSymlinks: false` for files drift itself owns (the state dir), where a symlink can
/// only be an attack; user-given paths (a policy mounted by Kubernetes) may be links.
public func readWholeFile(_ path: String, limit: Int = 1 << 30, followSymlinks: Bool = true) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followSymlinks ? 0 : O_NOFOLLOW))
    if fd < 0 { throw DriftError("\(path): cannot open: \(errnoText(errno))") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw DriftError("\(path): cannot stat: \(errnoText(errno))") }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw DriftError("\(path): not a regular file") }
    if Int(st.st_size) > limit { throw DriftError("\(path): larger than \(limit) bytes") }
    // Read straight into a buffer of the stat size, growing only if the file grew.
    var out = [UInt8](repeating: 0, count: Int(st.st_size) + 1)
    var filled = 0
    while true {
        if filled == out.count {
            if out.count > limit { throw DriftError("\(path): larger than \(limit) bytes") }
            out.append(contentsOf: [UInt8](repeating: 0, count: max(out.count, 1 << 16)))
        }
        let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
        if n < 0 {
            if errno == EINTR { continue }
            throw DriftError("\(path): read failed: \(errnoText(errno))")
        }
        if n == 0 { break }
        filled += n
    }
    out.removeSubrange(filled...)
    return out
}
