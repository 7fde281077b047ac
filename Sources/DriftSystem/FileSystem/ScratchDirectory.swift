#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A private temp directory under `$TMPDIR` (else /tmp), mode 0700, removed by `remove()`.
public final class ScratchDirectory {
    /// Its absolute path.
    public let path: String

    /// Creates `drift-<purpose>-XXXXXX`.
    /// - Parameter purpose: a word in the name, so a leftover says who made it.
    /// - Throws: `DriftError` when the directory cannot be created.
    public init(purpose: String = "gate") throws {
        let tmpdir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((tmpdir + "/drift-\(purpose)-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else {
            throw DriftError(.io, path: tmpdir, "cannot create a temp directory", errno: .current)
        }
        path = String(cString: p)
    }

    /// Removes it and everything in it.
    public func remove() { Self.removeTree(path) }

    /// Removes a directory drift made (a staging or set-aside journal) and everything in it;
    /// absent is fine.
    public static func removeTree(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
}
