#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Local midnight in a named time zone through the C library's tz database reader (FoundationEssentials
/// knows only UTC without ICU). The zone files come from the system (`tzdata`, under `$TZDIR` or
/// /usr/share/zoneinfo); `TZ` is process-wide, so every use holds one lock and restores it.
enum ZoneClock {
    private static let lock = Mutex(())

    private static var zoneDirectory: String {
        ProcessInfo.processInfo.environment["TZDIR"] ?? "/usr/share/zoneinfo"
    }

    /// Whether `name` is a zone file in the tz database (no absolute or `..` names).
    static func exists(_ name: String) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.hasPrefix("/"),
              !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return false }
        var st = stat()
        return stat(zoneDirectory + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// The first local midnight in `zone` strictly after `date`.
    static func nextMidnight(after date: Date, zone: String) -> Date? {
        lock.withLock { _ -> Date? in
            let saved = getenv("TZ").map { String(cString: $0) }
            setenv("TZ", zone == "UTC" ? "UTC0" : ":" + zone, 1)
            tzset()
            defer {
                if let saved { setenv("TZ", saved, 1) } else { unsetenv("TZ") }
                tzset()
            }
            var t = time_t(date.timeIntervalSince1970.rounded(.down))
            var tm = tm()
            guard localtime_r(&t, &tm) != nil else { return nil }
            tm.tm_mday += 1
            tm.tm_hour = 0
            tm.tm_min = 0
            tm.tm_sec = 0
            tm.tm_isdst = -1
            let next = mktime(&tm)
            return next == -1 ? nil : Date(timeIntervalSince1970: Double(next))
        }
    }
}
