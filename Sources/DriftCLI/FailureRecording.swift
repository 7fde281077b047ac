import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

/// Runs a verb that cron runs unattended and keeps its last failure where an operator looks:
/// `SDIR/failed-<verb>.json` (`drift status`, every metrics file), one `--log` line, and for a
/// scan its `--metrics` file. A success (any outcome that is not an error) clears it.
enum FailureRecording {
    struct Target {
        var verb: RunFailure.Verb
        var state: StateDirectory
        /// `--root`, else the root the manifest names (read unverified): nothing is written under it.
        var root: [UInt8]?
        /// `--log` and `--metrics` as the bytes given.
        var log: [UInt8]?
        var metrics: [UInt8]?
    }

    static func run(_ t: Target, _ body: () throws -> Void) throws {
        do {
            try body()
            RunFailure.clear(t.verb, state: t.state)
        } catch let e as ExitCode {
            // An outcome (drift found, nothing to export), not a failure.
            RunFailure.clear(t.verb, state: t.state)
            throw e
        } catch {
            record(error, t)
            throw error
        }
    }

    private static func record(_ error: Error, _ t: Target) {
        let (code, line) = ExitCodes.code(for: error) ?? (ExitCodes.error, DriftError.neutralised("\(error)"))
        let now = ProcessEnvironment.clock.now()
        let f = RunFailure(verb: t.verb, time: Timestamp.format(now), exitCode: code, message: line)
        RunFailure.record(f, state: t.state, root: t.root)
        if let log = t.log, outside(t.root, log, "log file"), let bytes = try? f.logLine() {
            try? Telemetry.append(bytes, toPath: log)
        }
        if let m = t.metrics, outside(t.root, m, "metrics file") {
            var failures = RunFailure.all(t.state).filter { $0.verb != f.verb }
            failures.append(f)
            try? AtomicFile.write(Array(RunFailure.metrics(failures).utf8), toPath: m)
        }
    }

    private static func outside(_ root: [UInt8]?, _ path: [UInt8], _ what: String) -> Bool {
        guard let root else { return true }
        return (try? WriteTarget.refuseInside(root: root, targetBytes: path, what: what)) != nil
    }
}
