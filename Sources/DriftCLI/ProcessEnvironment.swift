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

    /// `$NAME`, nil when unset or empty.
    static func value(_ name: String) -> String? {
        values[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The system clock, or `$DRIFT_TEST_NOW` (RFC 3339) when set: the test suite runs the
    /// binary at fixed times to age drift past its deadlines. Never set it in production.
    static var clock: Clock {
        if let s = value("DRIFT_TEST_NOW"), let d = Timestamp.parse(s) { return .fixed(d) }
        return .system
    }

    /// Arms the fault tests' crash point from `$DRIFT_TEST_KILL_AT=N` (see `FaultInjection`).
    static func armTestHooks() {
        if let s = value("DRIFT_TEST_KILL_AT"), let n = Int(s) { FaultInjection.arm(killAtWrite: n) }
    }
}
