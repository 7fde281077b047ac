import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Formats times once per run of equal times: paths folded into one state summary share one
/// first sighting, so their rows share one string instead of one allocation each (issue 28).
struct TimestampRun {
    private var last: (date: Date, text: String)?

    /// The RFC 3339 text of `d`, the previous call's string when `d` equals its time.
    mutating func format(_ d: Date) -> String {
        if let l = last, l.date == d { return l.text }
        let text = Timestamp.format(d)
        last = (d, text)
        return text
    }
}
