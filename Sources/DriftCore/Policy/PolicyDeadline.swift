import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The policy's `deadline`, parsed when the policy loads.
public struct PolicyDeadline: Sendable, Equatable {
    /// When drift becomes overdue.
    var rule: Deadline
    /// As the policy spells it (`drift status` shows it back).
    public var text: String

    /// Parses a `deadline` value.
    /// - Parameter text: the value as the policy spells it.
    /// - Throws: `DriftError` with the problem (the caller adds the file, line and key).
    public init(parsing text: String) throws {
        guard let rule = Deadline.parse(text) else {
            let t = text.trimmingSpaces()
            if t.hasPrefix("end-of-day ") {
                let zone = t.dropFirst("end-of-day ".count).trimmingSpaces()
                throw DriftError(.policyInvalid, "deadline names an unknown time zone \(quoted(zone)) "
                    + "(use a tz database name like Europe/Berlin, or UTC)")
            }
            throw DriftError(.policyInvalid, "deadline must be like 24h, 90m, 2d or end-of-day [TZ]")
        }
        self.rule = rule
        self.text = text
    }

    /// When drift first seen at `firstSeen` becomes overdue.
    func due(after firstSeen: Date) -> Date { rule.due(after: firstSeen) }
}

/// A waiver from the policy: drift with this id is accepted until `expires`.
public struct Waiver: Sendable, Equatable {
    public var id: String
    public var reason: String
    /// The instant it stops counting (a bare `YYYY-MM-DD` is the end of that day, UTC).
    public var expires: Date
    /// `expires` as the policy spells it (the gate shows it back).
    var expiresText: String

    /// - Throws: `DriftError` when `expires` is not an RFC 3339 time or a `YYYY-MM-DD` date.
    public init(id: String, reason: String, expires text: String) throws {
        guard let date = Timestamp.parse(text) else {
            throw DriftError(.policyInvalid, "waiver \(quoted(id)): expires \(quoted(text)) "
                + "is not an RFC 3339 time or a YYYY-MM-DD date")
        }
        self.id = id
        self.reason = reason
        expires = date
        expiresText = text
    }

    /// Whether the waiver still counts at `now`.
    func isValid(at now: Date) -> Bool { expires > now }
}

/// A value from the policy in a message: `'24x'`, or git-quoted when it holds odd bytes.
private func quoted(_ s: String) -> String {
    let d = PathBytes.display(text: s)
    return d.hasPrefix("\"") ? d : "'\(d)'"
}
