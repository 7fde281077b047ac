import DriftGit
import DriftSystem
/// Durations given on the command line (`--settle`, `--rescan-every`): `250ms`, `90s`,
/// `30m`, `1h`, `2d`, or sums like `1h30m`; a bare number is in the flag's own unit.
/// All arithmetic is checked: a value too large for the clock is an error, never a wrap.
public enum DurationText {
    static let units: [(suffix: String, ms: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Milliseconds in `text`, within `min...max`; errors are one sentence naming `flag`.
    public static func milliseconds(_ text: String, flag: String, bareUnitMs: Int64,
                                    min: Int64, max: Int64) throws -> Int64 {
        let example = "like 250ms, 90s, 30m or 1h"
        func bad(_ why: String) -> DriftError { DriftError(.usage, "\(flag) '\(text)': \(why)") }
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw bad("empty; give a duration \(example)") }
        var total: Int64 = 0
        var i = 0
        while i < bytes.count {
            var n: Int64 = 0
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 0x30))
                if o1 || o2 { throw bad("too large") }
                n = a
                i += 1
            }
            guard i > start else { throw bad("not a duration; give one \(example)") }
            let unitStart = i
            while i < bytes.count, bytes[i] >= 0x61, bytes[i] <= 0x7A { i += 1 }
            let suffix = String(decoding: bytes[unitStart..<i], as: UTF8.self)
            let scale: Int64
            if suffix.isEmpty {
                // A bare number only on its own: "1h30" is ambiguous.
                guard start == 0, i == bytes.count else { throw bad("a number needs a unit (ms, s, m, h, d)") }
                scale = bareUnitMs
            } else if let u = units.first(where: { $0.suffix == suffix }) {
                scale = u.ms
            } else {
                throw bad("unknown unit '\(suffix)'; use ms, s, m, h or d")
            }
            let (part, o1) = n.multipliedReportingOverflow(by: scale)
            let (sum, o2) = total.addingReportingOverflow(part)
            if o1 || o2 { throw bad("too large") }
            total = sum
        }
        if total < min { throw bad("too short (at least \(render(min)))") }
        if total > max { throw bad("too long (at most \(render(max)))") }
        return total
    }

    /// `1h`, `90s`, `250ms`: the shortest exact spelling.
    public static func render(_ ms: Int64) -> String {
        for u in units.reversed() where ms >= u.ms && ms % u.ms == 0 { return "\(ms / u.ms)\(u.suffix)" }
        return "\(ms)ms"
    }
}
