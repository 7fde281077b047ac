#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Writes files so a reader (or a crash) sees the old version or the new one, never a
/// torn one: temp file in the same directory, fsync, rename, fsync the directory.
public enum AtomicFile {
    /// `syncDirectory: false` leaves out the directory's fsync after the rename: a crash may
    /// then keep the previous version, still never a torn one.
    /// `temporaryPath` replaces the default `PATH.tmp.PID` (which the state lock's holder
    /// removes as a crashed writer's): for a writer that does not hold that lock.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644,
                             syncDirectory sync: Bool = true, temporaryPath: String? = nil) throws {
        try write(bytes, to: Array(path.utf8), mode: mode, syncDirectory: sync,
                  temporaryPath: temporaryPath.map { Array($0.utf8) })
    }

    /// `write(_:to:mode:)` for a path held as bytes (a name that is not UTF-8 included).
    public static func write(_ bytes: [UInt8], to path: [UInt8], mode: mode_t = 0o644,
                             syncDirectory sync: Bool = true, temporaryPath: [UInt8]? = nil) throws {
        try write(to: path, mode: mode, syncDirectory: sync, temporaryPath: temporaryPath) { emit in try emit(bytes) }
    }

    /// The same, the content written as `body` hands it over piece by piece (a big file is
    /// never held whole in memory).
    public static func write(to path: String, mode: mode_t = 0o644, syncDirectory sync: Bool = true,
                             temporaryPath: String? = nil,
                             _ body: (_ emit: ([UInt8]) throws -> Void) throws -> Void) throws {
        try write(to: Array(path.utf8), mode: mode, syncDirectory: sync,
                  temporaryPath: temporaryPath.map { Array($0.utf8) }, body)
    }

    /// `write(to:mode:syncDirectory:temporaryPath:_:)` for a path held as bytes: the temp file
    /// is `PATH.tmp.PID` beside it, and no byte is decoded on the way to the syscalls.
    public static func write(to path: [UInt8], mode: mode_t = 0o644, syncDirectory sync: Bool = true,
                             temporaryPath: [UInt8]? = nil,
                             _ body: (_ emit: ([UInt8]) throws -> Void) throws -> Void) throws {
        let tmp = temporaryPath ?? path + Array(".tmp.\(getpid())".utf8)
        let fd = withCPath(tmp) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode) }
        if fd < 0 { throw DriftError(.io, path: tmp, "cannot create", errno: .current) }
        var ok = false
        defer {
            if !ok { _ = withCPath(tmp) { unlink($0) } }
        }
        do {
            defer { close(fd) }
            try body { try writeAll(fd, $0, path: path) }
            if fchmod(fd, mode) != 0 { throw DriftError(.io, path: path, "chmod failed", errno: .current) }
            if fsync(fd) != 0 { throw DriftError(.io, path: path, "fsync failed", errno: .current) }
        }
        FaultInjection.point()
        let renamed = withCPath(tmp) { t in withCPath(path) { rename(t, $0) } }
        if renamed != 0 { throw DriftError(.io, path: path, "rename failed", errno: .current) }
        ok = true
        if sync { syncDirectory(of: path) }
    }

    /// `write(_:to:mode:)` for a path held as bytes (kept for its callers).
    public static func write(_ bytes: [UInt8], toPath path: [UInt8], mode: mode_t = 0o644) throws {
        try write(bytes, to: path, mode: mode)
    }

    /// Makes the rename durable.
    public static func syncDirectory(of path: String) {
        syncDirectory(of: Array(path.utf8))
    }

    /// `syncDirectory(of:)` of a byte path.
    public static func syncDirectory(of path: [UInt8]) {
        let dir = path.lastIndex(of: UInt8(ascii: "/")).map { $0 == 0 ? [UInt8(ascii: "/")] : Array(path[..<$0]) }
        let fd = withCPath(dir ?? [UInt8(ascii: ".")]) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    /// Creates a directory and its parents with `mode`; fine if it exists as a directory.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws {
        try makeDirectory(Array(path.utf8), mode: mode)
    }

    /// `makeDirectory` of a byte path.
    public static func makeDirectory(_ path: [UInt8], mode: mode_t = 0o755) throws {
        var st = stat()
        if withCPath(path, { lstat($0, &st) }) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw DriftError(.io, path: path, "exists and is not a directory")
            }
            return
        }
        if let slash = path.lastIndex(of: UInt8(ascii: "/")), slash != 0 {
            try makeDirectory(Array(path[..<slash]), mode: 0o755)
        }
        if withCPath(path, { mkdir($0, mode) }) != 0 && errno != EEXIST {
            throw DriftError(.io, path: path, "cannot create directory", errno: .current)
        }
    }
}

/// Crash points for the fault tests: armed with `arm(killAtWrite: N)`, the process SIGKILLs
/// itself at the Nth atomic write, after the temp file is complete and before the rename — the
/// worst moment — to prove no file is ever seen torn; or at the Nth log append, with half of
/// the record written (`AppendLog`), to prove a torn record is never read. Unarmed (always, in production) it does
/// nothing; only the command line arms it, from `DRIFT_TEST_KILL_AT`.
public enum FaultInjection {
    private static let state = Mutex<(target: Int, count: Int)>((0, 0))

    /// Arms the crash point.
    /// - Parameter n: the atomic write (1-based) at which to die; 0 disarms.
    public static func arm(killAtWrite n: Int) {
        state.withLock { $0 = (max(0, n), 0) }
    }

    static func point() {
        if due() { kill(getpid(), SIGKILL) }
    }

    /// Counts one write; true when it is the one to die at (an append then tears its record first).
    static func due() -> Bool {
        state.withLock { s -> Bool in
            guard s.target > 0 else { return false }
            s.count += 1
            return s.count == s.target
        }
    }
}
