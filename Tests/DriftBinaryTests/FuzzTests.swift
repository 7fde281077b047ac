import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
import DriftCLI

/// A seeded mutational fuzzer for every reader of untrusted bytes. Each target must only
/// ever return or throw `DriftError` (or `GitError` from libgit2) — a crash kills the test
/// process and fails the run.
/// `DRIFT_FUZZ_SECONDS` sets the time per target (default 1.5 s in the suite; the 10-minute
/// runs are recorded in docs/threat-model.md). Seeds live in Tests/Fuzz/corpus/<target>/.
enum Fuzz {
    static var seconds: Double { Double(ProcessInfo.processInfo.environment["DRIFT_FUZZ_SECONDS"] ?? "") ?? 1.5 }
    static var corpusRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus").path
    }

    static func seeds(_ target: String) throws -> [[UInt8]] {
        let dir = corpusRoot + "/" + target
        return try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            .map { try readWholeFile(dir + "/" + $0) }
    }

    /// xorshift64*: deterministic per seed, so a failure reproduces from the logged seed.
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    }

    static let interesting: [[UInt8]] = ["\n", " ", "%", "%FF", "\"", ",", "..", "/", "\0", "\r\n", "sha256=",
                                          "-", "[", "!", "*", "\\",
                                          "entries 999999999999", "F 100644 ", "L 120000 ", "PACK", "# v2 git bundle\n",
                                          "&a ", "*a", "!t ", "|\n", "{", "}", ": ", "'", "\t", "\\u00",
                                          "- ", "---\n", "? "]
        .map { Array($0.utf8) }

    static func mutate(_ input: [UInt8], _ rng: inout RNG) -> [UInt8] {
        var b = input
        for _ in 0...rng.below(4) {
            switch rng.below(6) {
            case 0 where !b.isEmpty: b[rng.below(b.count)] ^= UInt8(1 << rng.below(8))
            case 1 where !b.isEmpty: b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next())
            case 2 where !b.isEmpty:
                let s = rng.below(b.count)
                b.removeSubrange(s..<min(b.count, s + 1 + rng.below(16)))
            case 3: b.insert(contentsOf: interesting[rng.below(interesting.count)], at: rng.below(b.count + 1))
            case 4 where !b.isEmpty:
                let s = rng.below(b.count)
                b.insert(contentsOf: b[s..<min(b.count, s + rng.below(64))], at: rng.below(b.count + 1))
            default: b = Array(b.prefix(rng.below(b.count + 1)))
            }
        }
        return b
    }

    /// What a run did: every mutant was either read (`accepted`) or refused with one of the
    /// expected error types (`refused`); anything else — another error type, a crash — fails.
    struct Tally {
        var executions = 0
        var accepted = 0
        var refused = 0

        /// Both the reading and the refusing path were taken: a reader that refuses everything
        /// (or accepts everything) is not being fuzzed, whatever the number of executions.
        var reachedBoth: Bool { accepted > 0 && refused > 0 }
    }

    /// Runs `body` on mutants of the target's seeds for `seconds`. A refusal must be one of the
    /// readers' own error types with a one-line sentence; any other error ends the run (thrown).
    static func run(_ target: String, seed: UInt64 = 0x5EED, extraSeeds: [[UInt8]] = [],
                    _ body: ([UInt8]) throws -> Void) throws -> Tally {
        let corpus = try seeds(target) + extraSeeds
        var rng = RNG(state: seed)
        let end = Date().addingTimeInterval(seconds)
        var tally = Tally()
        while Date() < end {
            let input = mutate(corpus[rng.below(corpus.count)], &rng)
            // GitError: libgit2's own refusal of a damaged pack; DriftError: a reader's (or the gate's) sentence.
            do {
                try body(input)
                tally.accepted += 1
            } catch let e as DriftError {
                #expect(!e.message.isEmpty && !e.message.contains("\n"), "\(target): refusal \(e.message)")
                tally.refused += 1
            } catch is GitError {
                tally.refused += 1
            } catch is PatternError {
                tally.refused += 1
            }
            tally.executions += 1
        }
        let n = tally.executions
        // Long runs append their tally to $DRIFT_FUZZ_LOG (the closing note quotes it).
        if let log = ProcessInfo.processInfo.environment["DRIFT_FUZZ_LOG"] {
            let line = "fuzz \(target): \(n) executions in \(Int(seconds)) s, 0 crashes (seed \(seed))\n"
            try? Telemetry.append(Array(line.utf8), to: log)
        }
        return tally
    }
}

@Suite("Fuzzing")
struct FuzzTests {
    @Test func manifestReader() throws {
        let t = try Fuzz.run("manifest") { _ = try Manifest.parse($0, file: "fuzz") }
        #expect(t.reachedBoth, "\(t)")
    }

    @Test func policyReader() throws {
        let t = try Fuzz.run("policy") { _ = try Policy.parse($0, file: "fuzz") }
        #expect(t.reachedBoth, "\(t)")
    }

    @Test func yamlSubsetReader() throws {
        let sample = Array(YAMLSubsetTests.sample.utf8)
        // The YAML reader's refusal is a YAMLError on a line of the document, with a message;
        // any other error type (or a crash) fails the run.
        var refusals = 0
        let t = try Fuzz.run("policy", seed: 0x9A41, extraSeeds: [sample]) { b in
            do { _ = try YAMLSubset.parse(b) } catch let e as YAMLError {
                let lines = b.count(where: { $0 == 0x0A }) + 1
                #expect((1...lines).contains(e.line) && !e.message.isEmpty, "line \(e.line): \(e.message)")
                refusals += 1
            }
        }
        #expect(t.accepted > refusals && refusals > 0 && t.refused == 0, "\(t), \(refusals) YAML errors")
    }

    /// Random trees written in random styles parse back to themselves.
    @Test func yamlSubsetRoundTrip() throws {
        var gen = YAMLGenerator(rng: Fuzz.RNG(state: 0xD0C5))
        for i in 0..<1500 {
            let root = YAMLGenerator.Tree.map((0...gen.rng.below(3)).map { ("k\($0)", gen.tree(depth: 1)) })
            let doc = gen.document(root)
            let parsed: String
            do {
                parsed = yamlRender(try YAMLSubset.parse(Array(doc.utf8)))
            } catch {
                parsed = "line \(error.line): \(error.message)"
            }
            #expect(parsed == root.rendered, "document \(i):\n\(doc)")
            if parsed != root.rendered { break }
        }
    }

    /// 200,000 levels of every nesting form stop at level 65 with a line number, no recursion.
    @Test(arguments: [
        ("", "[", "", 1), ("", "{a: ", "", 1), ("", "- ", "x", 1), ("ignore: ", "[", "", 1),
        ("w:\n", "  - ", "x", 2), ("a: ", "[{b: ", "", 1), ("", "[\n", "", 65),
    ])
    func deepNesting(head: String, unit: String, tail: String, line: Int) throws {
        let doc = Array((head + String(repeating: unit, count: 200_000) + tail).utf8)
        #expect(throws: YAMLError(line: line, message: "unsupported YAML: nesting deeper than 64 levels")) {
            try YAMLSubset.parse(doc)
        }
    }

    /// Block mappings as deep as 1 MiB allows (1,400 levels, one more space each).
    @Test func deepIndentation() throws {
        let indented = (0..<1400).map { String(repeating: " ", count: $0) + "a:\n" }.joined()
        #expect(throws: YAMLError(line: 65, message: "unsupported YAML: nesting deeper than 64 levels")) {
            try YAMLSubset.parse(Array(indented.utf8))
        }
    }

    /// The real binary given a 200,000-deep policy: one `drift: file:line:` line, exit 2,
    /// nothing written (before this parser it died of SIGSEGV).
    @Test func deepPolicyExitsTwo() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let before = try sh("find . | sort", cwd: f.workspace)
        for (name, body) in [("flow.yaml", "ignore: " + String(repeating: "[", count: 200_000)),
                             ("block.yaml", "ignore:\n  " + String(repeating: "- ", count: 200_000) + "x\n")] {
            let policy = f.dir.sub(name)
            try write(policy, body)
            let r = try drift(["manifest", "create", "--root", f.workspace, "--repo", f.upstream, "--output", f.mdir,
                               "--policy", policy])
            #expect(r.code == 2)
            #expect(r.err.split(separator: "\n").count == 1, "\(r.err)")
            let line = name == "flow.yaml" ? 1 : 2
            #expect(r.err.hasPrefix("drift: \(policy):\(line): unsupported YAML: nesting deeper than 64"), "\(r.err)")
            #expect(!FileManager.default.fileExists(atPath: f.mdir))
            let gate = try drift(["gate", "--repo", f.upstream, "--ledger", f.dir.sub("ledger"), "--policy", policy])
            #expect(gate.code == 2)
            #expect(gate.err.split(separator: "\n").count == 1, "\(gate.err)")
            #expect(gate.err.hasPrefix("drift: \(policy):\(line): unsupported YAML: nesting deeper"), "\(gate.err)")
        }
        #expect(try sh("find . | sort", cwd: f.workspace) == before)
    }

    /// The policy loader as `scan` runs it: pin checked first, then the (bounded) parser.
    @Test func policyLoader() throws {
        let hostile: [[UInt8]] = ["size_limit: 9999999999GiB\n", "size_limit: 99999999999999999999\n",
                                  "deadline: 1e308d\n", "deadline: infh\n",
                                  "size_limit: -1KiB\n"].map { Array($0.utf8) }
        for h in hostile { #expect(throws: DriftError.self) { try Policy.parse(h, file: "hostile") } }
        #expect(try Fuzz.run("policy", extraSeeds: hostile) { b in
            let raw = ManifestDirectory.Raw(
                manifestFile: Array("m".utf8),
                manifestBytes: Array("drift-manifest 1\npolicy-sha256 \(try SHA256Hasher.digest(b).hex)\n".utf8),
                policyFile: Array("p".utf8), policyBytes: b)
            try raw.verifyPolicyPin()
            _ = try raw.parsePolicy()
        }.reachedBoth)
    }

    /// The CLI argument vector: any mix of verbs, flags and hostile values parses to a run or
    /// to one `drift: …` line; nothing traps.
    @Test func argumentVector() throws {
        let tokens = ["scan", "export", "diff", "gate", "status", "push", "manifest", "create", "--output", ".", "o",
                      "--wait", "1e308", "-1", "nan", "inf", "0", "86401", "--format", "json", "sarif", "--state", "/",
                      "--root", "..", "--manifest", "--full", "--force", "--fail-on", "overdue", "--log", "--metrics",
                      "--id", "--", "-", "", "\u{0}", String(repeating: "9", count: 400), "--public-key",
                      "--from-journal"]
        var rng = Fuzz.RNG(state: 0xA76)
        let end = Date().addingTimeInterval(Fuzz.seconds)
        var accepted = 0
        var refused = 0
        while Date() < end {
            let argv = (0..<rng.below(9)).map { _ in tokens[rng.below(tokens.count)] }
            if let line = Drift.checkArguments(argv) {
                #expect(line.hasPrefix("drift: ") && !line.contains("\n"))
                refused += 1
            } else {
                accepted += 1
            }
        }
        #expect(accepted > 0 && refused > 0, "\(accepted) accepted, \(refused) refused")
        #expect(Drift.checkArguments(["scan", "--wait", "1e308"]) != nil)
        #expect(Drift.checkArguments(["export", "--output", "o", "--wait", "nan"]) != nil)
    }

    @Test func recordReader() throws {
        let t = try Fuzz.run("record") { _ = try RecordFile.parse($0, file: "fuzz") }
        #expect(t.reachedBoth, "\(t)")
    }

    @Test func metadataReader() throws {
        #expect(try Fuzz.run("metadata") { b in
            _ = try CoreMetadata.nameAndVersion(b, file: "fuzz")
            _ = Requirements.pins(String(decoding: b, as: UTF8.self))
            _ = PEP440Version(String(decoding: b.prefix(64), as: UTF8.self))
        }.reachedBoth)
    }

    @Test func bundleReader() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let upstream = try GitRepository(path: f.upstream)
        let rev = try upstream.resolveCommit("HEAD")
        let ledger = f.dir.sub("ledger")
        try FileManager.default.createDirectory(atPath: ledger + "/e", withIntermediateDirectories: true)
        let reader = LedgerReader(ledger: Array(ledger.utf8), upstream: upstream, rev: rev)
        // A real export against this repository seeds the deep paths (pack, commit, tree).
        try f.bake()
        try sh("echo 'x = 1' >> worker/util.py && rm config/settings.yaml", cwd: f.workspace)
        #expect(try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", f.dir.sub("out")]).code == 0)
        let real = try readWholeFile(f.dir.sub("out") + "/drift.bundle")
        // The entry is the real export (patch, report): the real bundle in it must read, so a
        // refusal below is the bundle's, not a missing file's.
        for name in ["drift.patch", "report.json"] {
            try FileManager.default.copyItem(atPath: f.dir.sub("out") + "/" + name, toPath: ledger + "/e/" + name)
        }
        try Data(real).write(to: URL(fileURLWithPath: ledger + "/e/drift.bundle"))
        _ = try reader.read("e")
        // Seeds are bundles against a fixed base; rebase their prerequisite onto this repo's.
        let n = try Fuzz.run("bundle", extraSeeds: [real]) { b in
            var bytes = b
            if let r = bytes.firstRange(of: Array("-0000000000000000000000000000000000000000".utf8)) {
                bytes.replaceSubrange(r, with: Array("-\(rev.hex)".utf8))
            }
            try Data(bytes).write(to: URL(fileURLWithPath: ledger + "/e/drift.bundle"))
            _ = try reader.read("e")
        }
        // A mutated bundle's pack checksum almost never survives: refusals are what is fuzzed.
        #expect(n.refused > 0, "\(n)")
    }
}
