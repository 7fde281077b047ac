#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one formatter of ages and durations for people (`3d 4h`, `2h 5m`, `7m`, `12s`).
public enum AgeText {
    /// The two spellings in use; each is an interface of its own output.
    public enum Style: Sendable {
        /// `drift status` and the watcher lines: `3d 4h`, `2h 5m`, `7m`, `12s`; never negative.
        case spaced
        /// `drift gate`'s `age`: `3d4h`, `2h5m`, `7m` (under a minute is `0m`).
        case compact
    }

    /// An age in whole seconds, the larger unit and the next one down.
    /// - Parameters:
    ///   - seconds: the age; `spaced` shows a negative age as `0s`.
    ///   - style: the spelling.
    /// - Returns: the age as text.
    public static func format(seconds: Int, style: Style = .spaced) -> String {
        let s = style == .spaced ? max(0, seconds) : seconds
        let gap = style == .spaced ? " " : ""
        if s >= 86_400 { return "\(s / 86_400)d\(gap)\((s % 86_400) / 3600)h" }
        if s >= 3600 { return "\(s / 3600)h\(gap)\((s % 3600) / 60)m" }
        if s >= 60 || style == .compact { return "\(s / 60)m" }
        return "\(s)s"
    }

    /// An interval (fractions of a second dropped), spelled `spaced`.
    public static func format(_ interval: TimeInterval) -> String {
        format(seconds: interval.isFinite ? Int(max(-1e15, min(1e15, interval))) : 0)
    }
}
