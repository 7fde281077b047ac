/// When the watcher records data files during a flood of them (incident 12, F15 and F3).
///
/// Every batch records a journal snapshot of all the drift, so a slow bulk unpack into a data
/// path (`tar x` of 50,000 files over 15 s) recorded one growing snapshot per batch: dozens of
/// snapshots of up to 50,000 paths, CPU quadratic in the unpack's length. While data events keep
/// arriving in a flood, pending data paths are held: recorded at most once per `interval`, and
/// once the flood has been quiet for `quiet`. Nothing else is held: a code, config or secret
/// path (or a directory an event below it made one of those) is batched as it settles, ahead of
/// the held data, so a hotfix saved during the unpack is journaled as promptly as a lone edit.
/// A held path is not in state.json yet, so no verb claims it recorded; a scan that asks the
/// watcher takes everything pending, held or not, and so does a stop.
struct FloodPacing {
    /// Data events (of data-class, non-secret paths) in one burst that make it a flood: a few
    /// files written by hand are batched as before.
    static let floodEvents = 256
    /// While a flood goes on, its data is recorded at most once per this many seconds...
    static let interval = 30.0
    /// ...and once no data event came for this long (the burst is over).
    static let quiet = 2.0

    /// When the current window began: the burst's first data event, then each time held data went.
    private var windowStart: Double?
    /// Data events since the burst began.
    private var events = 0
    private var lastDataEvent = -Double.infinity

    /// One event of a data-class, non-secret path.
    mutating func noteData(at now: Double) {
        if now - lastDataEvent >= Self.quiet {
            windowStart = now
            events = 0
        }
        events += 1
        lastDataEvent = now
    }

    /// Whether pending data paths wait at `now`.
    func holding(at now: Double) -> Bool {
        heldUntil(now) != nil
    }

    /// Until when pending data paths wait (nil: they go as they settle).
    func heldUntil(_ now: Double) -> Double? {
        guard let w = windowStart, events >= Self.floodEvents else { return nil }
        let until = min(lastDataEvent + Self.quiet, w + Self.interval)
        return now < until ? until : nil
    }

    /// A batch took the held data while the flood goes on: the next window starts now.
    mutating func released(at now: Double) {
        guard events >= Self.floodEvents, now - lastDataEvent < Self.quiet else { return }
        windowStart = now
    }
}
