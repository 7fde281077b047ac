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
        let under = try #require(lookup.duty(try Self.change("data/big/part1/x.bin", first)))
        #expect(under.handled && under.exportId == "drift-1" && under.clockStarted == first)
        // Asked again (the memo): the same answer.
        #expect(lookup.duty(try Self.change("data/big/y.bin", first)) == under)
        let mine = try #require(lookup.duty(try Self.change("data/one.bin", first)))
        #expect(!mine.handled && mine.exportedAt == nil)
        #expect(lookup.duty(try Self.change("other/z.bin", first)) == nil)

        let changes = try ["data/big/part1/x.bin", "data/big/y.bin", "data/one.bin", "other/z.bin"]
            .map { try Self.change($0, first) }
        let deadline = Deadline.duration(7 * 86_400)
        let viaLookup = ScanReport(commit: state.commit, root: Array("/w".utf8), host: "h", scannedAt: Self.now,
                                   changes: changes, pip: [], issues: [], checked: 4, hashed: 4,
                                   deadline: deadline, now: Self.now, duty: lookup.duty)
        var table: [[UInt8]: ExportDuty] = [:]
        for c in changes { table[c.path] = lookup.duty(c) }
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

    @Test("the journal fingerprint hashed in pieces is the hash of its chunks' texts (version 3)")
    func fingerprintInPieces() throws {
        var changes: [FileChange] = []
        for k in 0..<3_000 { changes.append(try Self.change("data/d\(k / 700)/file %\(k)-\u{1}x")) }
        changes[5].unstable = true
        changes[6].new = nil
        changes[6].change = .deleted
        // Chunks: a directory's changes (700 each, over the minimum of 256); the last one 200.
        var whole = "journal-fp/3\n"
        var total = 0
        for chunk in stride(from: 0, to: changes.count, by: 700).map({ changes[$0..<min($0 + 700, changes.count)] }) {
            var text = ""
            for c in chunk {
                let digest = c.new?.digest?.hex ?? "-"
                let mode = c.new?.gitMode?.octal ?? "-"
                text += "\(c.change.rawValue) \(PathBytes.escape(c.path)) \(digest) \(mode) \(c.unstable)\n"
            }
            total += text.utf8.count
            whole += "\(chunk.count) \(try SHA256Hasher.digest(Array(text.utf8)).hex)\n"
        }
        #expect(total > 4 << 16)
        #expect(try Journal.fingerprint(changes, pip: []) == SHA256Hasher.digest(Array(whole.utf8)))
        #expect(try Journal.fingerprint([], pip: []) == SHA256Hasher.digest(Array("journal-fp/3\n".utf8)))
    }
    /// Random drifted paths of every row shape: secret and secret content, links, modes,
    /// types, deletions, names not UTF-8 or with controls, `.git` names, unstable, over the
    /// read limit; under summaries and own items with exports, restarted clocks, pushes,
    /// reconciliations and withheld content.
    static func randomReport(seed: UInt64, lazy: Bool) throws -> ScanReport {
        var rng = StateFoldTests.SplitMix(state: seed)
        let first = now.addingTimeInterval(-86_400 * 10)
        var changes: [FileChange] = []
        var items: [DriftState.Item] = []
        let dirs = ["data/big/", "code/", "conf/", "odd \u{1}/", ".git/", ""]
        var names = Set<[UInt8]>()
        while names.count < 400 {
            var p = Array((dirs[Int.random(in: 0..<dirs.count, using: &rng)] + "f\(names.count)").utf8)
            if Int.random(in: 0..<15, using: &rng) == 0 { p += [0xFF, 0xC2, 0x85] }
            if Int.random(in: 0..<15, using: &rng) == 0 { p += Array("\"\\/\u{7F}\u{85}\u{E9}".utf8) }
            names.insert(p)
        }
        for p in names.sorted(by: PathBytes.less) {
            let kind: FileKind = [.regular, .regular, .symlink, .directory][Int.random(in: 0..<4, using: &rng)]
            func state() throws -> EntryState {
                EntryState(kind: kind, executable: Bool.random(using: &rng),
                           size: Int64.random(in: 0...1 << 40, using: &rng),
                           digest: Bool.random(using: &rng) ? try SHA256Hasher.digest(p) : nil,
                           target: kind == .symlink ? Array("../t\u{1}\(p.count)".utf8) : nil)
            }
            let change = ChangeKind.allCases[Int.random(in: 0..<ChangeKind.allCases.count, using: &rng)]
            let cls = [FileClass.data, .code, .config][Int.random(in: 0..<3, using: &rng)]
            let seen = first.addingTimeInterval(Double(Int.random(in: 0..<3, using: &rng)) * 86_400 * 3)
            var c = FileChange(path: p, change: change, fileClass: cls, secret: Int.random(in: 0..<8, using: &rng) == 0,
                               old: change == .added ? nil : try state(), new: change == .deleted ? nil : try state(),
                               firstSeen: seen,
                               unstable: Int.random(in: 0..<9, using: &rng) == 0,
                               overReadLimit: Int.random(in: 0..<9, using: &rng) == 0)
            if c.secret && Bool.random(using: &rng) { c.secrecy = .content }
            changes.append(c)
            if Int.random(in: 0..<3, using: &rng) == 0 {
                var i = DriftState.Item(path: PathBytes.escape(p), firstSeen: Timestamp.format(c.firstSeen),
                                        change: change, fileClass: cls)
                if Bool.random(using: &rng) {
                    i.exportedAt = Timestamp.format(first.addingTimeInterval(60))
                    i.exportId = "drift-\(Int.random(in: 0..<3, using: &rng))"
                    if Bool.random(using: &rng) { i.exportIdAt = Timestamp.format(first.addingTimeInterval(120)) }
                    if Bool.random(using: &rng) { i.pushedAt = Timestamp.format(first.addingTimeInterval(180)) }
                    if Bool.random(using: &rng) { i.reconciledIn = String(repeating: "e", count: 40) }
                    if Bool.random(using: &rng) { i.exportWithheld = true }
                }
                if Bool.random(using: &rng) { i.clockStarted = Timestamp.format(first.addingTimeInterval(3_600)) }
                items.append(i)
            }
        }
        var summary = DriftState.Item(path: "data/big/", firstSeen: Timestamp.format(first), change: .added,
                                      fileClass: .data, count: 1_500)
        if seed % 2 == 0 {
            summary.exportedAt = Timestamp.format(first.addingTimeInterval(60))
            summary.exportId = "drift-1"
        }
        items = items.filter { !$0.path.hasPrefix("data/big/") } + [summary]
        var st = DriftState(commit: String(repeating: "c", count: 40))
        st.items = StateSummary.sortedByPath(items)
        let lookup = st.dutyLookup(stop: seed % 3 == 0 ? .push : .export)
        let issues = [WalkIssue(path: [0x61, 0xFF], message: "cannot read")]
        return ScanReport(commit: st.commit, root: Array("/w".utf8), host: "h", scannedAt: now, changes: changes,
                          pip: [], issues: issues, checked: 9, hashed: 3,
                          deadline: seed % 4 == 1 ? nil : .duration(7 * 86_400), now: now,
                          duty: lookup.duty, lazyRows: lazy)
    }

    @Test("rows made as read: the same text, JSON (streamed), metrics and log line as rows built first",
          arguments: [UInt64(1), 2, 3, 4, 5, 6])
    func rowsAsRead(seed: UInt64) throws {
        let lazy = try Self.randomReport(seed: seed, lazy: true)
        let built = try Self.randomReport(seed: seed, lazy: false)
        #expect(ReportText.render(lazy, color: false) == ReportText.render(built, color: false))
        #expect(ReportText.render(lazy, color: true) == ReportText.render(built, color: true))
        let whole = try JSONCoding.encode(built)
        var streamed: [UInt8] = []
        try ReportJSON.write(lazy) { streamed += $0 }
        #expect(streamed == whole)
        var streamedBuilt: [UInt8] = []
        try ReportJSON.write(built) { streamedBuilt += $0 }
        #expect(streamedBuilt == whole)
        #expect(try JSONCoding.encode(lazy) == whole)
        #expect(Telemetry.metrics(lazy, durationSeconds: 1, now: Self.now)
            == Telemetry.metrics(built, durationSeconds: 1, now: Self.now))
        #expect(try Telemetry.logLine(lazy, durationSeconds: 1, exitCode: 1, now: Self.now)
            == Telemetry.logLine(built, durationSeconds: 1, exitCode: 1, now: Self.now))
        #expect(lazy.summary.overdue == built.files.filter { $0.overdue == true }.count)
        #expect(lazy.summary.reconciled == built.files.filter { $0.reconciledIn != nil }.count)
        // The shapes are there: flags, secrets, exports, not-UTF-8 names.
        let text = String(decoding: whole, as: UTF8.self)
        for key in ["\"flags\"", "\"path_bytes\"", "\"export_id\"", "\"new_target\"", "\"unstable\"", "\"old_mode\""] {
            #expect(text.contains(key), "\(key)")
        }
    }

    @Test("a report with no drifted path streams as the encoder writes it")
    func emptyStreamed() throws {
        let r = ScanReport(commit: String(repeating: "c", count: 40), root: Array("/w".utf8), host: "h",
                           scannedAt: Self.now, changes: [], pip: [], issues: [], checked: 1, hashed: 1,
                           deadline: nil, now: Self.now, duty: { _ in nil }, lazyRows: true)
        var streamed: [UInt8] = []
        try ReportJSON.write(r) { streamed += $0 }
        #expect(streamed == (try JSONCoding.encode(r)))
    }
    @Test("a drifted path's change packs its one-byte fields: 56 bytes a state, 72 a change")
    func changeLayout() {
        #expect(MemoryLayout<EntryState>.stride == 56)
        #expect(MemoryLayout<EntryState?>.stride == 56)
        #expect(MemoryLayout<FileChange>.stride == 72)
        #expect(MemoryLayout<ClassifiedEntry>.stride == 56)
    }
}
