import CSys
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Writes to the standard streams with `write(2)` (no shared `FILE *` under strict concurrency).
public enum Output {
    public static func stdout(_ s: String) { write(fd: 1, Array(s.utf8)) }
    public static func stdout(bytes: [UInt8]) { write(fd: 1, bytes) }
    public static func stderr(_ s: String) { write(fd: 2, Array(s.utf8)) }

    static func write(fd: Int32, _ bytes: [UInt8]) {
        // A closed pipe or full disk on stdout/stderr has no one left to tell.
        try? writeAll(fd, bytes, path: fd == 1 ? "stdout" : "stderr")
    }

    /// Colour only on a terminal, and never when `NO_COLOR` is set.
    public static func useColor(fd: Int32) -> Bool {
        if let v = ProcessInfo.processInfo.environment["NO_COLOR"], !v.isEmpty { return false }
        if ProcessInfo.processInfo.environment["TERM"] == "dumb" { return false }
        return isTerminal(fd: fd)
    }

    /// Whether `fd` is a terminal (`isatty(3)`).
    public static func isTerminal(fd: Int32) -> Bool { isatty(fd) == 1 }
}

/// Facts about the machine and the process's environment that the layers above ask for.
public enum SystemInfo {
    /// This machine's host name (`$DRIFT_HOST` overrides it), quoted like a path.
    public static func hostName() -> String {
        // Quoted like a path: the name lands in trailers and text, so it may not hold a newline.
        if let h = ProcessInfo.processInfo.environment["DRIFT_HOST"], !h.isEmpty { return PathBytes.display(text: h) }
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return "unknown-host" }
        return PathBytes.display(text: cBufferString(buf))
    }

    /// The kernel's id of this boot (`/proc/sys/kernel/random/boot_id`), shared by every
    /// container on the machine; nil when it cannot be read. Read once a process: it cannot
    /// change while the process lives, and `drift watch` asks on every batch.
    public static func bootID() -> String? { cachedBootID }

    private static let cachedBootID: String? = readBootID()

    private static func readBootID() -> String? {
        guard let bytes = try? readWholeFile("/proc/sys/kernel/random/boot_id", limit: 128) else { return nil }
        // One line of hex and dashes: anything else is not an id.
        let id = bytes.prefix { $0 != 0x0A }
        let allowed = Set("0123456789abcdef-".utf8)
        guard !id.isEmpty, id.allSatisfy(allowed.contains) else { return nil }
        return String(decoding: id, as: UTF8.self)
    }
}

/// The C library's heap.
public enum Heap {
    /// Returns freed heap pages to the kernel (`malloc_trim(0)`): a long-running process
    /// (`drift watch`) keeps its RSS at what it holds, not at its peak.
    public static func trim() { _ = drift_malloc_trim() }

    /// Makes threads started from now on share `count` malloc arenas (`M_ARENA_MAX`) instead
    /// of one each: memory a walking or hashing thread freed is then reused by the others and
    /// returned by `trim`, not kept in an arena of its own (`drift watch`'s peak RSS).
    public static func limitArenas(to count: Int32) { _ = drift_malloc_arena_max(count) }
}
