import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Attack review 10 of "Forgotten sources remembered": a remembered NAME is not the value. The
/// same name empty or rotated, the value's `.env.local` moved away, the container's main process
/// holding the same name with another value, and a forget run without the value all let the
/// purged key be journaled, diffed and exported again. `forgotten_sources` now keeps salted
/// digests of the values: a run that does not know one (under any name) withholds.
@Suite("Forgotten values remembered")
struct ForgottenValueTests {
    static func common(_ f: Fixture) -> [String] { ["--manifest", f.mdir, "--state", f.state] }

    /// A key pasted into code and journaled, then purged by a forget that knows it (`env`).
    /// `learn`: what makes the value known after the scan that journaled it.
    static func pastedAndForgotten(_ f: Fixture, _ key: String, env: [String: String],
                                   learn: () throws -> Void = {}) throws {
        try f.bake()
        try sh("printf 'KEY = \"%s\"\\n' '\(key)' >> worker/main.py && echo 'FIX = 1' >> worker/util.py",
               cwd: f.workspace)
        #expect(try drift(["scan"] + common(f)).code == 1)
        try learn()
        let forget = try drift(["forget"] + common(f), env: env)
        #expect(forget.code == 0 && forget.out.contains("removed 1 blob"), "\(forget.out) \(forget.err)")
        #expect(!(try ForgetTests.allObjects(f.state + "/journal.git")).contains(key))
        let state = String(decoding: try readWholeFile(f.state + "/state.json"), as: UTF8.self)
        #expect(state.contains("\"salt\"") && state.contains("\"digest\""), "\(state)")
    }

    @Test("A: the same variable empty, then rotated: the purged key appears nowhere")
    func sameNameOtherValue() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let key = SecretLeakTests.token("sk-live-A-")
        try Self.pastedAndForgotten(f, key, env: ["HTTPX_API_KEY": key])
        let empty = try drift(["scan"] + Self.common(f), env: ["HTTPX_API_KEY": ""])
        #expect(empty.out.contains("HTTPX_API_KEY") && empty.out.contains("not in this run's environment"),
                "\(empty.out)")
        try ForgottenSourceTests.leaks(f, key, "the variable empty", env: ["HTTPX_API_KEY": ""])
        // The key under another name is the key: nothing withheld for it.
        let renamed = try drift(["scan"] + Self.common(f), env: ["OTHER_API_KEY": key])
        #expect(!renamed.out.contains("not in this run's environment"), "\(renamed.out)")
        let rotated = ["HTTPX_API_KEY": SecretLeakTests.token("sk-live-rotated-")]
        try ForgottenSourceTests.leaks(f, key, "the variable rotated", env: rotated)
    }

    @Test("B: the value came from .env.local, moved away after forget: the key appears nowhere")
    func dotenvLocalMovedAway() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let key = SecretLeakTests.token("ghx9Lq2W-")
        try Self.pastedAndForgotten(f, key, env: [:]) {
            try write(f.workspace + "/.env.local", "HTTPX_API_KEY=\(key)\n")
        }
        try FileManager.default.moveItem(atPath: f.workspace + "/.env.local", toPath: f.dir.sub("env.saved"))
        let scan = try drift(["scan"] + Self.common(f))
        #expect(scan.out.contains(".env.local"), "\(scan.out)")
        try ForgottenSourceTests.leaks(f, key, ".env.local moved away", env: [:])
        // Released by the name the error gives (the file's path): content is shown again.
        let release = try drift(["forget", "--release", ".env.local"] + Self.common(f))
        #expect(release.out.contains("released .env.local"), "\(release.out) \(release.err)")
        let after = try drift(["scan"] + Self.common(f))
        #expect(!after.out.contains("Forgotten sources remembered"), "\(after.out)")
    }

    @Test("E: the container's main process holds the same name with another value: the key appears nowhere")
    func mainProcessSameName() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let key = SecretLeakTests.token("sk-live-E-")
        let pid1 = f.dir.sub("pid1.environ")
        let own = SecretLeakTests.token("sk-live-container-")
        try Data("PATH=/bin\0HTTPX_API_KEY=\(own)\0".utf8).write(to: URL(fileURLWithPath: pid1))
        try Self.pastedAndForgotten(f, key, env: ["HTTPX_API_KEY": key, "DRIFT_TEST_PID1_ENVIRON": pid1])
        try ForgottenSourceTests.leaks(f, key, "main process with its own value",
                                       env: ["DRIFT_TEST_PID1_ENVIRON": pid1])
    }

    @Test("G: forget without the learned value says so, and the key appears nowhere")
    func forgetWithoutTheValue() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let key = SecretLeakTests.token("sk-live-G-")
        try sh("printf 'KEY = \"%s\"\\n' '\(key)' >> worker/main.py && echo 'FIX = 1' >> worker/util.py",
               cwd: f.workspace)
        #expect(try drift(["scan"] + Self.common(f)).code == 1)
        let learned = try drift(["scan"] + Self.common(f), env: ["HTTPX_API_KEY": key])
        #expect(learned.err.contains("drift forget"), "\(learned.err)")
        let forget = try drift(["forget"] + Self.common(f))
        let notes = forget.err.split(separator: "\n").filter { $0.hasPrefix("drift: note: ") }
        #expect(forget.code == 0 && notes.count == 1 && notes.first?.contains("HTTPX_API_KEY") == true,
                "\(forget.out) \(forget.err)")
        let diff = try drift(["diff"] + Self.common(f))
        #expect(!(diff.out + diff.err).contains(key))
        // Where the value is known, forget purges it; runs without it then show it nowhere.
        let again = try drift(["forget"] + Self.common(f), env: ["HTTPX_API_KEY": key])
        #expect(again.code == 0 && again.out.contains("removed 1 blob"), "\(again.out) \(again.err)")
        try ForgottenSourceTests.leaks(f, key, "forget run without the value, then with it", env: [:])
    }

    @Test("a state.json of the names-only drift: the name is still checked, a value added beside it")
    func namesOnlyState() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let key = SecretLeakTests.token("sk-live-old-")
        try sh("printf 'KEY = \"%s\"\\n' '\(key)' >> worker/main.py", cwd: f.workspace)
        #expect(try drift(["scan"] + Self.common(f)).code == 1)
        let path = f.state + "/state.json"
        var json = try #require(try JSONSerialization.jsonObject(with: Data(readWholeFile(path))) as? [String: Any])
        json["forgotten_sources"] = ["boot": SystemInfo.bootID() ?? "unknown", "names": ["HTTPX_API_KEY"]]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        let without = try drift(["scan"] + Self.common(f))
        #expect(without.out.contains("HTTPX_API_KEY: a secret value"), "\(without.out)")
        let forget = try drift(["forget"] + Self.common(f), env: ["HTTPX_API_KEY": key])
        #expect(forget.out.contains("removed 1 blob"), "\(forget.out) \(forget.err)")
        let state = String(decoding: try readWholeFile(path), as: UTF8.self)
        #expect(state.contains("\"names\"") && state.contains("\"digest\""), "\(state)")
        try ForgottenSourceTests.leaks(f, key, "a names-only state", env: ["HTTPX_API_KEY": "x" + key.uppercased()])
    }
}
