import DriftCore
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What drift takes from its environment, read here and handed down (the domain reads none).
enum ProcessEnvironment {
    static var values: [String: String] { ProcessInfo.processInfo.environment }

    /// `$NAME`, nil when unset or empty. One `getenv`: `values` decodes the whole environment
    /// into a dictionary, a cost every run paid at start-up for each test hook it looked up.
    static func value(_ name: String) -> String? {
        guard let raw = RawEnvironment.value(name), !raw.isEmpty else { return nil }
        return String(decoding: raw, as: UTF8.self)
    }

    /// `$NAME` holding a path (`DRIFT_STATE`, `DRIFT_MANIFEST`, `DRIFT_PUBLIC_KEY`), as set (a name that
    /// is not UTF-8 included, never repaired), nil when unset or empty.
    static func pathBytes(_ name: String) -> [UInt8]? {
        guard let raw = RawEnvironment.value(name), !raw.isEmpty else { return nil }
        return raw
    }

    /// The system clock, or `$DRIFT_TEST_NOW` (RFC 3339) when set: the test suite runs the
    /// binary at fixed times to age drift past its deadlines. Never set it in production.
    static var clock: Clock {
        if let s = value("DRIFT_TEST_NOW"), let d = Timestamp.parse(s) { return .fixed(d) }
        return .system
    }

    /// Where the container's main process keeps its environment (Docker/Vast.ai `-e`
    /// variables live there; cron jobs and supervisord programs do not inherit them).
    /// `$DRIFT_TEST_PID1_ENVIRON` points the test suite at a file of its own.
    static var mainProcessEnviron: String { value("DRIFT_TEST_PID1_ENVIRON") ?? "/proc/1/environ" }

    /// The credential file examples/vast-onstart.sh writes for cron's pushes; a refused ssh host
    /// key names it when it is there and `--credentials` was not given.
    /// `$DRIFT_TEST_PUSH_CREDENTIALS` points the test suite at a file of its own.
    static var pushCredentialsFile: String {
        value("DRIFT_TEST_PUSH_CREDENTIALS") ?? "/etc/drift-push/credentials"
    }

    /// supervisord configuration read for `environment=` lines: `$DRIFT_SUPERVISOR_CONF`
    /// (`:`-separated files or directories) or Debian's and upstream's usual places.
    /// A file whose name is not UTF-8 is read like any other (supervisord's `[include]` globs
    /// take it), by its bytes; so is the variable itself (`RawEnvironment`).
    static var supervisorConfigs: [[UInt8]] {
        let set = RawEnvironment.value("DRIFT_SUPERVISOR_CONF").flatMap { $0.isEmpty ? nil : $0 }
        let spec = set ?? Array(
            "/etc/supervisor/supervisord.conf:/etc/supervisor/conf.d:/etc/supervisord.conf:/etc/supervisord.d".utf8)
        var files: [[UInt8]] = []
        for item in spec.split(separator: UInt8(ascii: ":")).map({ Array($0) }) {
            if let names = directoryEntries(item) {
                let configs = names.filter { $0.hasSuffix(text: ".conf") || $0.hasSuffix(text: ".ini") }
                files += configs.sorted(by: PathBytes.less).map { PathBytes.join(item, $0) }
            } else {
                files.append(item)
            }
        }
        return files
    }

    /// Every variable of drift's environment, the main process's and supervisord programs':
    /// the scan keeps the values of those whose names the policy calls secret (in memory
    /// only). A source that cannot be read (PID 1's environment needs root) is skipped.
    static func secretEnvironment() -> SecretEnvironment {
        var env = SecretEnvironment()
        // drift as PID 1 (`docker run -e KEY=… img drift watch`) is the main process: its own
        // variables are the ones a later run from elsewhere must still be able to read.
        let own: SecretEnvironment.Origin = SystemProcess.currentID == 1 ? .mainProcess : .drift
        for (k, v) in values {
            env.variables.append(.init(name: Array(k.utf8), value: Array(v.utf8), origin: own))
        }
        env.mainProcessEnviron = Array(mainProcessEnviron.utf8)
        if SystemProcess.currentID != 1, let bytes = try? readWholeFile(mainProcessEnviron, limit: 4 << 20) {
            env.addEnviron(bytes, origin: .mainProcess)
        }
        for f in supervisorConfigs {
            if let bytes = try? readWholeFile(f, limit: 4 << 20) { env.addSupervisordConfig(bytes) }
        }
        return env
    }

    /// Said once per scan or export when drift knows no secret at all.
    static let noSecretSourcesNote = "drift: note: no secret sources: no secret-class file in the workspace and no "
        + "secret-named variable in drift's, the main process's or supervisord's environment; only credentials of "
        + "known formats are withheld from code (docs/secrets.md)\n"

    /// Arms the fault tests' crash point from `$DRIFT_TEST_KILL_AT=N` (see `FaultInjection`).
    static func armTestHooks() {
        if let s = value("DRIFT_TEST_KILL_AT"), let n = Int(s) { FaultInjection.arm(killAtWrite: n) }
    }
}
