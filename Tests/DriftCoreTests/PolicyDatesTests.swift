import Foundation
import DriftTestSupport
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Deadlines and waiver dates are parsed when the policy loads (in-process, no binary).
@Suite struct PolicyDatesTests {
    static func policy(_ yaml: String) throws -> Policy {
        try Policy.parse(Array(yaml.utf8), file: "p.yaml")
    }

    /// The error text of a policy that must not load.
    static func loadError(_ yaml: String) -> String? {
        do {
            _ = try policy(yaml)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("valid deadlines load typed and keep their spelling", arguments: [
        ("24h", Deadline.duration(86_400)), ("90m", .duration(5400)), ("2d", .duration(172_800)),
        ("3600s", .duration(3600)), ("end-of-day", .endOfDay(zone: "UTC")),
        ("end-of-day Europe/Berlin", .endOfDay(zone: "Europe/Berlin")),
    ])
    func validDeadline(text: String, rule: Deadline) throws {
        let p = try Self.policy("deadline: \(text)\n")
        #expect(p.deadline?.rule == rule && p.deadline?.text == text)
        let seen = try #require(Timestamp.parse("2026-11-30T10:00:00Z"))
        #expect(p.deadline?.due(after: seen) == rule.due(after: seen))
    }

    @Test("no deadline is nil; the scan's overdue flag follows the loaded deadline")
    func overdue() throws {
        #expect(try Self.policy("code: ['*.py']\n").deadline == nil)
        let p = try Self.policy("deadline: 24h\n")
        let seen = try #require(Timestamp.parse("2026-11-29T10:00:00Z"))
        let c = FileChange(path: Array("a.py".utf8), change: .added, fileClass: .code, secret: false, old: nil,
                           new: nil, firstSeen: seen)
        func report(at now: String) throws -> ScanReport {
            let t = try #require(Timestamp.parse(now))
            return ScanReport(commit: String(repeating: "a", count: 40), root: Array("/w".utf8), host: "h",
                              scannedAt: t, changes: [c], pip: [], issues: [], checked: 1, hashed: 0,
                              deadline: p.deadline?.rule, now: t)
        }
        #expect(try report(at: "2026-11-30T09:59:59Z").summary.overdue == 0)
        #expect(try report(at: "2026-11-30T10:00:00Z").summary.overdue == 1)
    }

    @Test("a malformed deadline is a load error naming the file, line and key", arguments: [
        ("soon", "p.yaml:2: deadline must be like 24h, 90m, 2d or end-of-day [TZ]"),
        ("1e308d", "p.yaml:2: deadline must be like 24h, 90m, 2d or end-of-day [TZ]"),
        ("-3h", "p.yaml:2: deadline must be like 24h, 90m, 2d or end-of-day [TZ]"),
        ("end-of-day Mars/Olympus", "p.yaml:2: deadline names an unknown time zone 'Mars/Olympus' "
            + "(use a tz database name like Europe/Berlin, or UTC)"),
        ("end-of-day ../../etc/passwd", "p.yaml:2: deadline names an unknown time zone '../../etc/passwd' "
            + "(use a tz database name like Europe/Berlin, or UTC)"),
    ])
    func malformedDeadline(text: String, error: String) {
        #expect(Self.loadError("code: ['*.py']\ndeadline: \(text)\n") == error)
    }

    @Test("waivers: a date is the end of that day UTC, a time is exact; valid before, expired after")
    func waiverDates() throws {
        let p = try Self.policy("""
            waivers:
              - {id: "aaaa", reason: "day", expires: "2026-12-31"}
              - {id: "bbbb", reason: "time", expires: "2026-12-31T08:00:00+02:00"}

            """)
        let day = try #require(p.waivers.first)
        let time = try #require(p.waivers.last)
        #expect(day.expiresText == "2026-12-31" && time.expiresText == "2026-12-31T08:00:00+02:00")
        #expect(Timestamp.format(day.expires) == "2026-12-31T23:59:59Z")
        #expect(Timestamp.format(time.expires) == "2026-12-31T06:00:00Z")
        func at(_ s: String) throws -> Date { try #require(Timestamp.parse(s)) }
        #expect(try day.isValid(at: at("2026-12-31T23:59:58Z")))
        #expect(try !day.isValid(at: at("2026-12-31T23:59:59Z")))
        #expect(try time.isValid(at: at("2026-12-31T05:59:59Z")))
        #expect(try !time.isValid(at: at("2026-12-31T06:00:00Z")))
    }

    @Test("a malformed waiver date is a load error naming the file, the line of expires and the waiver", arguments: [
        ("2026-13-01", "p.yaml:4: waiver 'cafe': expires '2026-13-01' is not an RFC 3339 time or a YYYY-MM-DD date"),
        ("2026-02-29", "p.yaml:4: waiver 'cafe': expires '2026-02-29' is not an RFC 3339 time or a YYYY-MM-DD date"),
        ("next week", "p.yaml:4: waiver 'cafe': expires 'next week' is not an RFC 3339 time or a YYYY-MM-DD date"),
        ("2026-12-31T25:00:00Z",
         "p.yaml:4: waiver 'cafe': expires '2026-12-31T25:00:00Z' is not an RFC 3339 time or a YYYY-MM-DD date"),
        ("2026-12-31 \\u001b[31m",
         "p.yaml:4: waiver 'cafe': expires \"2026-12-31 \\033[31m\" is not an RFC 3339 time or a YYYY-MM-DD date"),
    ])
    func malformedWaiver(expires: String, error: String) {
        let yaml = "waivers:\n  - id: \"cafe\"\n    reason: \"r\"\n    expires: \"\(expires)\"\n"
        #expect(Self.loadError(yaml) == error)
    }

    @Test("a waiver without expires still says what it needs")
    func waiverWithoutExpires() {
        #expect(Self.loadError("waivers:\n  - {id: \"cafe\", reason: \"r\"}\n")
            == "p.yaml:2: waiver 'cafe' needs expires as an RFC 3339 time or a YYYY-MM-DD date")
    }
}
