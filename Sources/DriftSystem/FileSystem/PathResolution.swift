#if canImport(Glibc)
import Glibc
#endif

/// Resolves a path to its canonical absolute form (for the "never write under the root" check).
public func canonicalPath(_ path: String) -> String? {
    guard let r = realpath(path, nil) else { return nil }
    defer { free(r) }
    return String(cString: r)
}

/// `canonicalPath` of a path given as bytes (a root whose name is not UTF-8).
public func canonicalPath(_ path: [UInt8]) -> [UInt8]? {
    guard !path.contains(0) else { return nil }
    guard let r = withCPath(path, { realpath($0, nil) }) else { return nil }
    defer { free(r) }
    return cStringBytes(r)
}

/// The working directory, for making a relative path absolute.
public enum WorkingDirectory {
    /// The working directory's bytes, as the kernel has them (a name that is not UTF-8 too).
    public static func bytes() -> [UInt8] {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return [UInt8(ascii: ".")] }
        return buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    }

    /// The working directory as text, for keys and messages (repaired when not UTF-8): never
    /// hand it back to a system call — `bytes()` is the path.
    public static func path() -> String { String(decoding: bytes(), as: UTF8.self) }
}
