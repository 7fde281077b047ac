import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Incident 11 (a newcomer's incident on psf/requests), the secret-memory findings: a container
/// recreated without the hotfix's `.env` was INCOMPLETE forever (F9), the "run drift forget"
/// note never reached the watcher's log or status (F8), and the status row was a 600-column
/// `forgotten` line listing the repository's own baked test keys (F3).
@Suite("Incident 11: remembered secret sources and the watcher")
struct Incident11SecretTests {
    static func common(_ f: Fixture) -> [String] { ["--manifest", f.mdir, "--state", f.state] }

    /// A paste journaled, then a `.env` added holding its token: the run that learns it remembers it.
    static func hotfixWithDotenv(_ f: Fixture, _ key: String) throws {
        try sh("printf 'KEY = \"%s\"\\n' '\(key)' >> worker/main.py", cwd: f.workspace)
        #expect(try drift(["scan"] + common(f)).code == 1)
        try write(f.workspace + "/.env.hotfix", "WORKER_AUTH_TOKEN=\(key)\n")
        let learned = try drift(["scan"] + common(f))
        #expect(learned.err.contains("more than at the last scan"), "\(learned.err)")
    }

    @Test("F9: recreated clean without the hotfix's .env: exit 0 with a note; drift again: the error names .env")
    func recreatedClean() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let key = SecretLeakTests.token("tok-incident11-")
        try Self.hotfixWithDotenv(f, key)
        // The container recreated from the image, the state volume kept: the workspace is clean.
        try sh("rm -f .env.hotfix && git -C '\(f.upstream)' show HEAD:worker/main.py > worker/main.py",
               cwd: f.workspace)
        let clean = try drift(["scan"] + Self.common(f))
        #expect(clean.code == 0 && clean.out.contains("clean"), "\(clean.code) \(clean.out) \(clean.err)")
        #expect(clean.err.contains(".env.hotfix") && clean.err.contains("drift forget --release"), "\(clean.err)")
        #expect(!clean.out.contains("/proc/1/environ"), "\(clean.out)")
        // Drift again without the value: withheld, and the error names the file and the way out.
        try sh("echo 'FIX = 2' >> worker/util.py", cwd: f.workspace)
        let (drifted, json) = try f.scan()
        // Drift outranks an incomplete scan (exit 1); the missing source is one of its errors.
        #expect(drifted.code == 1, "\(drifted.out)")
        let errors = json["errors"] as? [[String: Any]] ?? []
        let named = errors.first { ($0["path"] as? String) == ".env.hotfix" }
        #expect((named?["message"] as? String)?.contains("drift forget --release .env.hotfix") == true, "\(errors)")
        // Released: clean drift is shown again.
        let release = try drift(["forget", "--release", ".env.hotfix"] + Self.common(f))
        #expect(release.code == 0, "\(release.err)")
        #expect(try drift(["scan"] + Self.common(f)).code == 1)
    }

    @Test("F3: baked, unchanged secret files are not remembered; the status row says what it is")
    func bakedKeysNotRemembered() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        // The repository's own test key, baked into the image.
        try sh("mkdir -p tests/certs && openssl genrsa -out tests/certs/server.key 2048 2>/dev/null"
               + " && git add -A && git commit -qm 'test key'", cwd: f.upstream)
        try sh("mkdir -p tests/certs && cp '\(f.upstream)/tests/certs/server.key' tests/certs/", cwd: f.workspace)
        try f.bake()
        try Self.hotfixWithDotenv(f, SecretLeakTests.token("tok-incident11-"))
        let status = try drift(["status"] + Self.common(f))
        #expect(status.out.contains("remembered    secret values of"), "\(status.out)")
        #expect(status.out.contains(".env.hotfix"), "\(status.out)")
        #expect(!status.out.contains("server.key"), "\(status.out)")
        #expect(!status.out.contains("forgotten     "), "\(status.out)")
        for line in status.out.split(separator: "\n") { #expect(line.count <= 120, "\(line)") }
    }

    @Test("F8: with drift watch running, the forget note is in its log and status until a forget runs")
    func watcherSaysForget() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        let key = SecretLeakTests.token("latetok-")
        try sh("printf 'KEY = \"%s\"\\n' '\(key)' >> worker/main.py", cwd: f.workspace)
        try waitUntil(10, "the paste journaled") { stateItems(f.state)["worker/main.py"] == "modified" }
        try write(f.workspace + "/.env.local", "LATE_TOKEN=\(key)\n")
        try waitUntil(10, "the note in the watcher's log (stderr: \(w.stderr))") {
            w.stderr.contains("secret value(s) more than at the last scan")
        }
        let status = try drift(["status"] + Self.common(f))
        #expect(status.out.contains("forget        a run at"), "\(status.out)")
        #expect(w.terminate() == 0)
        let forget = try drift(["forget"] + Self.common(f))
        #expect(forget.code == 0 && forget.out.contains("removed 1 blob"), "\(forget.out) \(forget.err)")
        let after = try drift(["status"] + Self.common(f))
        #expect(!after.out.contains("forget        a run at"), "\(after.out)")
        #expect(after.out.contains(".env.local"), "\(after.out)")
    }
}
