import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// The second newcomer incident run: what the README said, what status said and what prune
/// would delete, each against the real Makefile, the real gate and real git.
@Suite("a newcomer's second incident run")
struct IncidentRunTests {
    /// Every script a Makefile recipe line runs (`scripts/*.sh`, `bench/*.py`), in order of appearance.
    static func scripts(_ text: Substring) -> [String] {
        let pattern = /(scripts\/[A-Za-z0-9_.-]+\.sh|bench\/[A-Za-z0-9_.-]+\.py)/
        return text.matches(of: pattern).map { String($0.output.1) }
    }

    /// target -> the scripts its recipe runs.
    static func makefileTargets() throws -> [String: [String]] {
        let text = try String(contentsOfFile: repositoryRoot + "/Makefile", encoding: .utf8)
        var out: [String: [String]] = [:]
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("\t") || line.hasPrefix("  ") {
                if let t = current { out[t, default: []] += scripts(line) }
                continue
            }
            current = nil
            if let m = line.wholeMatch(of: /([a-z0-9-]+):.*/), !line.hasPrefix(".") {
                current = String(m.output.1)
                out[current ?? ""] = []
            }
        }
        return out
    }

    /// Every README/docs line that spells out a make target (`make T  # = …` in a code block,
    /// with its `#` continuation lines, or `` `make T` (= `…` ``) names the scripts the Makefile runs.
    @Test("README and docs spell each make target as the Makefile runs it (make dist runs setup.sh first)")
    func makeTargetsMatchMakefile() throws {
        let targets = try Self.makefileTargets()
        #expect(targets["dist"] == ["scripts/setup.sh", "scripts/dist.sh"], "\(targets["dist"] ?? [])")
        let docs = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/docs")
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 } + ["README.md"]
        var checked = 0
        for doc in docs {
            let lines = try String(contentsOfFile: repositoryRoot + "/" + doc, encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false)
            for (i, line) in lines.enumerated() {
                let code = line.firstMatch(of: /^make ([a-z0-9-]+) +# = (.*)/)
                let prose = line.firstMatch(of: /`make ([a-z0-9-]+)` \(= `([^`]*)`/)
                guard let target = code?.output.1 ?? prose?.output.1,
                      var said = code?.output.2 ?? prose?.output.2 else { continue }
                var j = i + 1
                while code != nil, j < lines.count, lines[j].wholeMatch(of: /^ +#.*/) != nil {
                    said += lines[j]
                    j += 1
                }
                let runs = targets[String(target)] ?? []
                #expect(Set(Self.scripts(said)) == Set(runs),
                        "\(doc):\(i + 1): make \(target) says \(Self.scripts(said)), the Makefile runs \(runs)")
                checked += 1
            }
        }
        #expect(checked >= 3, "README's make dist and docs/benchmarks.md's lines are checked")
    }

    /// A first export and a follow-up, both withholding worker/main.py (a secret pasted into code):
    /// status, scan text and scan JSON name the follow-up, the entry the gate lists the path
    /// under, and a waiver for that id is the one that passes the gate.
    @Test("status and scan name the export the gate lists withheld code under: the chain's latest")
    func withheldNamesGateEntry() throws {
        let r = try NewcomerTests.Run2()
        let f = r.f
        defer { f.dir.remove() }
        let token = "tok_" + String(repeating: "Q7x2", count: 8)
        try sh("mkdir -p '\(f.dir.sub("ledger"))'")
        try sh("printf 'TOKEN=\(token)\\n' > .env && printf 'KEY = \"\(token)\"\\n' >> worker/main.py"
               + " && echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let (e1, id1) = try r.export("ledger/o1")
        try #require(e1.code == 0, "\(e1.err)")
        try sh("echo 'FIX = 2' >> worker/util.py", cwd: f.workspace)
        let (e2, id2) = try r.export("ledger/o2")
        try #require(e2.code == 0 && e2.out.contains("follows \(id1)") && id1 != id2, "\(e2.out)\(e2.err)")
        // Upstream takes both patches: only the withheld code is left for the gate.
        let patches = ["ledger/o1", "ledger/o2"].map { f.dir.sub($0) + "/drift.patch" }
        let am = try run(["git", "am"] + patches, cwd: f.upstream)
        try #require(am.code == 0, "\(am.err)")
        let gate = try drift(["gate", "--repo", f.upstream, "--ledger", f.dir.sub("ledger"), "--format", "json"])
        #expect(gate.code == 1, "\(gate.out)")
        let listing = GateLedgerTests.entries(gate).filter { e in
            ((e["withheld"] as? [[String: Any]]) ?? []).contains { $0["path"] as? String == "worker/main.py" }
        }.compactMap { $0["id"] as? String }
        #expect(listing == [id2], "the gate lists worker/main.py under the follow-up: \(gate.out)")
        // What the user reads: status, scan text, scan JSON.
        let status = try r.drift(["status"])
        let statusLine = status.out.split(separator: "\n").first { $0.contains("worker/main.py") } ?? ""
        #expect(statusLine.contains("as \(id2)") && !statusLine.contains(id1), "\(status.out)")
        let scan = try r.drift(["scan"])
        let scanLine = scan.out.split(separator: "\n").first { $0.contains("worker/main.py") } ?? ""
        #expect(scanLine.contains("as \(id2)") && scanLine.contains("withheld from the export"), "\(scan.out)")
        let (_, report) = try f.scan()
        let main = files(report).first { $0["path"] as? String == "worker/main.py" }
        #expect(main?["export_id"] as? String == id2 && main?["export_withheld"] as? Bool == true, "\(main ?? [:])")
        // The carried hotfix keeps the export that first carried its current content.
        let util = files(report).first { $0["path"] as? String == "worker/util.py" }
        #expect(util?["export_id"] as? String == id2, "\(util ?? [:])")
        // The waiver written for the id status names passes the gate; one for the first does not.
        for (id, code) in [(id1, Int32(1)), (id2, Int32(0))] {
            let policy = f.dir.sub("waive-\(id.prefix(6)).yaml")
            try write(policy, "waivers:\n  - {id: \"\(id)\", reason: \"by hand\", expires: \"2999-01-01\"}\n")
            let g = try drift(["gate", "--repo", f.upstream, "--ledger", f.dir.sub("ledger"), "--policy", policy])
            #expect(g.code == code, "waiver for \(id): \(g.out)\(g.err)")
        }
    }

    /// Two exports of one chain pushed to a bare repository: the follow-up changed every path of
    /// the first again (the first is reconciled as superseded), but its patch needs the first.
    @Test("prune keeps the first export of a chain while its follow-up is kept, and says so")
    func pruneKeepsFollowedExport() throws {
        let r = try NewcomerTests.Run2()
        let f = r.f
        defer { f.dir.remove() }
        try sh("echo '# fix 1' >> worker/main.py", cwd: f.workspace)
        let (e1, id1) = try r.export("o1", ["--push", r.remote])
        try #require(e1.code == 0, "\(e1.err)")
        try sh("echo '# fix 2' >> worker/main.py && echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let (e2, id2) = try r.export("o2", ["--push", r.remote])
        try #require(e2.code == 0 && e2.out.contains("follows \(id1)"), "\(e2.out)\(e2.err)")
        // The oracle for why: the follow-up's patch alone does not apply on the base.
        let alone = try r.clone("alone")
        #expect(try run(["git", "am", f.dir.sub("o2") + "/drift.patch"], cwd: alone).code != 0)
        func refs() throws -> [String] {
            try sh("git -C '\(r.remote)' for-each-ref --format='%(refname)' refs/drift/").split(separator: "\n")
                .map(String.init)
        }
        let all = try refs()
        try #require(all.count == 2, "\(all)")
        let ref1 = try #require(all.first { $0.hasSuffix("/" + id1) })
        let prune = ["prune", "--repo", r.remote, "--commit", "main", "--older-than", "0s"]
        let dry = try drift(prune + ["--dry-run"])
        #expect(dry.code == 0 && dry.out.contains("prune: would delete 0 of 2 ledger refs"), "\(dry.out)\(dry.err)")
        #expect(dry.out.contains("kept         \(ref1) (drift \(id1) from ")
                && dry.out.contains(": followed by drift \(id2) ("), "\(dry.out)")
        #expect(try drift(prune + ["--dry-run", "--format", "refs"]).out.isEmpty)
        #expect(try drift(prune).code == 0)
        #expect(try refs() == all, "nothing deleted")
        // Both merged upstream (git am, in order): the chain goes as a whole.
        let merged = try r.clone("merged")
        try sh("git am -q '\(f.dir.sub("o1"))/drift.patch' '\(f.dir.sub("o2"))/drift.patch'"
               + " && git push -q '\(r.remote)' HEAD:main", cwd: merged)
        let done = try drift(prune)
        #expect(done.code == 0 && done.out.contains("prune: deleted 2 of 2 ledger refs"), "\(done.out)\(done.err)")
        #expect(try refs().isEmpty)
    }

    /// The demo's shape: `--ledger` names the export's own directory (entry `.`), and the gate's
    /// JSON of a reconciled entry has nothing missing.
    @Test("gate text never ends in '(.)'; gate --format json writes an empty array as []")
    func gateCosmetics() throws {
        let r = try NewcomerTests.Run2()
        let f = r.f
        defer { f.dir.remove() }
        try sh("echo '# fix' >> worker/main.py", cwd: f.workspace)
        let (e1, id) = try r.export("out")
        try #require(e1.code == 0, "\(e1.err)")
        let ledger = f.dir.sub("out")
        let rejected = try drift(["gate", "--repo", f.upstream, "--ledger", ledger])
        let line = rejected.out.split(separator: "\n").first { $0.hasPrefix("MISSING") } ?? ""
        #expect(rejected.code == 1 && line.contains("drift \(id)") && !line.contains("(.)")
                && line.hasSuffix("(the --ledger directory itself)"), "\(rejected.out)")
        let json = try drift(["gate", "--repo", f.upstream, "--ledger", ledger, "--format", "json"])
        #expect(GateLedgerTests.entries(json).first?["entry"] as? String == ".", "the JSON value is unchanged")
        let fixed = try r.clone("fix")
        try sh("git am -q '\(ledger)/drift.patch'", cwd: fixed)
        let ok = try drift(["gate", "--repo", fixed, "--ledger", ledger, "--format", "json"])
        #expect(ok.code == 0 && ok.out.contains("\"missing\" : []"), "\(ok.out)")
        #expect(!ok.out.contains("[\n\n"), "\(ok.out)")
        #expect(GateLedgerTests.entries(ok).first?["missing"] as? [String] == [], "still valid JSON: \(ok.out)")
    }

    @Test("empty containers compact outside strings only; strings keep '[ ]' and escaped quotes")
    func compactEmptyContainers() throws {
        let raw = "{\n  \"a\" : [\n\n  ],\n  \"b\" : \"[\\\" \\n ]\",\n  \"c\" : {\n\n  },\n  \"d\" : [\n    1\n  ]\n}"
        let out = String(decoding: JSONCoding.compactEmptyContainers(Array(raw.utf8)), as: UTF8.self)
        #expect(out == "{\n  \"a\" : [],\n  \"b\" : \"[\\\" \\n ]\",\n  \"c\" : {},\n  \"d\" : [\n    1\n  ]\n}",
                "\(out)")
        let quoted = Array("[\"[  ]\", \"{ }\"]".utf8)
        #expect(JSONCoding.compactEmptyContainers(quoted) == quoted)
        let empty = Gate.Report(repo: "r", commit: nil, ok: true, entries: [], image: nil)
        let encoded = String(decoding: try GateOutput.json(empty), as: UTF8.self)
        #expect(encoded.contains("\"entries\" : []"), "\(encoded)")
    }
}
