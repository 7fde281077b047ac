#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 3339 UTC timestamps, the only time format drift writes. Own code on the C library's
/// `timegm`/`gmtime_r`: Foundation's date formatters need ICU, which the dist binary leaves out.
public enum Timestamp {
    /// `2026-11-29T03:16:02Z`.
    public static func format(_ d: Date) -> String {
        var t = time_t(d.timeIntervalSince1970.rounded(.down))
        var tm = tm()
        gmtime_r(&t, &tm)
        return "\(digits(Int(tm.tm_year) + 1900, 4))-\(digits(Int(tm.tm_mon) + 1, 2))-\(digits(Int(tm.tm_mday), 2))"
            + "T\(digits(Int(tm.tm_hour), 2)):\(digits(Int(tm.tm_min), 2)):\(digits(Int(tm.tm_sec), 2))Z"
    }

    /// Parses RFC 3339 (with or without fractional seconds) or a bare `YYYY-MM-DD` (end of that day, UTC).
    public static func parse(_ s: String) -> Date? {
        let b = Array(s.utf8)
        guard b.count >= 10, let year = number(b, 0, 4), b[4] == 0x2D, let month = number(b, 5, 2), b[7] == 0x2D,
              let day = number(b, 8, 2), (1...12).contains(month),
              (1...daysIn(month, year)).contains(day) else { return nil }
        if b.count == 10 {
            return epoch(year, month, day, 0, 0, 0).map { Date(timeIntervalSince1970: $0 + 86_399) }
        }
        guard b.count >= 20, b[10] == 0x54 || b[10] == 0x74, let hour = number(b, 11, 2), b[13] == 0x3A,
              let minute = number(b, 14, 2), b[16] == 0x3A, let second = number(b, 17, 2),
              hour < 24, minute < 60, second <= 60 else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == 0x2E {
            var scale = 0.1
            i += 1
            let start = i
            while i < b.count, (0x30...0x39).contains(b[i]) {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D, let oh = number(b, i + 1, 2), b.count > i + 3, b[i + 3] == 0x3A,
                  let om = number(b, i + 4, 2), oh < 24, om < 60 {
            offset = (oh * 3600 + om * 60) * (b[i] == 0x2D ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count, let t = epoch(year, month, day, hour, minute, min(second, 59)) else { return nil }
        return Date(timeIntervalSince1970: t - Double(offset) + fraction)
    }

    private static func number(_ b: [UInt8], _ at: Int, _ width: Int) -> Int? {
        guard at >= 0, at + width <= b.count else { return nil }
        var n = 0
        for c in b[at..<at + width] {
            guard (0x30...0x39).contains(c) else { return nil }
            n = n * 10 + Int(c - 0x30)
        }
        return n
    }

    private static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func epoch(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int) -> Double? {
        var tm = tm()
        tm.tm_year = Int32(y - 1900)
        tm.tm_mon = Int32(mo - 1)
        tm.tm_mday = Int32(d)
        tm.tm_hour = Int32(h)
        tm.tm_min = Int32(mi)
        tm.tm_sec = Int32(s)
        return Double(timegm(&tm))
    }

    private static func digits(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// A policy deadline: a duration (`24h`, `90m`, `2d`, `3600s`) or `end-of-day [TZ]`.
public enum Deadline: Sendable, Equatable {
    case duration(TimeInterval)
    /// Midnight after first seen, in a zone named as in the tz database (`UTC` when none).
    case endOfDay(zone: String)

    public static func parse(_ s: String) -> Deadline? {
        let t = s.trimmingSpaces()
        if t.hasPrefix("end-of-day") {
            let rest = t.dropFirst("end-of-day".count).trimmingSpaces()
            if rest.isEmpty || rest == "UTC" { return .endOfDay(zone: "UTC") }
            guard ZoneClock.exists(rest) else { return nil }
            return .endOfDay(zone: rest)
        }
        let units: [(String, Double)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        for (u, m) in units where t.hasSuffix(u) {
            // Bounded: at most about a century, never inf or nan.
            guard let n = Double(t.dropLast()), n > 0, n.isFinite, n * m <= 3.2e9 else { return nil }
            return .duration(n * m)
        }
        return nil
    }

    /// When drift first seen at `firstSeen` becomes overdue.
    public func due(after firstSeen: Date) -> Date {
        switch self {
        case .duration(let d): return firstSeen.addingTimeInterval(d)
        case .endOfDay(let zone):
            return ZoneClock.nextMidnight(after: firstSeen, zone: zone) ?? firstSeen.addingTimeInterval(86_400)
        }
    }
}
