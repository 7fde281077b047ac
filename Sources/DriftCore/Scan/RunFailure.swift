import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The last failure of a verb that runs unattended (cron's `scan` and `push`, `export`):
/// `SDIR/failed-<verb>.json`, removed by that verb's next success. `drift status` lists them
/// and every metrics file drift writes carries them, so a cron job that keeps failing is
/// seen without reading cron's mail (docs/operations.md, "Failures").
public struct RunFailure: Codable, Sendable, Equatable {
    /// The verbs whose failures are kept.
    public enum Verb: String, Codable, Sendable, CaseIterable {
        case scan, export, push
    }

    var schema = "drift.failure/1"
    public var verb: Verb
    public var time: String
    public var exitCode: Int32
    public var message: String

    enum CodingKeys: String, CodingKey {
        case schema, verb, time, message
        case exitCode = "exit_code"
    }

    public init(verb: Verb, time: String, exitCode: Int32, message: String) {
        self.verb = verb
        self.time = time
        self.exitCode = exitCode
        self.message = DriftError.neutralised(message)
    }

    static func fileName(_ verb: Verb) -> String { "failed-\(verb.rawValue).json" }

    /// Records a failure, best effort: only into a state dir that already exists as a
    /// directory and lies outside `root` (drift never writes under the scanned root, and a
    /// failed run creates nothing). Never throws: the failure itself is what gets reported.
    /// - Parameter root: the workspace root the run was about, when known.
    public static func record(_ f: RunFailure, state: StateDirectory, root: [UInt8]?) {
        guard (try? FileSystem.lstat(state.path))?.kind == .directory else { return }
        if let root, (try? WriteTarget.refuseInside(root: root, targetBytes: state.path, what: "state dir")) == nil {
            return
        }
        guard let bytes = try? JSONCoding.encode(f) else { return }
        // By rename without the state lock (a failed run may not have it): the temp name has no
        // `.tmp.`, so the lock holder's cleanup of crashed writers' temp files never races it.
        let path = state.file(fileName(f.verb))
        try? AtomicFile.write(bytes, to: path, mode: 0o600, syncDirectory: false,
                              temporaryPath: path.appending(text: ".new"))
    }

    /// Forgets a verb's failure after it succeeded.
    public static func clear(_ verb: Verb, state: StateDirectory) {
        try? FileSystem.unlink(state.file(fileName(verb)))
    }

    /// The exit code of a failure whose record could not be read (`all`).
    public static let unknownExitCode: Int32 = -1

    /// Every verb's last failure still standing, in verb order. No record: no failure. A
    /// record that cannot be read or decoded is a failure all the same, said so (exit code
    /// `unknownExitCode`, time `unknown`), never skipped: it was written because a run failed.
    public static func all(_ state: StateDirectory) -> [RunFailure] {
        Verb.allCases.compactMap { v in
            let file = state.file(fileName(v))
            if FileSystem.isAbsent(file) { return nil }
            do {
                let b = try readWholeFile(file, limit: 64 << 10, followSymlinks: false)
                let f = try JSONDecoder().decode(RunFailure.self, from: Data(b))
                if f.verb == v { return f }
                return RunFailure(verb: v, time: "unknown", exitCode: unknownExitCode,
                                  message: PathBytes.display(file)
                                      + ": failure record names another verb (\(f.verb.rawValue))")
            } catch {
                return RunFailure(verb: v, time: "unknown", exitCode: unknownExitCode,
                                  message: PathBytes.display(file)
                                      + ": failure record is unreadable (\(errorText(error)))")
            }
        }
    }

    /// `drift_last_run_failed{verb}` and `drift_last_failure_timestamp_seconds{verb}` for every
    /// verb (zeros included, so alerts compare plainly).
    public static func metrics(_ failures: [RunFailure]) -> String {
        var failed = "# HELP drift_last_run_failed 1 when the last run of this verb failed (drift status shows why).\n"
            + "# TYPE drift_last_run_failed gauge\n"
        var when = "# HELP drift_last_failure_timestamp_seconds Unix time of that failure (0: none standing).\n"
            + "# TYPE drift_last_failure_timestamp_seconds gauge\n"
        for v in Verb.allCases {
            let f = failures.first { $0.verb == v }
            let t = f.flatMap { Timestamp.parse($0.time) }.map { Int64($0.timeIntervalSince1970.rounded()) } ?? 0
            failed += "drift_last_run_failed{verb=\"\(v.rawValue)\"} \(f == nil ? 0 : 1)\n"
            when += "drift_last_failure_timestamp_seconds{verb=\"\(v.rawValue)\"} \(t)\n"
        }
        return failed + when
    }

    /// One `--log` line for a failed run: `{"error":…,"exit_code":2,"time":…,"verb":"scan"}`.
    public func logLine() throws -> [UInt8] {
        struct Line: Encodable {
            var time: String
            var verb: String
            var exitCode: Int32
            var error: String
            enum CodingKeys: String, CodingKey {
                case time, verb, error
                case exitCode = "exit_code"
            }
        }
        return try JSONCoding.encode(Line(time: time, verb: verb.rawValue, exitCode: exitCode, error: message),
                                     pretty: false)
    }

    /// The `failures` lines of `drift status`.
    static func statusLines(_ state: StateDirectory, now: Date) -> String {
        let failures = all(state)
        if failures.isEmpty { return "  failures      none standing (scan, export, push)\n" }
        var out = ""
        for (i, f) in failures.enumerated() {
            let ago = Timestamp.parse(f.time).map { " (\(AgeText.format(now.timeIntervalSince($0))) ago)" } ?? ""
            let label = i == 0 ? "  failures      " : "                "
            let why = DriftError.neutralised(f.message)
            out += label + "\(f.verb.rawValue) FAILED \(f.time)\(ago), exit \(f.exitCode): \(why)\n"
        }
        return out
    }
}
