import CLibGit2

/// libgit2 is initialised once per process, on first use.
private let libgit2Initialised: Bool = {
    git_libgit2_init()
    _ = drift_disable_owner_validation()
    return true
}()

func ensureLibgit2() { _ = libgit2Initialised }

/// Turns a libgit2 return code into a `DriftError` carrying `git_error_last()` text.
@discardableResult
func check(_ rc: Int32, _ function: String, _ context: String = "") throws -> Int32 {
    if rc >= 0 { return rc }
    var text = "error \(rc)"
    if let e = git_error_last(), let m = e.pointee.message {
        text = String(cString: m)
    }
    let prefix = context.isEmpty ? "" : "\(context): "
    throw DriftError("\(prefix)\(function) failed: \(text)")
}

/// A git object id (SHA-1, 20 bytes).
public struct ObjectID: Hashable, Sendable, CustomStringConvertible {
    public var raw: [UInt8]

    init(_ oid: git_oid) {
        raw = withUnsafeBytes(of: oid.id) { Array($0) }
    }

    public init?(hex: String) {
        var oid = git_oid()
        guard hex.utf8.count == 40, git_oid_fromstr(&oid, hex) == 0 else { return nil }
        self.init(oid)
    }

    var oid: git_oid {
        var o = git_oid()
        withUnsafeMutableBytes(of: &o.id) { dst in
            for i in 0..<min(dst.count, raw.count) { dst[i] = raw[i] }
        }
        return o
    }

    public var hex: String { hexEncode(raw) }
    public var description: String { hex }
}

/// Copies a libgit2 `git_buf` into bytes and disposes it.
func takeBuffer(_ buf: inout git_buf) -> [UInt8] {
    defer { git_buf_dispose(&buf) }
    guard let p = buf.ptr else { return [] }
    return Array(UnsafeRawBufferPointer(start: p, count: buf.size))
}

/// Bytes of a NUL-terminated C path without the lossy `String(cString:)`.
func cBytes(_ p: UnsafePointer<CChar>?) -> [UInt8] {
    guard let p else { return [] }
    return Array(UnsafeRawBufferPointer(start: p, count: strlen(p)))
}

#if canImport(Glibc)
import Glibc
#endif
