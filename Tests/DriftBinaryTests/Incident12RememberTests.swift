import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Incident 12 attack, finding #1: a secret value pasted into code was withheld while live but
/// remembered only when a run learned values after content was journaled, so a value known from
/// the first scan (PID 1's `HF_TOKEN`, a `.env` of the first scan) was unknown once rotated and the
/// next export shipped the old one. Now the value content holds is remembered when first seen.
@Suite("Incident 12 attack: a value pasted into code is remembered")
struct Incident12RememberTests {
    static func common(_ f: Fixture) -> [String] { Incident12SecretTests.common(f) }

    /// The export's patch, its bundle's objects (fetched into a clone of upstream) and the journal.
    static func shipped(_ f: Fixture, _ out: String, into leaks: inout LeakSearch) throws {
        leaks.addFile("export patch", out + "/drift.patch")
        leaks.addFile("state.json", f.state + "/state.json")
        try leaks.addRepository("journal objects", f.state + "/journal.git")
        let clone = f.dir.sub("bundle-\(UInt32.random(in: 0...UInt32.max))")
        try sh("git clone -q --bare '\(f.upstream)' '\(clone)'"
               + " && git --git-dir='\(clone)' fetch -q '\(out)/drift.bundle' 'refs/heads/*:refs/heads/b/*'")
        try leaks.addRepository("bundle objects", clone)
    }

    @Test("PID 1's token known from the first scan, pasted, rotated: withheld and named, never shipped")
    func pastedEnvironmentValueRotated() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let old = SecretLeakTests.token("hf_attack1Old")
        let env = try Incident12SecretTests.environ(f, ["HF_TOKEN": old])
        #expect(try drift(["scan"] + Self.common(f), env: env).code == 0)
        try sh("printf 'HF = \"%s\"\\n' '\(old)' >> worker/main.py && echo 'FIX = 1' >> worker/util.py",
               cwd: f.workspace)
        #expect(try drift(["scan"] + Self.common(f), env: env).code == 1)
        let first = try drift(["export", "--output", f.dir.sub("x1")] + Self.common(f), env: env)
        #expect(first.code == 0, "\(first.err)")
        // The container restarts with the token rotated (the same boot).
        let rotated = try Incident12SecretTests.environ(f, ["HF_TOKEN": SecretLeakTests.token("hf_attack1New")])
        try sh("echo 'FIX = 2' >> worker/util.py", cwd: f.workspace)
        let scan = try drift(["scan"] + Self.common(f), env: rotated)
        let status = try drift(["status"] + Self.common(f), env: rotated)
        let cause = "HF_TOKEN (PID 1's environment) holds another value now; if it will not come back (rotated, "
            + "removed): drift forget --release HF_TOKEN"
        #expect(Incident12SecretTests.flat(status.out).contains("withholding content of every drifted file: " + cause),
                "\(status.out)")
        let refused = try drift(["export", "--output", f.dir.sub("x2")] + Self.common(f), env: rotated)
        #expect(refused.code == 2 && refused.err.contains("every drifted file is withheld: " + cause), "\(refused.err)")
        let diff = try drift(["diff"] + Self.common(f), env: rotated)
        var leaks = LeakSearch()
        let runs = [("export 1", first), ("scan", scan), ("status", status), ("export", refused), ("diff", diff)]
        for (what, r) in runs { leaks.add(what, r.out + r.err) }
        leaks.addFile("export 1 patch", f.dir.sub("x1") + "/drift.patch")
        leaks.addFile("refused patch", f.dir.sub("x2") + "/drift.patch")
        try leaks.addRepository("journal objects", f.state + "/journal.git")
        leaks.expectAbsent(old, "rotated HF_TOKEN")
        // Released: the old value's file stays withheld, the rest goes.
        let release = try drift(["forget", "--release", "HF_TOKEN"] + Self.common(f), env: rotated)
        #expect(release.code == 0 && release.out.contains("worker/main.py"), "\(release.out) \(release.err)")
        let out = f.dir.sub("x3")
        let export = try drift(["export", "--output", out] + Self.common(f), env: rotated)
        #expect(export.code == 0, "\(export.err)")
        var after = LeakSearch()
        after.add("export", export.out + export.err)
        try Self.shipped(f, out, into: &after)
        after.expectAbsent(old, "released HF_TOKEN")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 2"), "honest code still goes: \(patch)")
    }

    @Test("a .env of the first scan, its value pasted, the .env rotated: withheld, then kept out after release")
    func pastedDotenvValueRotated() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let old = SecretLeakTests.token("svc-attack1Old")
        try write(f.workspace + "/.env", "SERVICE_TOKEN=\(old)\n")
        try sh("printf 'CFG = [\"%s\"]\\n' '\(old)' >> worker/main.py && echo 'FIX = 1' >> worker/util.py",
               cwd: f.workspace)
        #expect(try drift(["scan"] + Self.common(f)).code == 1)
        let first = try drift(["export", "--output", f.dir.sub("x1")] + Self.common(f))
        #expect(first.code == 0, "\(first.err)")
        try write(f.workspace + "/.env", "SERVICE_TOKEN=\(SecretLeakTests.token("svc-attack1New"))\n")
        try sh("echo 'FIX = 2' >> worker/util.py", cwd: f.workspace)
        let scan = try drift(["scan"] + Self.common(f))
        let refused = try drift(["export", "--output", f.dir.sub("x2")] + Self.common(f))
        #expect(refused.code == 2 && refused.err.contains("drift forget --release .env"), "\(refused.err)")
        var leaks = LeakSearch()
        for (what, r) in [("export 1", first), ("scan", scan), ("export", refused)] { leaks.add(what, r.out + r.err) }
        leaks.addFile("export 1 patch", f.dir.sub("x1") + "/drift.patch")
        try leaks.addRepository("journal objects", f.state + "/journal.git")
        leaks.expectAbsent(old, "rotated .env value")
        #expect(try drift(["forget", "--release", ".env"] + Self.common(f)).code == 0)
        let out = f.dir.sub("x3")
        let export = try drift(["export", "--output", out] + Self.common(f))
        #expect(export.code == 0, "\(export.err)")
        var after = LeakSearch()
        try Self.shipped(f, out, into: &after)
        after.expectAbsent(old, "released .env value")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 2"), "\(patch)")
    }

    @Test("a variable in no content, rotated: not remembered, nothing withheld")
    func unrelatedVariableRotated() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let hf = SecretLeakTests.token("hf_attack1Kept")
        let env = try Incident12SecretTests.environ(f, ["HF_TOKEN": hf,
                                                        "OPENAI_API_KEY": SecretLeakTests.token("sk-a")])
        try sh("printf 'HF = \"%s\"\\n' '\(hf)' >> worker/main.py && echo 'FIX = 1' >> worker/util.py",
               cwd: f.workspace)
        #expect(try drift(["scan"] + Self.common(f), env: env).code == 1)
        #expect(try drift(["export", "--output", f.dir.sub("x1")] + Self.common(f), env: env).code == 0)
        let rotated = try Incident12SecretTests.environ(f, ["HF_TOKEN": hf,
                                                            "OPENAI_API_KEY": SecretLeakTests.token("sk-b")])
        try sh("echo 'FIX = 2' >> worker/util.py", cwd: f.workspace)
        let out = f.dir.sub("x2")
        let export = try drift(["export", "--output", out] + Self.common(f), env: rotated)
        #expect(export.code == 0, "\(export.err)")
        let status = try drift(["status"] + Self.common(f), env: rotated)
        #expect(!status.out.contains("withholding") && !status.out.contains("OPENAI_API_KEY"), "\(status.out)")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 2") && !patch.contains(hf), "\(patch)")
    }
}
