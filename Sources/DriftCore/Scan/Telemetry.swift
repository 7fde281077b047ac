import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a cron run leaves behind for operators: a JSON log line and Prometheus metrics.
public enum Telemetry {
    /// One JSON line for `--log FILE` (appended).
    public static func logLine(_ r: ScanReport, durationSeconds: Double, exitCode: Int32, now: Date) throws -> [UInt8] {
        struct Line: Encodable {
            var time: String
            var durationSeconds: Double
            var exitCode: Int32
            var clean: Bool
            var commit: String
            var byClass: [String: Int]
            var byChange: [String: Int]
            var pip: Int
            var errors: Int
            var overdue: Int
            var exported: Int
            var oldestAgeSeconds: Int?
            var watcher: WatcherUse?
            enum CodingKeys: String, CodingKey {
                case time, clean, commit, pip, errors, overdue, exported, watcher
                case durationSeconds = "duration_seconds", exitCode = "exit_code"
                case byClass = "by_class", byChange = "by_change", oldestAgeSeconds = "oldest_age_seconds"
            }
        }
        let line = Line(time: Timestamp.format(now), durationSeconds: (durationSeconds * 1000).rounded() / 1000,
                        exitCode: exitCode,
                        clean: r.clean, commit: r.commit, byClass: r.summary.byClass, byChange: r.summary.byChange,
                        pip: r.pip.filter { !$0.allowed }.count, errors: r.errors.count, overdue: r.summary.overdue,
                        exported: r.summary.exported,
                        oldestAgeSeconds: oldestAge(r, now: now), watcher: r.watcher)
        return try JSONCoding.encode(line, pretty: false)
    }

    static func oldestAge(_ r: ScanReport, now: Date) -> Int? {
        r.summary.oldestFirstSeen.flatMap(Timestamp.parse).map { max(0, Int(now.timeIntervalSince($0))) }
    }

    /// Appends with one `write(2)` on an `O_APPEND` descriptor, so concurrent writers never interleave a line.
    public static func append(_ bytes: [UInt8], to path: String) throws {
        try append(bytes, toPath: Array(path.utf8))
    }

    /// `append(_:to:)` for a path held as bytes (`--log` given as a name that is not UTF-8).
    public static func append(_ bytes: [UInt8], toPath path: [UInt8]) throws {
        do { try AppendFile.append(bytes, toPath: path, mode: 0o640) } catch {
            switch error {
            case .open(let e): throw DriftError(.io, path: path, "cannot open the log", errno: e)
            // A hard link would let the log append to a file elsewhere (inside the root).
            case .notPlainFile: throw DriftError(.unsafeTarget, path: path,
                "the log must be a regular file with one link")
            case .write(let e): throw DriftError(.io, path: path, "log write failed", errno: e)
            }
        }
    }

    /// The Prometheus text exposition format, for node_exporter's textfile collector.
    public static func metrics(_ r: ScanReport, durationSeconds: Double, now: Date) -> String {
        func esc(_ s: String) -> String {
            s.replacingEvery("\\", with: "\\\\").replacingEvery("\"", with: "\\\"").replacingEvery("\n", with: "\\n")
        }
        func num(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d) }
        var out = ""
        func metric(_ name: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for s in samples { out += "\(name)\(s.labels.isEmpty ? "" : "{\(s.labels)}") \(num(s.value))\n" }
        }
        metric("drift_info", "Base commit and host of the last scan (always 1).",
               [("commit=\"\(esc(r.commit))\",host=\"\(esc(r.host))\"", 1)])
        var files: [(String, Double)] = []
        // Counted in one pass over the rows' class and change, no row made (`ScanReport.Rows`).
        var counts: [FileClass: [ChangeKind: Int]] = [:]
        for k in 0..<r.rows.count { counts[r.rows.fileClass(k), default: [:]][r.rows.change(k), default: 0] += 1 }
        for cls in FileClass.allCases where cls != .ignore {
            for ch in ChangeKind.allCases {
                let n = counts[cls]?[ch] ?? 0
                files.append(("class=\"\(cls.rawValue)\",change=\"\(ch.rawValue)\"", Double(n)))
            }
        }
        metric("drift_files", "Drifted workspace paths by policy class and change.", files)
        metric("drift_pip", "site-packages drift by change (allowed packages excluded).",
               PipChangeKind.allCases.map { k in
                   ("change=\"\(k.rawValue)\"", Double(r.pip.filter { $0.change == k && !$0.allowed }.count))
               })
        metric("drift_oldest_first_seen_seconds", "Age in seconds of the oldest current drift item (0 when clean).",
               [("", Double(oldestAge(r, now: now) ?? 0))])
        metric("drift_overdue", "Drift items past the policy deadline and not exported in time.",
               [("", Double(r.summary.overdue))])
        metric("drift_exported", "Drifted paths whose current version was exported (clock stopped).",
               [("", Double(r.summary.exported))])
        metric("drift_reconciled", "Drifted paths whose export upstream has taken (scan --upstream).",
               [("", Double(r.summary.reconciled))])
        metric("drift_unexported", "Drifted paths no export covers yet (their deadline clock runs).",
               [("", Double(r.rows.count - r.summary.exported))])
        metric("drift_scan_duration_seconds", "Wall time of the last scan.",
               [("", (durationSeconds * 1000).rounded() / 1000)])
        metric("drift_last_scan_timestamp_seconds", "Unix time of the last scan.",
               [("", now.timeIntervalSince1970.rounded())])
        metric("drift_scan_errors", "Entries the last scan could not read.", [("", Double(r.errors.count))])
        return out
    }
}
