#if canImport(Glibc)
import Glibc
#endif

/// Path-based calls on trusted paths (the state, manifest and output directories, never a
/// path under a scanned root: those go through `RootDirectory`). Typed wrappers, so the
/// domain layer needs no C library of its own.
public enum FileSystem {
    /// `lstat(2)`: never follows a symlink at the last component.
    public static func lstat(_ path: String) throws(Errno) -> FileStat {
        var st = Glibc.stat()
        guard Glibc.lstat(path, &st) == 0 else { throw .current }
        return FileStat(st)
    }

    /// `lstat(2)` of a byte path.
    public static func lstat(_ path: [UInt8]) throws(Errno) -> FileStat {
        var st = Glibc.stat()
        guard withCPath(path, { Glibc.lstat($0, &st) }) == 0 else { throw .current }
        return FileStat(st)
    }

    /// `stat(2)`: follows symlinks.
    public static func stat(_ path: String) throws(Errno) -> FileStat {
        try stat(Array(path.utf8))
    }

    /// `stat(2)` of a byte path.
    public static func stat(_ path: [UInt8]) throws(Errno) -> FileStat {
        var st = Glibc.stat()
        guard withCPath(path, { statFollowing($0, &st) }) == 0 else { throw .current }
        return FileStat(st)
    }

    /// Whether `path` does not exist at all: `lstat` fails with `ENOENT` (any other failure
    /// — permissions, a file where a directory should be — is not absence).
    public static func isAbsent(_ path: String) -> Bool {
        isAbsent(Array(path.utf8))
    }

    /// `isAbsent` of a byte path.
    public static func isAbsent(_ path: [UInt8]) -> Bool {
        do {
            _ = try lstat(path)
            return false
        } catch {
            return error == .noSuchFileOrDirectory
        }
    }

    /// Whether `path`, following symlinks, is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        isDirectory(Array(path.utf8))
    }

    /// `isDirectory` of a byte path.
    public static func isDirectory(_ path: [UInt8]) -> Bool {
        (try? stat(path).kind) == .directory
    }

    /// `unlink(2)`.
    public static func unlink(_ path: String) throws(Errno) {
        guard Glibc.unlink(path) == 0 else { throw .current }
    }

    /// `unlink(2)` of a byte path.
    public static func unlink(_ path: [UInt8]) throws(Errno) {
        guard withCPath(path, { Glibc.unlink($0) }) == 0 else { throw .current }
    }

    /// `rename(2)`: atomic within one file system.
    public static func rename(_ source: String, to target: String) throws(Errno) {
        try rename(Array(source.utf8), to: Array(target.utf8))
    }

    /// `rename(2)` of byte paths.
    public static func rename(_ source: [UInt8], to target: [UInt8]) throws(Errno) {
        guard withCPath(source, { s in withCPath(target) { Glibc.rename(s, $0) } }) == 0 else { throw .current }
    }

    /// `chmod(2)`.
    public static func setPermissions(_ path: String, _ mode: UInt32) throws(Errno) {
        try setPermissions(Array(path.utf8), mode)
    }

    /// `chmod(2)` of a byte path.
    public static func setPermissions(_ path: [UInt8], _ mode: UInt32) throws(Errno) {
        guard withCPath(path, { Glibc.chmod($0, mode) }) == 0 else { throw .current }
    }
}

/// `stat(2)` outside `FileSystem`, whose own `stat` hides the C function's name.
private func statFollowing(_ path: UnsafePointer<CChar>, _ st: inout stat) -> Int32 {
    stat(path, &st)
}

/// Appends to a log file shared by concurrent writers.
public enum AppendFile {
    /// Why an append failed.
    public enum Failure: Error, Sendable, Equatable {
        /// The file could not be opened or created.
        case open(Errno)
        /// It is not a regular file with exactly one link (a hard link would let the append
        /// land in a file elsewhere).
        case notPlainFile
        /// The write failed or was short.
        case write(Errno)
    }

    /// Appends `bytes` with one `write(2)` on an `O_APPEND` descriptor (created with `mode`,
    /// never through a symlink), so concurrent writers never interleave a line.
    public static func append(_ bytes: [UInt8], to path: String, mode: UInt32 = 0o640) throws(Failure) {
        try append(bytes, toPath: Array(path.utf8), mode: mode)
    }

    /// `append(_:to:mode:)` for a path held as bytes (a name that is not UTF-8 included).
    public static func append(_ bytes: [UInt8], toPath path: [UInt8], mode: UInt32 = 0o640) throws(Failure) {
        let fd = withCPath(path) { open($0, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, mode) }
        if fd < 0 { throw .open(.current) }
        defer { close(fd) }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink == 1 else { throw .notPlainFile }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n != bytes.count { throw .write(.current) }
    }
}

/// `memchr`: the offset of the first `byte` in `count` bytes from `base`, or nil.
@inlinable
public func findByte(_ byte: UInt8, in base: UnsafeRawPointer, count: Int) -> Int? {
    memchr(base, Int32(byte), count).map { base.distance(to: UnsafeRawPointer($0)) }
}

/// `memcmp` of `count` bytes: the order of byte strings (negative, zero or positive).
@inlinable
public func compareMemory(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Int {
    count == 0 ? 0 : Int(memcmp(a, b, count))
}
