import Foundation

/// RFC 3339 UTC timestamps, the only time format drift writes.
public enum Timestamp {
    /// The current time, or `DRIFT_TEST_NOW` (RFC 3339) when set — a test-only clock.
    public static func now() -> Date {
        if let s = ProcessInfo.processInfo.environment["DRIFT_TEST_NOW"], let d = parse(s) { return d }
        return Date()
    }

    /// `2026-11-29T03:16:02Z`.
    public static func format(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d)
    }

    /// Parses RFC 3339 (with or without fractional seconds) or a bare `YYYY-MM-DD` (end of that day, UTC).
    public static func parse(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withFullDate]
        f.timeZone = TimeZone(identifier: "UTC")
        if let d = f.date(from: s) { return d.addingTimeInterval(86_399) }
        return nil
    }
}

/// A policy deadline: a duration (`24h`, `90m`, `2d`, `3600s`) or `end-of-day [TZ]`.
public enum Deadline: Sendable, Equatable {
    case duration(TimeInterval)
    case endOfDay(TimeZone)

    public static func parse(_ s: String) -> Deadline? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("end-of-day") {
            let rest = t.dropFirst("end-of-day".count).trimmingCharacters(in: .whitespaces)
            if rest.isEmpty { return .endOfDay(TimeZone(identifier: "UTC")!) }
            guard let tz = TimeZone(identifier: rest) else { return nil }
            return .endOfDay(tz)
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
        case .endOfDay(let tz):
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = tz
            let start = cal.startOfDay(for: firstSeen)
            return cal.date(byAdding: .day, value: 1, to: start) ?? firstSeen.addingTimeInterval(86_400)
        }
    }
}
