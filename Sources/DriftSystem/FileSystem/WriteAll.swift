#if canImport(Glibc)
import Glibc
#endif

/// Writes every byte of `buffer` to `fd`: the one write loop (in the spirit of swift-system's
/// `FileDescriptor.writeAll`). A short write continues where it stopped; `EINTR` retries.
/// - Parameters:
///   - fd: an open descriptor.
///   - buffer: the bytes; an empty buffer writes nothing.
///   - path: the file's name as bytes (a name that is not UTF-8 included), for the error.
/// - Throws: `DriftError` naming `path` and the errno text when `write(2)` fails.
public func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: [UInt8]) throws {
    guard let base = buffer.baseAddress else { return }
    var offset = 0
    while offset < buffer.count {
        let n = write(fd, base + offset, buffer.count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            throw DriftError(.io, path: path, "write failed", errno: .current)
        }
        offset += n
    }
}

/// `writeAll(_:_:path:)` for a name held as a Swift string.
public func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
    try writeAll(fd, buffer, path: Array(path.utf8))
}

/// `writeAll(_:_:path:)` for an array of bytes.
public func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
    try bytes.withUnsafeBytes { try writeAll(fd, $0, path: Array(path.utf8)) }
}

/// `writeAll(_:_:path:)` for an array of bytes, the file named by bytes.
public func writeAll(_ fd: Int32, _ bytes: [UInt8], path: [UInt8]) throws {
    try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
}
