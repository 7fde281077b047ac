#if canImport(Glibc)
import Glibc
#endif

/// Resolves a path to its canonical absolute form (for the "never write under the root" check).
public func canonicalPath(_ path: String) -> String? {
    guard let r = realpath(path, nil) else { return nil }
    defer { free(r) }
    return String(cString: r)
}

/// The working directory, for making a relative path absolute.
public enum WorkingDirectory {
    public static func path() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "." }
        return cBufferString(buf)
    }
}
