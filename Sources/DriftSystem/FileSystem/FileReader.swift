#if canImport(Glibc)
import Glibc
#endif

/// Reads files under a root safely: every open goes through `RootDirectory` (resolved
/// beneath the root, no symlink at any component, `O_NONBLOCK`), metadata comes from the
/// opened descriptor, and anything that is not a regular file is refused before a byte is read.
public struct FileReader: Sendable {
    public let directory: RootDirectory
    public var root: [UInt8] { directory.path }

    public init(root: [UInt8], strategy: ResolveStrategy = .automatic) {
        directory = RootDirectory(path: root, strategy: strategy)
    }

    public init(directory: RootDirectory) { self.directory = directory }

    /// Opens `rel` for reading, returning the fd and its `fstat`. Throws for a
    /// non-regular file (a FIFO opened with O_NONBLOCK cannot block us).
    func openRegular(_ rel: [UInt8]) throws -> (Int32, FileStat) {
        let fd: Int32
        switch directory.open(rel, flags: O_RDONLY) {
        case .success(let f): fd = f
        case .failure(let e): throw FileReadError(rel, .system(call: "open", errno: e))
        }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = errno
            close(fd)
            throw FileReadError(rel, .system(call: "fstat", errno: Errno(e)))
        }
        let fs = FileStat(st)
        if fs.kind != .regular {
            close(fd)
            throw FileReadError(rel, .notRegular)
        }
        return (fd, fs)
    }

    /// What one read of a file gave: its hash, the stat of the opened descriptor, whether
    /// it held still while read, and (when asked for and small enough) the very bytes hashed.
    public struct Content: Sendable {
        public var digest: Digest
        public var stat: FileStat
        public var stable: Bool
        /// The bytes the digest was computed from; nil when over the keep limit.
        public var bytes: [UInt8]?
        /// Not read: over the caller's limit, `digest` is `FileExtents.summaryDigest` of its
        /// size, mtime and data extents (a 1 TiB sparse file costs a few `lseek`s).
        public var summarized = false
    }

    /// SHA-256 of a regular file, streamed in 1 MiB reads. Returns the stat taken from the
    /// open descriptor before reading, and whether the file changed while it was read.
    public func hash(_ rel: [UInt8], with hasher: SHA256Hasher,
                     buffer: UnsafeMutableRawBufferPointer) throws -> (Digest, FileStat, stable: Bool) {
        let c = try read(rel, with: hasher, buffer: buffer, keepUpTo: -1)
        return (c.digest, c.stat, c.stable)
    }

    /// One read that yields both the hash and, for files of at most `keepUpTo` bytes, the
    /// content hashed: what the report says and what the journal records cannot differ.
    /// - Parameter summarizeOver: files larger than this (when not negative) are not read:
    ///   their size, mtime and data extents are summarised instead (`Content.summarized`).
    public func read(_ rel: [UInt8], with hasher: SHA256Hasher, buffer: UnsafeMutableRawBufferPointer,
                     keepUpTo: Int64, summarizeOver: Int64 = -1) throws -> Content {
        let (fd, before) = try openRegular(rel)
        defer { close(fd) }
        if summarizeOver >= 0 && before.size > summarizeOver {
            let map = FileExtents.data(fd: fd, size: before.size)
            var c = Content(digest: try FileExtents.summaryDigest(before, map), stat: before, stable: true, bytes: nil)
            c.summarized = true
            return c
        }
        func settled(_ total: Int64) -> Bool {
            var st = stat()
            guard fstat(fd, &st) == 0 else { return false }
            let now = FileStat(st)
            return now.size == total && now.mtimeNs == before.mtimeNs && now.ctimeNs == before.ctimeNs
        }
        if before.size > keepUpTo && before.size >= Self.mmapThreshold,
           let d = try hashMapped(fd, before, rel, hasher) {
            return Content(digest: d, stat: before, stable: settled(before.size), bytes: nil)
        }
        // Most files fit one buffer: no read-ahead advice (a system call per file) for those.
        if before.size > Int64(buffer.count) { _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) }
        var kept: [UInt8]? = before.size <= keepUpTo ? [] : nil
        kept?.reserveCapacity(Int(before.size))
        var total: Int64 = 0
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileReadError(rel, .system(call: "read", errno: .current))
            }
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            if let base = chunk.baseAddress { try hasher.update(base, n) }
            total += Int64(n)
            if kept != nil {
                if total > keepUpTo { kept = nil } else { kept?.append(contentsOf: chunk) }
            }
            // At the size fstat gave, the read that would say end-of-file is skipped: a file
            // that grew meanwhile fails `settled` (its size is no longer `total`).
            if total == before.size && before.size > 0 { break }
        }
        let digest = try hasher.finish()
        return Content(digest: digest, stat: before, stable: settled(total), bytes: kept)
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
            // Populated at once (one call maps the window's cached pages), not a fault per page run.
            let p = mmap(nil, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, off_t(off))
            guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else {
                if off == 0 { return nil }
                throw FileReadError(rel, .system(call: "mmap", errno: .current))
            }
            _ = madvise(p, len, MADV_SEQUENTIAL)
            _ = madvise(p, len, MADV_WILLNEED)
            defer { munmap(p, len) }
            // A file truncated under us raises SIGBUS on access; the stat check before
            // each window narrows that window to a race drift reports as unstable.
            var now = stat()
            if fstat(fd, &now) != 0 || Int64(now.st_size) < off + Int64(len) {
                throw FileReadError(rel, .shrank)
            }
            try hasher.update(UnsafeRawPointer(p), len)
            off += Int64(len)
        }
        return try hasher.finish()
    }

    /// The whole content of a small regular file below the root (RECORD, METADATA).
    public func readAll(_ rel: [UInt8], limit: Int64) throws -> [UInt8] {
        let hasher = try SHA256Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        let c = try read(rel, with: hasher, buffer: buffer, keepUpTo: limit)
        guard let bytes = c.bytes else {
            throw FileReadError(rel, .overLimit(limit))
        }
        return bytes
    }

    /// The target of a symlink, as bytes (read relative to its parent, opened beneath the root).
    public func readLink(_ rel: [UInt8]) throws -> [UInt8] {
        let (dir, name): (Int32, [UInt8])
        switch directory.openParent(rel) {
        case .success(let p): (dir, name) = p
        case .failure(let e): throw FileReadError(rel, .system(call: "readlink", errno: e))
        }
        defer { close(dir) }
        var buf = [UInt8](repeating: 0, count: 4097)
        let n = withCPath(name) { p in
            buf.withUnsafeMutableBytes {
                readlinkat(dir, p, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
            }
        }
        if n < 0 { throw FileReadError(rel, .system(call: "readlink", errno: .current)) }
        return Array(buf[0..<n])
    }
}

/// Reads a whole file outside the root (manifest, policy, state): small files only.
/// `followSymlinks: false` for files drift itself owns (the state dir), where a symlink can
/// only be an attack; user-given paths (a policy mounted by Kubernetes) may be links.
public func readWholeFile(_ path: String, limit: Int = 1 << 30, followSymlinks: Bool = true) throws -> [UInt8] {
    try readWholeFile(Array(path.utf8), limit: limit, followSymlinks: followSymlinks)
}

/// `readWholeFile` of a byte path (a name that is not UTF-8 too).
public func readWholeFile(_ path: [UInt8], limit: Int = 1 << 30, followSymlinks: Bool = true) throws -> [UInt8] {
    let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followSymlinks ? 0 : O_NOFOLLOW)
    let fd = withCPath(path) { open($0, flags) }
    if fd < 0 { throw DriftError(.unreadable, path: path, "cannot open", errno: .current) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw DriftError(.unreadable, path: path, "cannot stat", errno: .current) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw DriftError(.unreadable, path: path, "not a regular file") }
    if Int(st.st_size) > limit { throw DriftError(.unreadable, path: path, "larger than \(limit) bytes") }
    // Read straight into an uninitialised buffer of the stat size (not zeroed first: the
    // manifest and stat cache are megabytes, read before the walk starts), growing only if the
    // file grew (a full buffer: the loop below goes on reading).
    var out = try [UInt8](unsafeUninitializedCapacity: Int(st.st_size) + 1) { buf, count in
        count = 0
        while count < buf.count {
            let n = read(fd, buf.baseAddress! + count, buf.count - count)
            if n < 0 {
                if errno == EINTR { continue }
                throw DriftError(.unreadable, path: path, "read failed", errno: .current)
            }
            if n == 0 { return }
            count += n
        }
    }
    var filled = out.count
    if filled < Int(st.st_size) + 1 { return out }
    while true {
        if filled == out.count {
            if out.count > limit { throw DriftError(.unreadable, path: path, "larger than \(limit) bytes") }
            out.append(contentsOf: [UInt8](repeating: 0, count: max(out.count, 1 << 16)))
        }
        let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
        if n < 0 {
            if errno == EINTR { continue }
            throw DriftError(.unreadable, path: path, "read failed", errno: .current)
        }
        if n == 0 { break }
        filled += n
    }
    out.removeSubrange(filled...)
    return out
}
