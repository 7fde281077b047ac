import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `drift watch` adds to the scan's `--log` lines and `--metrics` file.
public enum WatchTelemetry {
    /// The watcher's gauges and counters, appended to the scan's metrics.
    public static func metrics(_ w: WatchStatus) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: Double) {
            let v = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(v)\n"
        }
        metric("drift_watch_degraded", "gauge",
               "1 while drift watch relies on full scans "
                   + "(queue overflow, watch limit, unreadable directory, failed batch).",
               w.degraded ? 1 : 0)
        metric("drift_watch_directories", "gauge", "Directories drift watch has an inotify watch on.",
               Double(w.watchedDirectories))
        metric("drift_watch_unwatched_directories", "gauge", "Directories drift watch could not watch.",
               Double(w.unwatchedDirectories))
        let last = w.lastEvent.flatMap(Timestamp.parse).map { $0.timeIntervalSince1970.rounded() } ?? 0
        metric("drift_watch_last_event_timestamp_seconds", "gauge",
               "Unix time of the last filesystem event (0: none yet).", last)
        metric("drift_watch_overflows_total", "counter",
               "inotify queue overflows since drift watch started.", Double(w.overflows))
        metric("drift_watch_full_scans_total", "counter",
               "Full scans since drift watch started (first, periodic, recovery).",
               Double(w.fullScans))
        metric("drift_watch_batches_total", "counter", "Batches of settled paths rescanned since drift watch started.",
               Double(w.batches))
        return out
    }

    /// The running watcher's series (from `SDIR/watch.json`), for a `drift scan --metrics`
    /// writing the file the watcher writes too (the shipped crontab and supervisord program):
    /// whichever writes last, the file keeps `drift_watch_*`, so `drift_watch_degraded` does
    /// not vanish after every cron scan. Empty when no watcher is running (stopped or gone).
    public static func runningWatcherMetrics(_ state: StateDirectory) -> String {
        guard let w = WatchStatus.read(state), w.isAlive else { return "" }
        return metrics(w)
    }

    /// One JSON line for `--log` when the watcher falls back to full scans or hits an error.
    public static func warningLine(_ reason: String, _ message: String, now: Date,
                                   source: String = "watch") throws -> [UInt8] {
        struct Line: Encodable {
            var time: String
            var level = "warning"
            var source: String
            var reason: String
            var message: String
        }
        let line = Line(time: Timestamp.format(now), source: source, reason: reason, message: message)
        return try JSONCoding.encode(line, pretty: false)
    }
}
