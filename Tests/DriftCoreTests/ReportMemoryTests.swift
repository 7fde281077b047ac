import Foundation
import DriftTestSupport
import Testing
@testable import DriftCore
@testable import DriftSystem

/// The report built without a dictionary of every drifted path's duty, and its text written
/// out in pieces (issue 28, memory at a million files): the same bytes as before.
@Suite struct ReportMemoryTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func change(_ path: String, _ seen: Date = now) throws -> FileChange {
        let d = try SHA256Hasher.digest(Array(path.utf8))
        return FileChange(path: Array(path.utf8), change: .added, fileClass: .data, secret: false, old: nil,
                          new: EntryState(kind: .regular, executable: false, size: 1, digest: d, target: nil),
                          firstSeen: seen)
    }

    @Test("a path's duty comes from its own item or the summary covering it, worked out per row")
    func dutyLookup() throws {
        let first = Self.now.addingTimeInterval(-86_400 * 10)
        var state = DriftState(commit: String(repeating: "c", count: 40))
        var summary = DriftState.Item(path: "data/big/", firstSeen: Timestamp.format(first), change: .added,
                                      fileClass: .data)
        summary.count = 1_500
        summary.exportedAt = Timestamp.format(first.addingTimeInterval(60))
        summary.exportId = "drift-1"
        let own = DriftState.Item(path: "data/one.bin", firstSeen: Timestamp.format(first), change: .added,
                                  fileClass: .data)
        state.items = [summary, own]
        let lookup = state.dutyLookup(stop: .export)
        let under = try #require(lookup.duty(Array("data/big/part1/x.bin".utf8)))
        #expect(under.handled && under.exportId == "drift-1" && under.clockStarted == first)
        // Asked again (the memo): the same answer.
        #expect(lookup.duty(Array("data/big/y.bin".utf8)) == under)
        let mine = try #require(lookup.duty(Array("data/one.bin".utf8)))
        #expect(!mine.handled && mine.exportedAt == nil)
        #expect(lookup.duty(Array("other/z.bin".utf8)) == nil)

        let changes = try ["data/big/part1/x.bin", "data/big/y.bin", "data/one.bin", "other/z.bin"]
            .map { try Self.change($0, first) }
        let deadline = Deadline.duration(7 * 86_400)
        let viaLookup = ScanReport(commit: state.commit, root: Array("/w".utf8), host: "h", scannedAt: Self.now,
                                   changes: changes, pip: [], issues: [], checked: 4, hashed: 4,
                                   deadline: deadline, now: Self.now, duty: lookup.duty)
        var table: [[UInt8]: ExportDuty] = [:]
        for c in changes { table[c.path] = lookup.duty(c.path) }
        let viaTable = ScanReport(commit: state.commit, root: Array("/w".utf8), host: "h", scannedAt: Self.now,
                                  changes: changes, pip: [], issues: [], checked: 4, hashed: 4,
                                  deadline: deadline, now: Self.now, duties: table)
        #expect(try JSONCoding.encode(viaLookup) == JSONCoding.encode(viaTable))
        #expect(viaLookup.summary.exported == 2 && viaLookup.summary.overdue == 2)
        #expect(viaLookup.files.map(\.exportId) == ["drift-1", "drift-1", nil, nil])
        #expect(viaLookup.summary.oldestFirstSeen == Timestamp.format(first))
    }

    @Test("the text report handed out in pieces is the whole text, byte for byte")
    func textInPieces() throws {
        var changes: [FileChange] = []
        for k in 0..<3_000 {
            changes.append(try Self.change("data/d\(k % 7)/file-\(k)-" + String(repeating: "n", count: 40)))
        }
        changes.append(try Self.change("code/evil\u{1B}[31m.py"))
        changes.sort { PathBytes.less($0.path, $1.path) }
        let issues = (0..<2_000).map { WalkIssue(path: Array("gone/dir\($0)".utf8), message: "cannot read") }
        let r = ScanReport(commit: String(repeating: "c", count: 40), root: Array("/w".utf8), host: "h",
                           scannedAt: Self.now, changes: changes, pip: [], issues: issues, checked: 1, hashed: 1,
                           deadline: nil, now: Self.now)
        let whole = ReportText.render(r, color: false)
        var pieces: [String] = []
        ReportText.render(r, color: false) { pieces.append($0) }
        #expect(pieces.count > 3)
        #expect(pieces.joined() == whole)
        #expect(pieces.dropLast().allSatisfy { $0.utf8.count > 1 << 16 && $0.utf8.count < 1 << 17 })
        #expect(whole.contains("data (3001)") && whole.contains("errors (2000)"))
    }

    @Test("the journal fingerprint hashed in pieces is the hash of the whole text, as before")
    func fingerprintInPieces() throws {
        var changes: [FileChange] = []
        for k in 0..<3_000 { changes.append(try Self.change("data/d\(k % 7)/file %\(k)-\u{1}x")) }
        changes[5].unstable = true
        changes[6].new = nil
        changes[6].change = .deleted
        var whole = "journal-fp/2\n"
        for c in changes {
            let digest = c.new?.digest?.hex ?? "-"
            let mode = c.new?.gitMode?.octal ?? "-"
            whole += "\(c.change.rawValue) \(PathBytes.escape(c.path)) \(digest) \(mode) \(c.unstable)\n"
        }
        #expect(whole.utf8.count > 4 << 16)
        #expect(try Journal.fingerprint(changes, pip: []) == SHA256Hasher.digest(Array(whole.utf8)))
        #expect(try Journal.fingerprint([], pip: []) == SHA256Hasher.digest(Array("journal-fp/2\n".utf8)))
    }
}
