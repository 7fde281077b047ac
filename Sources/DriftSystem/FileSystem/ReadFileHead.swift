#if canImport(Glibc)
import Glibc
#endif

/// The first bytes of a file, at most `count`: a header read before the rest of a file of
/// megabytes is needed (the scan starts walking once `manifest.txt`'s header has named the
/// root and the policy pin, and reads the whole file beside the walk).
///
/// Opened as `readWholeFile` opens (never blocking on a FIFO, nothing but a regular file),
/// with the same errors, so a caller that falls back to `readWholeFile` reports the same.
/// - Parameters:
///   - path: the file's path bytes.
///   - count: bytes wanted; fewer come back when the file is shorter.
/// - Throws: `DriftError` naming the file when it cannot be opened, is not a regular file or
///   cannot be read.
public func readFileHead(_ path: [UInt8], count: Int) throws -> [UInt8] {
    let fd = withCPath(path) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
    if fd < 0 { throw DriftError(.unreadable, path: path, "cannot open", errno: .current) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw DriftError(.unreadable, path: path, "cannot stat", errno: .current) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw DriftError(.unreadable, path: path, "not a regular file") }
    let want = max(0, min(count, Int(st.st_size)))
    return try [UInt8](unsafeUninitializedCapacity: want) { buf, filled in
        filled = 0
        while filled < want {
            let n = read(fd, buf.baseAddress! + filled, want - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw DriftError(.unreadable, path: path, "read failed", errno: .current)
            }
            if n == 0 { return }
            filled += n
        }
    }
}
