import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Incident 12 (a newcomer's incident on pallets/click), the secret findings: after PID 1's
/// `HF_TOKEN` was rotated, drift's own advice `drift forget --release HF_TOKEN` un-withheld the
/// file the old token had been pasted into, and the next export shipped it (F12); before that,
/// every drifted file was withheld with no word in `drift status` (F11).
@Suite("Incident 12: a released or rotated secret value")
struct Incident12SecretTests {
    static func common(_ f: Fixture) -> [String] { ["--manifest", f.mdir, "--state", f.state] }

    static func environ(_ f: Fixture, _ vars: [String: String]) throws -> [String: String] {
        let path = f.dir.sub("pid1.environ")
        let body = vars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\0" }.joined()
        try Data(("PATH=/usr/bin\0" + body).utf8).write(to: URL(fileURLWithPath: path))
        return ["DRIFT_TEST_PID1_ENVIRON": path]
    }

    static func report(_ r: Run) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
    }

    /// PID 1's tokens pasted into code (withheld), a fix journaled, then a `.env` whose run
    /// learns more values after content was journaled, so every value known is remembered.
    static func pastedThenRemembered(_ f: Fixture, _ vars: [String: String]) throws -> [String: String] {
        try f.bake()
        let env = try environ(f, vars)
        try sh("printf 'HF = \"%s\"\\n' '\(vars["HF_TOKEN"] ?? "")' >> worker/main.py"
               + " && echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        if let other = vars["OPENAI_API_KEY"] {
            try write(f.workspace + "/worker/second.py", "OPENAI = '\(other)'\n")
        }
        #expect(try drift(["scan"] + common(f), env: env).code == 1)
        try write(f.workspace + "/.env.hotfix", "WORKER_AUTH_TOKEN=\(SecretLeakTests.token("wat-"))\n")
        let learned = try drift(["scan"] + common(f), env: env)
        #expect(learned.err.contains("more than at the last scan"), "\(learned.err)")
        return env
    }

    @Test("F12: rotated, released: the old token pasted in code, moved, re-encoded or edited around stays withheld")
    func releasedValueStaysWithheld() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let old = SecretLeakTests.token("hf_inc12PidOne") + "AbCdEf"
        _ = try Self.pastedThenRemembered(f, ["HF_TOKEN": old])
        // Rotated in the instance's environment (container restarted, state kept).
        let rotated = try Self.environ(f, ["HF_TOKEN": SecretLeakTests.token("hf_inc12ROTATED")])
        let release = try drift(["forget", "--release", "HF_TOKEN"] + Self.common(f), env: rotated)
        #expect(release.code == 0 && release.out.contains("released HF_TOKEN"), "\(release.out) \(release.err)")
        #expect(release.out.contains("worker/main.py") && release.out.contains("stays withheld"), "\(release.out)")
        // The attacker's variants, after the release: another offset inside a longer token, inside
        // a URL, base64 and hex, the file renamed with its lines edited around the value.
        let b64 = Data(old.utf8).base64EncodedString()
        let hex = old.utf8.map { String(format: "%02x", $0) }.joined()
        try sh("""
            printf 'X = "prefix%ssuffix"\\n' '\(old)' > worker/longer.py
            printf 'U = "https://hf.co/api?token=%s&x=1"\\n' '\(old)' > worker/url.py
            printf 'B = "%s"\\nH = "%s"\\n' '\(b64)' '\(hex)' > worker/encoded.py
            mv worker/main.py worker/renamed.py && sed -i 's/^HF = /TOKEN_NOW = /' worker/renamed.py
            echo 'MORE = 2' >> worker/renamed.py
            """, cwd: f.workspace)
        let scan = try drift(["scan", "--format", "json"] + Self.common(f), env: rotated)
        let flagged = SecretLeakTests.flagged(Self.report(scan))
        #expect(flagged == ["worker/longer.py", "worker/url.py", "worker/encoded.py", "worker/renamed.py"],
                "\(flagged) \(scan.err)")
        let out = f.dir.sub("rot2")
        let export = try drift(["export", "--output", out] + Self.common(f), env: rotated)
        #expect(export.code == 0, "\(export.out) \(export.err)")
        let diff = try drift(["diff"] + Self.common(f), env: rotated)
        var leaks = LeakSearch()
        for (what, r) in [("release", release), ("scan", scan), ("export", export), ("diff", diff)] {
            leaks.add(what, r.out + r.err)
        }
        leaks.addFile("export patch", out + "/drift.patch")
        leaks.addFile("state.json", f.state + "/state.json")
        try leaks.addRepository("journal objects", f.state + "/journal.git")
        leaks.expectAbsent(old, "released HF_TOKEN")
        for (what, text) in leaks.texts {
            #expect(!text.contains(b64) && !text.contains(hex), "\(what) holds the old token encoded")
        }
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 1"), "honest code still goes: \(patch)")
    }

    @Test("F12: two names released one after the other: both old values stay withheld, the rest is exported")
    func twoNamesReleased() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let hf = SecretLeakTests.token("hf_two"), openai = SecretLeakTests.token("sk-two-")
        _ = try Self.pastedThenRemembered(f, ["HF_TOKEN": hf, "OPENAI_API_KEY": openai])
        let rotated = try Self.environ(f, ["HF_TOKEN": SecretLeakTests.token("hf_new"),
                                           "OPENAI_API_KEY": SecretLeakTests.token("sk-new-")])
        #expect(try drift(["forget", "--release", "HF_TOKEN"] + Self.common(f), env: rotated).code == 0)
        let second = try drift(["forget", "--release", "OPENAI_API_KEY"] + Self.common(f), env: rotated)
        #expect(second.code == 0 && second.out.contains("worker/second.py"), "\(second.out)")
        // Swapped: each old value now in the other's file.
        try write(f.workspace + "/worker/second.py", "HF = '\(hf)'\n")
        try sh("printf 'OPENAI = \"%s\"\\n' '\(openai)' >> worker/main.py", cwd: f.workspace)
        let out = f.dir.sub("out")
        let export = try drift(["export", "--output", out] + Self.common(f), env: rotated)
        #expect(export.code == 0, "\(export.err)")
        var leaks = LeakSearch()
        leaks.addFile("export patch", out + "/drift.patch")
        try leaks.addRepository("journal objects", f.state + "/journal.git")
        leaks.expectAbsent(hf, "released HF_TOKEN")
        leaks.expectAbsent(openai, "released OPENAI_API_KEY")
    }

    /// Runs of blanks as one space: status wraps its rows.
    static func flat(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    @Test("F11: rotated -e token: status, diff and export name HF_TOKEN of PID 1 and the remedy")
    func rotationNamesTheSource() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let old = SecretLeakTests.token("hf_f11")
        let env = try Self.pastedThenRemembered(f, ["HF_TOKEN": old])
        let first = try drift(["export", "--output", f.dir.sub("first")] + Self.common(f), env: env)
        #expect(first.code == 0, "\(first.err)")
        #expect(!(try drift(["status"] + Self.common(f), env: env)).out.contains("withholding"))
        let rotated = try Self.environ(f, ["HF_TOKEN": SecretLeakTests.token("hf_f11new")])
        try sh("echo 'FIX = 3' >> worker/util.py", cwd: f.workspace)
        #expect(try drift(["scan"] + Self.common(f), env: rotated).code == 1)
        let cause = "HF_TOKEN (PID 1's environment) holds another value now; if it will not come back (rotated, "
            + "removed): drift forget --release HF_TOKEN"
        let status = try drift(["status"] + Self.common(f), env: rotated)
        #expect(Self.flat(status.out).contains("withholding content of every drifted file: " + cause), "\(status.out)")
        let diff = try drift(["diff"] + Self.common(f), env: rotated)
        #expect(diff.out.contains("# drift: content of every drifted file withheld: " + cause), "\(diff.out)")
        #expect(diff.out.contains("content withheld (secret source missing: HF_TOKEN)"), "\(diff.out)")
        #expect(!diff.out.contains("secret files unreadable"), "\(diff.out)")
        let export = try drift(["export", "--output", f.dir.sub("refused")] + Self.common(f), env: rotated)
        #expect(export.code == 2 && export.err.contains("every drifted file is withheld: " + cause), "\(export.err)")
        // Released: the row goes with the next scan; the old value's file stays withheld.
        #expect(try drift(["forget", "--release", "HF_TOKEN"] + Self.common(f), env: rotated).code == 0)
        let after = try drift(["export", "--output", f.dir.sub("after")] + Self.common(f), env: rotated)
        #expect(after.code == 0, "\(after.err)")
        let status2 = try drift(["status"] + Self.common(f), env: rotated)
        #expect(!status2.out.contains("withholding"), "\(status2.out)")
        #expect(status2.out.contains("released      HF_TOKEN"), "\(status2.out)")
    }

    @Test("F12: a file named after the released token is not shipped either")
    func releasedValueInAName() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let old = SecretLeakTests.token("hf_name")
        _ = try Self.pastedThenRemembered(f, ["HF_TOKEN": old])
        let rotated = try Self.environ(f, ["HF_TOKEN": SecretLeakTests.token("hf_namenew")])
        #expect(try drift(["forget", "--release", "HF_TOKEN"] + Self.common(f), env: rotated).code == 0)
        try write(f.workspace + "/worker/cache_\(old).py", "X = 1\n")
        let out = f.dir.sub("out")
        let export = try drift(["export", "--output", out] + Self.common(f), env: rotated)
        var leaks = LeakSearch()
        leaks.add("export", export.out + export.err)
        leaks.addFile("export patch", out + "/drift.patch")
        leaks.expectAbsent(old, "released HF_TOKEN in a name")
        #expect(export.code == 2 || !((try? readWholeFile(out + "/drift.patch")) ?? []).isEmpty, "\(export.err)")
    }
}
