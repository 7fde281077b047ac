#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where "now" comes from: the system's clock, or a fixed time (tests, and the CLI's
/// documented `DRIFT_TEST_NOW`). Injected into every run that stamps or ages drift.
public struct Clock: Sendable {
    private let read: @Sendable () -> Date

    /// A clock reading `read` each time.
    public init(_ read: @escaping @Sendable () -> Date) {
        self.read = read
    }

    /// The current time.
    public func now() -> Date { read() }

    /// The system's clock.
    public static let system = Clock { Date() }

    /// A clock that always says `date`.
    public static func fixed(_ date: Date) -> Clock { Clock { date } }
}
