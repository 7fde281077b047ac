import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// RECORD entries are capped across the dist-infos of a site-packages, and a pip change lists
/// a bounded number of files (issue 28, round 13 F10: 50 dists of 100,000 entries each cost
/// 1.45 GB and a 156 MB report inside every byte cap).
@Suite("pip RECORD caps")
struct PipRecordCapTests {
    /// `name-1.0.dist-info` whose RECORD lists `n` absent files (and itself).
    static func dist(_ sp: String, _ name: String, entries n: Int) throws {
        try write(sp + "/\(name)-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: \(name)\nVersion: 1.0\n")
        let empty = try PipBaselineTests.urlsafeSHA256([])
        var record = ""
        for k in 0..<n { record += "\(name)/sub\(k % 7)/mod_\(k).py,sha256=\(empty),0\n" }
        record += "\(name)-1.0.dist-info/RECORD,,\n"
        try write(sp + "/\(name)-1.0.dist-info/RECORD", record)
    }

    @Test("dists over the total entry cap are errors, not read; the baked are read first; files listed are capped")
    func entryTotal() throws {
        let dir = try TempDir("pipentries")
        defer { dir.remove() }
        let sp = dir.sub("env/lib/python3.11/site-packages")
        try write(sp + "/zzbaked.py", "x = 1\n")
        let okHash = try PipBaselineTests.urlsafeSHA256(Array("x = 1\n".utf8))
        try write(sp + "/zzbaked-1.0.dist-info/METADATA", "Name: zzbaked\nVersion: 1.0\n")
        try write(sp + "/zzbaked-1.0.dist-info/RECORD",
                  "zzbaked.py,sha256=\(okHash),6\nzzbaked-1.0.dist-info/RECORD,,\n")
        let (baked, bakeIssues) = try PipInventory.read(sp)
        #expect(bakeIssues.isEmpty)
        // The 50 x 100,000 case scaled down: 10 dists of 100 entries, all under the one-RECORD cap.
        for k in 0..<10 { try Self.dist(sp, "many0\(k)", entries: 100) }
        try write(sp + "/many09/present.py", "y = 2\n")
        var scanner = PipScanner(baseline: PipBaseline(sitePackages: [baked], requirements: nil, pins: [:]),
                                 allow: [], cache: nil)
        scanner.recordLimits = RecordLimits(fileBytes: 1 << 20, totalBytes: 4 << 20, fileEntries: 300,
                                            totalEntries: 250)
        scanner.filesListed = 10
        let r = try scanner.run()
        // zzbaked (2 entries) first although it sorts last, then many00 and many01 (101 each): 204.
        let message = "over 46 entries (one RECORD may list 300, all RECORDs of a site-packages 250); "
            + "its files are not verified"
        let refused = r.issues.map(\.message).filter { $0.hasSuffix(message) }
        #expect(refused.count == 8, "\(r.issues)")
        for k in 2..<10 {
            #expect(refused.contains { $0.contains("/many0\(k)-1.0.dist-info/RECORD: over") }, "\(refused)")
        }
        #expect(r.issues.count == refused.count, "\(r.issues)")
        #expect(r.current.first?.distributions.map(\.name) == ["many00", "many01", "zzbaked"])
        let modified = r.changes.filter { $0.change == .modified }
        #expect(modified.map(\.name) == ["many00", "many01"])
        for m in modified {
            #expect(m.files.count == 10)
            #expect(m.filesLeftOut == 90)
            #expect(ReportText.pipLine(m).hasSuffix(" and 97 more"), "\(ReportText.pipLine(m))")
        }
        // Nothing hidden: the refused dists' files, and a real one of theirs, are unowned.
        let unowned = try #require(r.changes.first { $0.change == .unowned })
        // METADATA and RECORD of the 8 refused, their present.py, and the 2 read ones' METADATA.
        #expect(unowned.files.count == 10)
        #expect(unowned.filesLeftOut == 9)
        #expect(unowned.files.contains { $0.hasSuffix("many02-1.0.dist-info/METADATA") }, "\(unowned.files)")
        let json = String(decoding: try JSONEncoder().encode(unowned), as: UTF8.self)
        #expect(json.contains("\"files_left_out\":9"), "\(json)")
        #expect(!r.changes.contains { $0.name == "zzbaked" }, "\(r.changes)")
    }

    @Test("the byte total refuses in the same form as the entry total")
    func byteTotalSameForm() throws {
        let dir = try TempDir("pipbytes")
        defer { dir.remove() }
        let sp = dir.sub("env/lib/python3.11/site-packages")
        for k in 0..<3 { try Self.dist(sp, "many0\(k)", entries: 100) }
        let size = try Data(contentsOf: URL(fileURLWithPath: sp + "/many00-1.0.dist-info/RECORD")).count
        let limits = RecordLimits(fileBytes: 1 << 20, totalBytes: Int64(size * 2), fileEntries: 300,
                                  totalEntries: 1_000)
        let (inv, issues) = try PipInventory.read(Array(sp.utf8), limits: limits, first: [])
        #expect(inv.distributions.map(\.name) == ["many00", "many01"])
        // The message after the RECORD's name.
        let said = issues.map { String($0.message.drop { $0 != " " }.dropFirst()) }
        #expect(said == ["over 0 bytes (one RECORD may hold 1048576, all RECORDs of a site-packages \(size * 2)); "
            + "its files are not verified"])
    }

    @Test("a normal venv reads and scans the same under the caps as without them")
    func normalVenvUntouched() throws {
        let (f, _, sp) = try PipBaselineTests.bakedVenv()
        defer { f.dir.remove() }
        let (baked, _) = try PipInventory.read(sp)
        try write(sp + "/six.py", "import os\n")
        try write(sp + "/stray.py", "z = 3\n")
        let unlimited = RecordLimits(fileBytes: .max, totalBytes: .max, fileEntries: .max, totalEntries: .max)
        let (a, ia) = try PipInventory.read(Array(sp.utf8), limits: .standard, first: [])
        let (b, ib) = try PipInventory.read(Array(sp.utf8), limits: unlimited, first: [])
        #expect(ia.isEmpty && ib.isEmpty)
        let json = JSONEncoder()
        json.outputFormatting = .sortedKeys
        #expect(String(decoding: try json.encode(a), as: UTF8.self)
            == String(decoding: try json.encode(b), as: UTF8.self))
        let entries = a.distributions.reduce(0) { $0 + $1.files.count }
        #expect(entries > 100 && entries < RecordLimits.standard.totalEntries / 10, "\(entries)")
        let baseline = PipBaseline(sitePackages: [baked], requirements: nil, pins: [:])
        var capped = PipScanner(baseline: baseline, allow: [], cache: nil)
        var free = capped
        free.recordLimits = unlimited
        free.filesListed = .max
        capped.recordLimits = .standard
        let (rc, rf) = (try capped.run(), try free.run())
        #expect(String(decoding: try json.encode(rc.changes), as: UTF8.self)
            == String(decoding: try json.encode(rf.changes), as: UTF8.self))
        #expect(rc.changes.allSatisfy { $0.filesLeftOut == nil })
        #expect(Set(rc.changes.map(\.change.rawValue)) == ["modified", "unowned"], "\(rc.changes)")
    }

    @Test("RECORD parsing stops one entry past the cap and reads as before under it (random CSV)")
    func parseCapAndSame() throws {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [String] = ["a", "b", ",", "\"", "\n", "\r\n", "é", "/", " ", "\"\""]
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<Int.random(in: 0..<60, using: &rng) { text += alphabet.randomElement(using: &rng) ?? "" }
            let old = try? Self.oldCSVRows(text)
            let new = try? RecordFile.csvRows(text, file: [])
            #expect(old == new, "\(text.debugDescription)")
            if !text.contains("\""), let rows = new {
                let kept = rows.filter { !($0.count == 1 && $0[0].isEmpty) }.count
                #expect(RecordFile.plainRowCount(Array(text.utf8)) == kept, "\(text.debugDescription)")
            }
        }
        let many = (0..<1_000).map { "m\($0).py,,\n" }.joined()
        #expect(try RecordFile.parse(Array(many.utf8), file: [], maxEntries: 10).count == 11)
        #expect(try RecordFile.parse(Array(many.utf8), file: []).count == 1_000)
        #expect(RecordFile.plainRowCount(Array(many.utf8)) == 1_000)
        #expect(RecordFile.plainRowCount(Array("a,,\r\n\r\n\nb,,".utf8)) == 2)
        #expect(RecordFile.plainRowCount(Array("\"a\nb\",,\n".utf8)) == nil)
    }

    /// `RecordFile.csvRows` as it was before round 13 (an array of the whole text's scalars).
    static func oldCSVRows(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var it = Array(text.unicodeScalars)[...]
        while let c = it.popFirst() {
            if inQuotes {
                if c == "\"" {
                    if it.first == "\"" {
                        field.unicodeScalars.append("\"")
                        it.removeFirst()
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty else { throw DriftError(.pipInvalid, path: [], "stray quote") }
                inQuotes = true
            case ",":
                row.append(field)
                field = ""
            case "\r":
                continue
            case "\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            default:
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw DriftError(.pipInvalid, path: [], "unterminated") }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}
