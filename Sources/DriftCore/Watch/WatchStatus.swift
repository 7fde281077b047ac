import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `SDIR/watch.json`: what a running `drift watch` tells `drift status` (docs/state.md).
/// Written by the watcher alone (it holds `SDIR/watch.lock`), atomically, never under the state lock.
public struct WatchStatus: Codable, Sendable {
    static let schema = "drift.watch/1"
    static let fileName = "watch.json"

    var schema = WatchStatus.schema
    var pid: Int32
    /// The process start time in clock ticks since boot (`/proc/PID/stat` field 22), so a
    /// reused pid is not taken for the watcher.
    var startTicks: UInt64?
    public var started: String
    var updated: String
    /// `starting`, `watching` or `stopped`.
    var phase: String
    var watchedDirectories: Int = 0
    /// Directories that could not be watched (limit reached, or unreadable).
    var unwatchedDirectories: Int = 0
    var degraded = false
    var degradedReasons: [String] = []
    /// Seconds between full scans now (`--rescan-every`, shorter while degraded).
    var fullScanEverySeconds: Int
    var settleMilliseconds: Int
    var lastEvent: String?
    var lastBatch: String?
    var lastFullScan: String?
    var batches = 0
    var fullScans = 0
    var overflows = 0
    /// Files over a batch's hash budget whose hash is under way apart (issue 28).
    var examining: Int?
    public var stopped: String?

    enum CodingKeys: String, CodingKey {
        case schema, pid, started, updated, phase, degraded, batches, overflows, stopped, examining
        case startTicks = "start_ticks"
        case watchedDirectories = "watched_directories"
        case unwatchedDirectories = "unwatched_directories"
        case degradedReasons = "degraded_reasons"
        case fullScanEverySeconds = "full_scan_every_seconds"
        case settleMilliseconds = "settle_milliseconds"
        case lastEvent = "last_event"
        case lastBatch = "last_batch"
        case lastFullScan = "last_full_scan"
        case fullScans = "full_scans"
    }

    /// Writes `watch.json` by rename (temp name without `.tmp.`: the state lock's cleanup
    /// of crashed writers' temp files must not race this writer, which does not hold it).
    public func write(to state: StateDirectory) throws {
        let path = state.file(Self.fileName)
        // Only `drift status` reads it, and a crash stops the watcher it describes anyway:
        // no directory fsync on every batch.
        try AtomicFile.write(try JSONCoding.encode(self), to: path, mode: 0o600, syncDirectory: false,
                             temporaryPath: path.appending(text: ".new"))
    }

    public static func read(_ state: StateDirectory) -> WatchStatus? {
        let file = state.file(fileName)
        // `try?`: absent or damaged both mean "no watcher to ask": a scan then walks for itself
        // and `drift status` says no watcher is running; the watcher rewrites the file each batch.
        guard let b = try? readWholeFile(file, limit: 1 << 20, followSymlinks: false) else { return nil }
        return try? JSONDecoder().decode(WatchStatus.self, from: Data(b))
    }

    /// Whether the process that wrote this is still alive (same pid, same start time).
    var isAlive: Bool {
        if phase == "stopped" { return false }
        guard SystemProcess.exists(pid) else { return false }
        guard let want = startTicks, let have = Self.startTicks(of: pid) else { return true }
        return want == have
    }

    /// Field 22 of `/proc/PID/stat`; nil without /proc.
    static func startTicks(of pid: Int32) -> UInt64? {
        guard let b = try? readWholeFile("/proc/\(pid)/stat", limit: 4096) else { return nil }
        // The command name (field 2) may hold spaces and parentheses: count from its last ')'.
        guard let close = b.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = b[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state), so field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        return UInt64(String(decoding: fields[19], as: UTF8.self))
    }

    /// The `watcher` lines of `drift status`.
    static func statusLines(_ state: StateDirectory, now: Date) -> String {
        let pad = "                "
        guard let w = read(state) else {
            return "  watcher       not running (no drift watch has used this state dir)\n"
        }
        func ago(_ s: String?) -> String {
            guard let s, let d = Timestamp.parse(s) else { return "never" }
            return "\(s) (\(AgeText.format(now.timeIntervalSince(d))) ago)"
        }
        if w.phase == "stopped" {
            return "  watcher       not running (pid \(w.pid) stopped \(w.stopped ?? w.updated))\n"
        }
        if !w.isAlive {
            return "  watcher       not running: pid \(w.pid) (started \(w.started)) is gone without stopping "
                + "(killed?); last batch \(w.lastBatch ?? "none"); its next start catches up with a full scan\n"
        }
        let first = w.phase == "starting" ? " (first scan)" : ""
        var out = "  watcher       running, pid \(w.pid) since \(w.started)\(first)\n"
        out += pad + "\(w.watchedDirectories) directories watched; last event \(ago(w.lastEvent)); "
            + "\(w.batches) batches, \(w.fullScans) full scans\n"
        let every = DurationText.render(Int64(w.fullScanEverySeconds) * 1000)
        if w.degraded {
            out += pad + "DEGRADED: \(w.degradedReasons.joined(separator: "; "))\n"
            out += pad + "full scan every \(every) while degraded\n"
        } else {
            out += pad + "not degraded; safety-net full scan every \(every)\n"
        }
        return out
    }
}
