import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// The snapshot record (a git note, JSON) and the snapshot message (trailers) each carry a
/// snapshot's entries: both must give back exactly what was written.
@Suite("Snapshot records")
struct SnapshotRecordTests {
    /// Random snapshots shaped like real ones: byte paths with spaces, `%`, newlines, escape
    /// bytes and invalid UTF-8; every way of recording; pip changes with odd names.
    struct Gen {
        var rng: Fuzz.RNG

        mutating func pick<T>(_ xs: [T]) -> T { xs[rng.below(xs.count)] }

        mutating func path() -> [UInt8] {
            let parts: [[UInt8]] = [Array("worker/".utf8), Array("main.py".utf8), [0x20], [0x25], [0x0A], [0x1B],
                                    [0xE9], [0xFF, 0xFE], Array("café".utf8), Array("a b".utf8), [0x5C], [0x22]]
            var p: [UInt8] = Array("f".utf8)
            for _ in 0..<rng.below(6) { p += pick(parts) }
            return p
        }

        mutating func digest() -> Digest {
            Digest(bytes: (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }

        mutating func recorded() -> SnapshotEntry.Recorded {
            switch rng.below(5) {
            case 0: return .content
            case 1: return .secret
            case 2: return .secretContent
            case 3:
                // A summarised directory (drift.snapshot/2).
                return .summary(SnapshotSummary(count: 1 + rng.below(2_000_000), bytes: Int64(rng.below(1 << 30)),
                                                digest: digest()))
            default:
                let reasons: [WithholdReason?] = [nil, .changedWhileRead, .overSizeLimit(Int64(rng.below(1 << 30)))]
                return .hashOnly(rng.below(4) == 0 ? nil : digest(), pick(reasons))
            }
        }

        mutating func entry() -> SnapshotEntry {
            let when = Date(timeIntervalSince1970: Double(1_600_000_000 + rng.below(200_000_000)))
            let rec = recorded()
            // A summary names a directory: its path ends in `/`.
            let p = path() + (rec.kind == .summary ? [0x2F] : [])
            return SnapshotEntry(change: pick(ChangeKind.allCases), fileClass: pick([.code, .config, .data]),
                                 firstSeen: when, path: p, recorded: rec)
        }

        mutating func text() -> String? {
            rng.below(4) == 0 ? nil : pick(["six", "a b", "100%", "naïve", "x,y", "git+https://h/r.git@v1", "-x"])
        }

        /// `commas`: file names may hold `,` (the message format joins them with `,` unescaped:
        /// only the record keeps such a name; see `pipCommaName`).
        mutating func pip(commas: Bool) -> PipChange {
            PipChange(name: text(), change: pick(PipChangeKind.allCases),
                      from: text(), to: text(), sitePackages: pick(["/usr/lib/python3/dist-packages", "/a b/site"]),
                      files: (0..<rng.below(3)).map { _ in
                          pick(["m.py", "d i/x.py", "é.py"] + (commas ? ["c,d.py"] : []))
                      },
                      allowed: false, url: text())
        }

        mutating func info(commas: Bool = true) -> SnapshotInfo {
            var entries = (0..<rng.below(8)).map { _ in entry() }
            entries.sort { PathBytes.less($0.path, $1.path) }
            return SnapshotInfo(id: DriftID(computed: String(digest().hex.prefix(20))), host: pick(["worker-1", "h"]),
                                time: Date(timeIntervalSince1970: 1_796_014_800), entries: entries,
                                pip: (0..<rng.below(3)).map { _ in pip(commas: commas) },
                                base: ObjectID(hex: String(digest().hex.prefix(40)))!)
        }
    }

    static func pipJSON(_ p: [PipChange]) throws -> [UInt8] { try JSONCoding.encode(p) }

    /// The message `Journal.record` writes, for the same snapshot: its own writer, not a copy.
    static func message(_ s: SnapshotInfo) -> String {
        s.message(pathCount: s.entries.count)
    }

    static func expectSame(_ a: SnapshotInfo, _ b: SnapshotInfo, _ what: String) throws {
        #expect(a.entries == b.entries, "\(what): entries differ")
        #expect(try pipJSON(a.pip) == pipJSON(b.pip), "\(what): pip changes differ")
        #expect((a.id, a.host, a.time, a.base) == (b.id, b.host, b.time, b.base), "\(what): header differs")
    }

    @Test("entries → record → entries, and entries → message → entries, for random snapshots")
    func roundTrip() throws {
        var gen = Gen(rng: Fuzz.RNG(state: 0x5EED_16))
        for i in 0..<300 {
            let info = gen.info()
            let bytes = try SnapshotRecord(info).encoded()
            try Self.expectSame(info, try SnapshotRecord.decode(bytes, context: "t"), "record \(i)")
            let legacy = gen.info(commas: false)
            try Self.expectSame(legacy, SnapshotInfo.parse(Self.message(legacy), context: "t"), "message \(i)")
        }
    }

    @Test("the record writer of Journal.record writes JSONCoding's bytes for every field shape")
    func writerBytes() throws {
        var gen = Gen(rng: Fuzz.RNG(state: 0x5EED_28))
        // Every C0 control, DEL, C1 controls, quotes, backslash, slash, U+2028, non-ASCII.
        let hostile = (1...0x7F).map { UInt8($0) } + Array("\u{85}\u{9F}\u{A0}\u{2028}é😀/\"\\".utf8)
        for i in 0..<300 {
            var info = gen.info()
            switch i % 3 {
            case 0: info.idInputs = nil
            case 1: info.idInputs = []
            default: info.idInputs = info.entries.map { String(decoding: $0.path, as: UTF8.self) } + ["pip \(i)"]
            }
            if i % 7 == 0 {
                info.entries.append(SnapshotEntry(change: .added, fileClass: .data, firstSeen: info.time,
                                                  path: hostile + [0xC2], recorded: .hashOnly(nil, .other("r\u{1}\u{85}"))))
                info.host = String(decoding: hostile, as: UTF8.self)
            }
            let fast = try SnapshotRecordWriter.encode(info)
            #expect(fast == (try SnapshotRecord(info).encoded()), "record \(i)")
            #expect(SnapshotRecord.peekDriftID(fast) == info.id, "record \(i)")
        }
        // The records of the fuzz corpus, as read back.
        for seed in try Fuzz.seeds("snapshot-record") {
            guard let info = try? SnapshotRecord.decode(seed, context: "seed") else { continue }
            #expect(try SnapshotRecordWriter.encode(info) == SnapshotRecord(info).encoded())
        }
    }

    @Test("the id peeked from a record's first lines is the id only when the record starts as drift writes it")
    func peekID() throws {
        var gen = Gen(rng: Fuzz.RNG(state: 28))
        let info = gen.info()
        let bytes = try SnapshotRecordWriter.encode(info)
        #expect(SnapshotRecord.peekDriftID(bytes) == info.id)
        // Compact, reordered or cut records: nothing peeked (the record is decoded whole).
        let compact = try JSONCoding.encode(SnapshotRecord(info), pretty: false)
        #expect(SnapshotRecord.peekDriftID(compact) == nil)
        let text = String(decoding: bytes, as: UTF8.self)
        let reordered = text.replacingOccurrences(of: "\"base\"", with: "\"bass\"")
        #expect(SnapshotRecord.peekDriftID(Array(reordered.utf8)) == nil)
        #expect(SnapshotRecord.peekDriftID(Array(bytes.prefix(60))) == nil)
        #expect(SnapshotRecord.peekDriftID([]) == nil)
    }

    @Test("a pip file name holding ',' survives the record; the message format always split it")
    func pipCommaName() throws {
        let p = PipChange(name: "pkg", change: .modified, from: "1", to: "1", sitePackages: "/s",
                          files: ["c,d.py"], allowed: false)
        let info = SnapshotInfo(id: try DriftID(parsing: "0123456789abcdef0123"), host: "h",
                                time: Date(timeIntervalSince1970: 0), entries: [], pip: [p],
                                base: try ObjectID(parsing: String(repeating: "b", count: 40)))
        #expect(try SnapshotRecord.decode(SnapshotRecord(info).encoded(), context: "t").pip.first?.files == ["c,d.py"])
        #expect(try SnapshotInfo.parse(Self.message(info), context: "t").pip.first?.files == ["c", "d.py"])
    }

    @Test("mutated records are read or refused with a sentence, never a crash; what is read re-encodes the same")
    func fuzzRecords() throws {
        let n = try Fuzz.run("snapshot-record") { bytes in
            let info = try SnapshotRecord.decode(bytes, context: "fuzz")
            let again = try SnapshotRecord.decode(try SnapshotRecord(info).encoded(), context: "fuzz")
            #expect(try SnapshotRecord(again).encoded() == SnapshotRecord(info).encoded())
        }
        #expect(n.reachedBoth, "\(n)")
    }

    @Test("every withhold reason reads back from its words")
    func withholdWords() {
        let all: [WithholdReason] = [.notCode(.config), .notCode(.data), .secret, .secretContent,
                                     .overSizeLimit(16 << 20), .changedWhileRead, .other("quarantined by hand")]
        for r in all { #expect(WithholdReason(text: r.text) == r, "\(r.text)") }
        #expect(WithholdReason.changedWhileRead.text == "changed while read")
        #expect(WithholdReason.overSizeLimit(16_777_216).text == "over the 16777216-byte size limit")
    }

    @Test("a record that is not drift.snapshot/1 is an error naming the snapshot")
    func badRecords() throws {
        let t = "2026-11-30T05:00:00Z"
        func record(schema: String = "drift.snapshot/1", entry: String = "", time: String = t) -> String {
            "{\"schema\":\"\(schema)\",\"drift_id\":\"0123456789abcdef0123\","
                + "\"base\":\"\(String(repeating: "b", count: 40))\",\"host\":\"h\","
                + "\"time\":\"\(time)\",\"pip\":[],\"entries\":[\(entry)]}"
        }
        func entry(_ recorded: String, _ extra: String = "", seen: String = t) -> String {
            "{\"change\":\"added\",\"class\":\"code\",\"first_seen\":\"\(seen)\",\"path\":\"p\","
                + "\"recorded\":\"\(recorded)\"\(extra)}"
        }
        #expect(try SnapshotRecord.decode(Array(record(entry: entry("content")).utf8), context: "t").entries.count == 1)
        let hex = String(repeating: "ab", count: 32)
        let summary = ",\"count\":3,\"bytes\":10,\"sha256\":\"\(hex)\""
        let dir = record(schema: "drift.snapshot/2",
                         entry: entry("summary", summary).replacingOccurrences(of: "\"p\"", with: "\"p/\""))
        let read = try SnapshotRecord.decode(Array(dir.utf8), context: "t").entries
        #expect(read.first?.recorded == .summary(SnapshotSummary(count: 3, bytes: 10, digest: Digest(hex: hex)!)))
        let bad = ["", "{", "[]", record(schema: "drift.snapshot/9"), record(entry: entry("maybe")),
                   record(entry: entry("hash-only", ",\"sha256\":\"xyz\"")),
                   record(entry: entry("content", ",\"path_bytes\":\"@@\"")),
                   record(entry: entry("content").replacingOccurrences(of: "added", with: "renamed")),
                   // Times are times: never read as "now" (an export is dated by them).
                   record(entry: entry("content"), time: "yesterday"), record(entry: entry("content", seen: "t")),
                   // A summary names a directory, counts at least one file and has a digest.
                   record(schema: "drift.snapshot/2", entry: entry("summary", summary)),
                   record(schema: "drift.snapshot/2",
                          entry: entry("summary", ",\"count\":0,\"bytes\":0,\"sha256\":\"\(hex)\"")
                        .replacingOccurrences(of: "\"p\"", with: "\"p/\"")),
                   record(schema: "drift.snapshot/2", entry: entry("summary", ",\"bytes\":0,\"sha256\":\"\(hex)\"")
                        .replacingOccurrences(of: "\"p\"", with: "\"p/\""))]
        for b in bad {
            #expect(throws: DriftError.self, "\(b)") {
                try SnapshotRecord.decode(Array(b.utf8), context: "J: snapshot X")
            }
        }
        do {
            _ = try SnapshotRecord.decode(Array("{".utf8), context: "J: snapshot X")
        } catch let e as DriftError {
            #expect(e.message == "J: snapshot X: snapshot record is not drift.snapshot/1 JSON")
        }
    }

    @Test("a snapshot is read from its note; without one, from its message's trailer block")
    func noteBeforeMessage() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let repo = try GitRepository(initBare: dir.sub("j.git"))
        let tree = try repo.odb().write(.tree, [])
        let who = GitPerson(name: "drift", email: "drift@h", time: Date(timeIntervalSince1970: 1_700_000_000))
        var gen = Gen(rng: Fuzz.RNG(state: 7))
        let old = gen.info()
        var new = gen.info()
        let seen = Date(timeIntervalSince1970: 1_796_014_800)
        new.entries = [SnapshotEntry(change: .added, fileClass: .code, firstSeen: seen,
                                     path: [0x66, 0x0A, 0xFF], recorded: .hashOnly(gen.digest(), .changedWhileRead))]
        let legacy = try repo.createCommit(tree: tree, parents: [], author: who, committer: who,
                                           message: Self.message(old))
        try Self.expectSame(old, try SnapshotInfo.read(repo, legacy), "legacy snapshot")
        // The record wins over the message: it is what drift wrote to be read back.
        let recorded = try repo.createCommit(tree: tree, parents: [legacy], author: who, committer: who,
                                             message: Self.message(old) + "\n")
        try repo.setNote(Journal.notesRef, on: recorded, try SnapshotRecord(new).encoded(), author: who)
        try Self.expectSame(new, try SnapshotInfo.read(repo, recorded), "recorded snapshot")
        #expect(try repo.note(Journal.notesRef, on: legacy) == nil)
        let shown = try sh("git --git-dir='\(dir.sub("j.git"))' notes --ref drift-snapshot show \(recorded.hex)")
        #expect(shown.contains("\"schema\" : \"drift.snapshot/1\""))
    }

    @Test("one drift-id check: ids from bundles, refs and --id")
    func driftIDs() {
        for ok in ["0123abcd", String(repeating: "f", count: 64), "0123456789abcdef0123"] {
            #expect(DriftID.isWellFormed(ok))
        }
        for bad in ["0123abc", String(repeating: "f", count: 65), "0123ABCD", "../../x", "0123abcd\n", "0123abcg", ""] {
            #expect(!DriftID.isWellFormed(bad), "\(bad)")
        }
    }

    @Test("drift's trailers: only the trailer block counts, repeated keys are absent, the host is quoted")
    func trailers() {
        let m = "s\n\nDrift-Id: aaaaaaaa\nbody\n\nDrift-Host: h\u{1B}x\nDrift-Id: 0123456789abcdef0123\n"
            + "Drift-Base: b1\nDrift-Base: b2\n"
        let t = DriftTrailers(m)
        #expect(t.id?.hex == "0123456789abcdef0123")
        #expect(t.ids.map(\.hex) == ["0123456789abcdef0123"])
        #expect(t.base == nil)
        #expect(t.host == PathBytes.display(text: "h\u{1B}x"))
        #expect(LedgerCommit.isLedger(message: "drift ledger: export x from h\n\nbase b\n\nDrift-Ledger: 1\n"))
        #expect(!LedgerCommit.isLedger(message: "drift ledger\n\nDrift-Ledger: 1\nbody line\n\nSigned-off-by: x\n"))
    }
}
