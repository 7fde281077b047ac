import ArgumentParser

/// Bounds of numeric flags: a hostile or mistyped value is one `drift: …` line, exit 2,
/// never a trap in the arithmetic that uses it.
enum FlagBounds {
    /// `--wait`: finite seconds, 0 to one day.
    static func wait(_ seconds: Double) throws {
        guard seconds.isFinite, seconds >= 0, seconds <= 86_400 else {
            throw ValidationError("--wait must be a number of seconds from 0 to 86400")
        }
    }
}
