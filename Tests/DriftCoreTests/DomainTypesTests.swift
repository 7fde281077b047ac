import Foundation
import DriftTestSupport
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// The typed domain values against the strings the docs promise (in-process, no binary).
@Suite struct DomainTypesTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static func doc(_ name: String) throws -> String {
        String(decoding: try readWholeFile(repoRoot + "/docs/" + name, limit: 1 << 20), as: UTF8.self)
    }

    /// Backticked lowercase words (`added`, `modified`) in `text`.
    static func words(_ text: Substring) -> Set<String> {
        var out = Set<String>()
        for (k, part) in text.split(separator: "`", omittingEmptySubsequences: false).enumerated() where k % 2 == 1 {
            if !part.isEmpty, part.allSatisfy({ ("a"..."z").contains($0) || $0 == "-" }) { out.insert(String(part)) }
        }
        return out
    }

    /// The lines of `text` from the first containing `start` up to (not including) the first
    /// later line that satisfies `end`.
    static func section(_ text: String, from start: String, to end: (Substring) -> Bool) -> Substring {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let i = lines.firstIndex(where: { $0.contains(start) }) else { return "" }
        let j = lines[(i + 1)...].firstIndex(where: end) ?? lines.endIndex
        return Substring(lines[i..<j].joined(separator: "\n"))
    }

    /// Encodes one value the way every drift JSON file is written, as text.
    static func json<T: Encodable>(_ v: T) throws -> String {
        String(decoding: try JSONCoding.encode(v, pretty: false), as: UTF8.self)
    }

    @Test("pip change kinds: raw values are docs/pip.md's table, round-trip through JSON and Drift-Pip lines")
    func pipChangeKinds() throws {
        let table = Self.section(try Self.doc("pip.md"), from: "| change | meaning |") { $0.isEmpty }
        let firstColumns = table.split(separator: "\n").dropFirst(2).map { row in
            row.split(separator: "|", omittingEmptySubsequences: false).dropFirst().first ?? ""
        }
        let documented = Set(firstColumns.flatMap { Self.words($0) })
        #expect(documented == Set(PipChangeKind.allCases.map(\.rawValue)))
        for k in PipChangeKind.allCases {
            let c = PipChange(name: "six", change: k, from: "1.0", to: "2.0", sitePackages: "/sp", files: ["a b"],
                              allowed: false)
            let text = try Self.json(c)
            #expect(text.contains("\"change\":\"\(k.rawValue)\""))
            let back = try JSONDecoder().decode(PipChange.self, from: Data(text.utf8))
            #expect(back.change == k)
            let line = SnapshotPip(c).line
            #expect(line.hasPrefix(k.rawValue + " "))
            #expect(SnapshotPip.parse(value: line)?.change.change == k)
        }
        #expect(PipChangeKind.allCases.filter { !$0.isPinnable } == [.modified, .unowned])
        #expect(SnapshotPip.parse(value: "reinstalled six 1 2 - /sp -") == nil)
        #expect(throws: DecodingError.self) {
            let capital = #"{"change":"Added","site_packages":"/","files":[],"allowed":false}"#
            return try JSONDecoder().decode(PipChange.self, from: Data(capital.utf8))
        }
    }

    @Test("gate status and reason: raw values are docs/gate.md's, the JSON and text render them")
    func gateStatusAndReason() throws {
        let para = Self.section(try Self.doc("gate.md"), from: "each of `entries` has `status`") { $0.isEmpty }
        let statuses = Self.section(String(para), from: "`status`") { $0.contains("`reason`") }
        #expect(Self.words(statuses).subtracting(["status", "entries"]).isSuperset(of: ["reconciled", "waived"]))
        #expect(Self.words(para).isSuperset(of: Set(GateStatus.allCases.map(\.rawValue))))
        #expect(Self.words(para).isSuperset(of: Set(GateReason.allCases.map(\.rawValue))))
        let id = try DriftID(parsing: "0123456789abcdef0123")
        let base = try ObjectID(parsing: String(repeating: "a", count: 40))
        func entry(_ s: GateStatus, _ r: GateReason?) -> Gate.EntryResult {
            Gate.EntryResult(id: id, entry: "e", host: "web-1",
                             base: base,
                             firstSeen: "2026-11-01T00:00:00Z", ageSeconds: 3 * 86_400 + 4 * 3600 + 59, status: s,
                             reason: r, missing: s == .reconciled ? [] : ["app.py"], expiredWaiver: nil,
                             waiverExpires: s == .waived ? "2026-12-31" : nil)
        }
        let all = [entry(.reconciled, .trailer), entry(.reconciled, .content), entry(.waived, .waiver),
                   entry(.missing, nil)]
        for e in all {
            let text = try Self.json(e)
            #expect(text.contains("\"status\":\"\(e.status.rawValue)\""))
            #expect(e.reason.map { text.contains("\"reason\":\"\($0.rawValue)\"") } ?? !text.contains("\"reason\""))
            let back = try JSONDecoder().decode(Gate.EntryResult.self, from: Data(text.utf8))
            #expect(back.status == e.status && back.reason == e.reason)
        }
        let report = Gate.Report(repo: "r", commit: String(repeating: "b", count: 40), ok: false, entries: all,
                                 image: nil)
        #expect(GateOutput.text(report, githubActions: false) == """
            ok       drift 0123456789abcdef0123 from web-1: reconciled by its Drift-Id trailer
            ok       drift 0123456789abcdef0123 from web-1: reconciled by matching content
            waived   drift 0123456789abcdef0123 from web-1: waiver until 2026-12-31; it also passes 1 path not upstream
                     not upstream (waived): app.py
            MISSING  drift 0123456789abcdef0123 from web-1, base aaaaaaaaaaaa, first seen 2026-11-01T00:00:00Z, \
            age 3d4h (e)
                     not upstream: app.py
            gate: REJECTED: 1 drift entry not upstream in bbbbbbbbbbbb

            """)
        let sarif = String(decoding: try GateOutput.sarif(report), as: UTF8.self)
        #expect(sarif.components(separatedBy: "\"ruleId\" : \"drift/unreconciled\"").count == 2)
    }

    @Test("change kinds and classes: raw values are docs/report-format.md's; report, state and journal rows are typed")
    func changeKindsAndClasses() throws {
        let doc = try Self.doc("report-format.md")
        let change = Self.section(doc, from: "- `change`:") { $0.hasPrefix("- ") }
        #expect(Self.words(change).subtracting(["change"]) == Set(ChangeKind.allCases.map(\.rawValue)))
        let cls = Self.section(doc, from: "- `class`:") { $0.hasPrefix("- ") }
        #expect(Self.words(cls).subtracting(["class"]) == Set(FileClass.allCases.map(\.rawValue)))
        let types = Self.section(doc, from: "- `old_type`/`new_type`:") { $0.hasPrefix("- ") }
        let kinds = ["file", "symlink", "directory", "special"]
        #expect(Self.words(types).isSuperset(of: kinds) && kinds.allSatisfy { FileKind(rawValue: $0) != nil })
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let d = try SHA256Hasher.digest(Array("x".utf8))
        for k in ChangeKind.allCases {
            let c = FileChange(path: Array("a/b.py".utf8), change: k, fileClass: .config, secret: false,
                               old: EntryState(kind: .regular, executable: false, size: 1, digest: d, target: nil),
                               new: nil, firstSeen: now)
            let r = ScanReport(commit: String(repeating: "c", count: 40), root: Array("/w".utf8), host: "h",
                               scannedAt: now, changes: [c], pip: [], issues: [], checked: 1, hashed: 1,
                               deadline: nil, now: now)
            let text = try Self.json(r)
            #expect(text.contains("\"change\":\"\(k.rawValue)\",\"class\":\"config\""))
            #expect(text.contains("\"old_sha256\":\"\(d.hex)\""))
            #expect(text.contains("\"old_type\":\"file\"") && !text.contains("new_type"))
            #expect(text.contains("\"by_change\":{\"\(k.rawValue)\":1}"))
            var changes = [c]
            var state = DriftState(commit: String(repeating: "c", count: 40))
            try state.merge(&changes)
            let stateText = try Self.json(state)
            #expect(stateText.contains("\"change\":\"\(k.rawValue)\",\"class\":\"config\""))
            let back = try JSONDecoder().decode(DriftState.self, from: Data(stateText.utf8))
            #expect(back.items.first?.change == k && back.items.first?.fileClass == .config)
        }
    }

    @Test("Digest in JSON: 64 lowercase hex digits out; either case in; anything else is a decoding error")
    func digestCoding() throws {
        struct Box: Codable { var d: Digest?; var e: Digest? }
        let d = try SHA256Hasher.digest(Array("drift".utf8))
        #expect(try Self.json(Box(d: d, e: nil)) == "{\"d\":\"\(d.hex)\"}\n")
        let upper = try JSONDecoder().decode(Box.self, from: Data("{\"d\":\"\(d.hex.uppercased())\"}".utf8))
        #expect(upper.d == d && upper.e == nil)
        #expect("\(d)" == d.hex)
        for bad in ["\"\(d.hex.dropLast())\"", "\"\(d.hex)0\"", "\"\(d.hex.dropLast())g\"", "42", "\"\""] {
            let text = "{\"d\":\(bad)}"
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(Box.self, from: Data(text.utf8)) }
        }
        // A RECORD's hash is a Digest from the start; pip.json writes it as hex, as before.
        let record = try RecordFile.parse(Array("a.py,sha256=\(base64url(d.bytes)),5\nRECORD,,\n".utf8), file: "RECORD")
        #expect(record.first?.sha256 == d && record.last?.sha256 == nil)
        #expect(try Self.json(record[0]) == "{\"path\":\"a.py\",\"sha256\":\"\(d.hex)\",\"size\":5}\n")
    }

    func base64url(_ b: [UInt8]) -> String {
        Data(b).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test("manifest pins are digests: serialise/parse round-trips; a bad pin is a load error naming the line")
    func manifestPins() throws {
        let p = try SHA256Hasher.digest(Array("policy".utf8))
        let q = try SHA256Hasher.digest(Array("pip".utf8))
        let m = Manifest(commit: String(repeating: "d", count: 40), root: Array("/w".utf8), policySHA256: p,
                         pins: [(name: "pip.json", sha256: q)], entries: [])
        let bytes = try m.serialized()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\npolicy-sha256 \(p.hex)\npin pip.json \(q.hex)\n"))
        let back = try Manifest.parse(bytes, file: "m")
        #expect(back.policySHA256 == p && back.pins.map(\.sha256) == [q] && back.pins.map(\.name) == ["pip.json"])
        #expect(Manifest.peekPolicySHA256(bytes) == p)
        // Re-sealed with a valid trailer, so only the pin itself is wrong.
        func resealed(_ body: String) throws -> [UInt8] {
            let b = Array(body.utf8)
            return b + Array("sha256 \(try SHA256Hasher.digest(b).hex)\n".utf8)
        }
        let body = text.split(separator: "\n").dropLast().joined(separator: "\n") + "\n"
        for (from, to, line, why) in [(p.hex, "xyz", 4, "manifest is corrupt: bad policy-sha256"),
                                      (q.hex, String(q.hex.dropLast()), 5, "manifest is corrupt: bad pin sha256")] {
            let damaged = try resealed(body.replacingOccurrences(of: from, with: to))
            #expect(throws: DriftError(.manifestInvalid, path: "m", line: line, why)) {
                try Manifest.parse(damaged, file: "m")
            }
        }
        let noPolicy = body.replacingOccurrences(of: "policy-sha256 \(p.hex)\n", with: "")
        let unpinned = try resealed(noPolicy)
        #expect(throws: DriftError(.manifestInvalid, path: "m", "manifest has no policy-sha256")) {
            try Manifest.parse(unpinned, file: "m")
        }
    }

    @Test("age text: the one formatter keeps both spellings (status: `3d 4h`, gate: `3d4h`)")
    func ageText() {
        let cases: [(Int, String, String)] = [
            (0, "0s", "0m"), (59, "59s", "0m"), (60, "1m", "1m"), (3599, "59m", "59m"), (3600, "1h 0m", "1h0m"),
            (7 * 3600 + 5 * 60 + 9, "7h 5m", "7h5m"), (86_400, "1d 0h", "1d0h"),
            (3 * 86_400 + 4 * 3600 + 59, "3d 4h", "3d4h"), (-5, "0s", "0m"),
        ]
        for (s, spaced, compact) in cases {
            #expect(AgeText.format(seconds: s) == spaced)
            #expect(AgeText.format(seconds: s, style: .compact) == compact)
        }
        #expect(AgeText.format(90.9) == "1m")
        #expect(AgeText.format(.infinity) == "0s" && AgeText.format(-.infinity) == "0s" && AgeText.format(.nan) == "0s")
    }

    @Test("a manifest line keeps git's mode bytes (GitFileMode.octal)")
    func manifestModes() throws {
        for (exec, text) in [(false, "100644"), (true, "100755")] {
            let e = ManifestEntry(path: Array("p".utf8), kind: .regular, executable: exec, size: 1,
                                  digest: try SHA256Hasher.digest(Array("b".utf8)))
            #expect(e.gitMode.octal == text)
        }
    }
}
