import CLibGit2
import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// libgit2 is initialised once per process, on first use.
private let libgit2Initialised: Bool = {
    git_libgit2_init()
    _ = drift_disable_owner_validation()
    _ = drift_ignore_global_config()
    return true
}()

func ensureLibgit2() { _ = libgit2Initialised }

/// The linked libgit2.
public enum GitLibrary {
    /// `1.5.1 (https, ssh, threads)`: the version and the features drift relies on.
    public static var version: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        var rev: Int32 = 0
        git_libgit2_version(&major, &minor, &rev)
        let f = git_libgit2_features()
        var features: [String] = []
        if f & Int32(GIT_FEATURE_HTTPS.rawValue) != 0 { features.append("https") }
        if f & Int32(GIT_FEATURE_SSH.rawValue) != 0 { features.append("ssh") }
        if f & Int32(GIT_FEATURE_THREADS.rawValue) != 0 { features.append("threads") }
        return "\(major).\(minor).\(rev) (\(features.joined(separator: ", ")))"
    }
}

/// A failed libgit2 call: its return code, `git_error_last()`'s class and message, and which
/// call on what failed. Callers branch on `code`/`klass`, never on the text.
public struct GitError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The libgit2 return code (`GIT_ENOTFOUND` = -3, `GIT_EAUTH` = -16, …).
    public let code: Int32
    /// `git_error_t` of the last error (`GIT_ERROR_NET` = 12, `GIT_ERROR_SSH` = 23, …), 0 if none.
    let klass: Int32
    /// libgit2's message, or `error <code>` when it left none.
    public let message: String
    /// The C function that failed.
    public let function: String
    /// What it was doing it on: a path, a ref, a URL (already quoted or redacted).
    public let context: String

    /// A one-line sentence: `context: function failed: message`.
    public var description: String {
        let prefix = context.isEmpty ? "" : "\(context): "
        return DriftError.neutralised("\(prefix)\(function) failed: \(message)")
    }

    /// The object, reference or path was not there.
    var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }

    /// A repository's own files fail to parse or are missing where something names them (a
    /// reference, HEAD, config, a loose object, a pack, the object database): libgit2's error
    /// class, or not found, decides, never its message. I/O (`GIT_ERROR_OS`), memory and
    /// network failures are not damage: moving the repository aside would not help.
    public var isDamage: Bool {
        if isNotFound { return true }
        let damaged: [git_error_t] = [GIT_ERROR_INVALID, GIT_ERROR_REFERENCE, GIT_ERROR_ZLIB, GIT_ERROR_REPOSITORY,
                                      GIT_ERROR_CONFIG, GIT_ERROR_ODB, GIT_ERROR_OBJECT, GIT_ERROR_TREE]
        return damaged.contains { Int32($0.rawValue) == klass }
    }

    /// The same error with its context and message passed through `scrub` (URL credentials).
    func scrubbed(_ scrub: (String) -> String) -> GitError {
        GitError(code: code, klass: klass, message: scrub(message), function: function, context: scrub(context))
    }
}

/// Turns a libgit2 return code into a `GitError` carrying `git_error_last()`.
@discardableResult
public func check(_ rc: Int32, _ function: String, _ context: String = "") throws -> Int32 {
    if rc >= 0 { return rc }
    var text = "error \(rc)"
    var klass: Int32 = 0
    if let e = git_error_last() {
        klass = e.pointee.klass
        if let m = e.pointee.message { text = String(cString: m) }
    }
    throw GitError(code: rc, klass: klass, message: text, function: function, context: context)
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

    /// The 20 bytes hashed as one run, not a byte at a time (sets and maps of 100,000 ids).
    public func hash(into hasher: inout Hasher) {
        raw.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Parses an object id read at an edge (a trailer, a JSON record): 40 lowercase hex
    /// digits, the form drift writes, so what is read is written back byte for byte.
    /// - Throws: `DriftError` with code `malformedID` naming the text.
    public init(parsing text: String) throws(DriftError) {
        guard let id = ObjectID(hex: text), id.hex == text else {
            throw DriftError(.malformedID, "'\(PathBytes.display(text: text))' is not a git object id "
                             + "(40 lowercase hex digits)")
        }
        self = id
    }
}

/// A value written as one JSON string, its hex text, and read back through `init(parsing:)`:
/// reading text that is not one is a decoding error carrying the `DriftError` (code
/// `malformedID`). `ObjectID` and `DriftID` adopt it, so the two share one Codable conformance.
public protocol HexStringCodable: Codable {
    /// The text every format writes.
    var hex: String { get }
    /// Parses the text read at an edge.
    /// - Throws: `DriftError` with code `malformedID`.
    init(parsing text: String) throws(DriftError)
}

extension HexStringCodable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: error.reason, underlyingError: error))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

/// An object id is written as its 40 hex digits.
extension ObjectID: HexStringCodable {}

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
