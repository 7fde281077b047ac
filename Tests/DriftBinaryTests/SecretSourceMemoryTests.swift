import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// A scan run from the host (outside the container's PID namespace, `/proc/1` is another
/// process) or without root cannot read the main process's secret variables: once a run has
/// read one, later runs that cannot withhold drifted content instead of journaling it
/// unchecked (newcomer incident 9: the shipped crontab line run on the host journaled a key
/// that lived only in the container's environment).
@Suite("Secret sources remembered")
struct SecretSourceMemoryTests {
    @Test("a run that cannot read a main-process secret an earlier run read withholds content, then records it")
    func missingMainProcessSource() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let key = SecretLeakTests.token("sk-proj-")
        let inside = f.dir.sub("pid1-container.environ"), host = f.dir.sub("pid1-host.environ")
        try Data("PATH=/usr/bin\0OPENAI_API_KEY=\(key)\0".utf8).write(to: URL(fileURLWithPath: inside))
        try Data("PATH=/usr/bin\0HOME=/root\0".utf8).write(to: URL(fileURLWithPath: host))
        let common = ["--manifest", f.mdir, "--state", f.state]
        // The container's cron scan: the key is a source (its name is remembered, never its value).
        try sh("echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let first = try run([driftBinary(), "scan"] + common, env: ["DRIFT_TEST_PID1_ENVIRON": inside])
        #expect(first.code == 1, "\(first.err)")
        let state = String(decoding: try readWholeFile(f.state + "/state.json"), as: UTF8.self)
        #expect(state.contains("OPENAI_API_KEY") && !state.contains(key), "\(state)")
        // The key pasted, the crontab line run on the host: PID 1 there has no such variable.
        try sh("printf 'KEY = \"%s\"\\n' '\(key)' >> worker/main.py", cwd: f.workspace)
        let outside = try run([driftBinary(), "scan", "--format", "json"] + common,
                              env: ["DRIFT_TEST_PID1_ENVIRON": host])
        // Drift outranks an incomplete scan (exit 1, as for an unreadable secret file); the
        // missing source is one of the scan's errors, named by where it was read.
        #expect(outside.code == 1, "\(outside.code) \(outside.err)")
        let json = (try? JSONSerialization.jsonObject(with: Data(outside.out.utf8))) as? [String: Any] ?? [:]
        let errors = (json["errors"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(errors == [host], "\(errors)")
        // Every drifted code file is unchecked, so flagged like secret content (no content, no hash).
        #expect(SecretLeakTests.flagged(json) == ["worker/util.py", "worker/main.py"], "\(SecretLeakTests.flagged(json))")
        #expect(outside.out.contains("OPENAI_API_KEY") && outside.out.contains("not there now"), "\(outside.out)")
        #expect(!outside.err.contains("no secret sources"), "a source known to exist: \(outside.err)")
        var leaks = LeakSearch()
        leaks.add("scan", outside.out + outside.err)
        leaks.addFile("state.json", f.state + "/state.json")
        try leaks.addRepository("journal objects", f.state + "/journal.git")
        leaks.expectAbsent(key, "a main-process key, scanned from the host")
        // Back in the container: the key is known again, main.py is withheld as its content,
        // the honest fix is journaled and exported.
        let back = try run([driftBinary(), "scan", "--format", "json"] + common,
                           env: ["DRIFT_TEST_PID1_ENVIRON": inside])
        #expect(back.code == 1, "\(back.err)")
        let report = (try? JSONSerialization.jsonObject(with: Data(back.out.utf8))) as? [String: Any] ?? [:]
        #expect(SecretLeakTests.flagged(report) == ["worker/main.py"], "\(SecretLeakTests.flagged(report))")
        let out = f.dir.sub("out")
        let export = try run([driftBinary(), "export", "--output", out] + common,
                             env: ["DRIFT_TEST_PID1_ENVIRON": inside])
        #expect(export.code == 0, "\(export.err)")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 1") && !patch.contains(key))
    }

    @Test("a secret learned after content holding it was journaled: the scan says to run drift forget, once")
    func learnedLater() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let pw = SecretLeakTests.token("pw-later-")
        let common = ["--manifest", f.mdir, "--state", f.state]
        try sh("printf 'DSN = \"postgres://app:%s@db/app\"\\n' '\(pw)' > worker/db_conf.py", cwd: f.workspace)
        let first = try run([driftBinary(), "scan"] + common)
        #expect(first.code == 1 && !first.err.contains("drift forget"), "\(first.err)")
        try sh("printf 'DB_PASSWORD=%s\\n' '\(pw)' >> .env", cwd: f.workspace)
        let learned = try run([driftBinary(), "scan"] + common)
        #expect(learned.err.contains("secret value(s) more than at the last scan")
                && learned.err.contains("drift forget"), "\(learned.err)")
        let again = try run([driftBinary(), "scan"] + common)
        #expect(!again.err.contains("drift forget"), "said once: \(again.err)")
        let forget = try run([driftBinary(), "forget"] + common)
        #expect(forget.code == 0, "\(forget.err)")
        var leaks = LeakSearch()
        try leaks.addRepository("journal objects", f.state + "/journal.git")
        leaks.expectAbsent(pw, "a password journaled before it was known")
    }

    @Test("drift as the container's main process (PID 1): its own secret variables are remembered as the main process's")
    func driftAsPID1() throws {
        let probe = try run(["unshare", "--pid", "--fork", "--mount-proc", "true"])
        try #require(probe.code == 0, "cannot make a PID namespace (unshare --pid --mount-proc): \(probe.err)")
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let key = SecretLeakTests.token("pid1-self-")
        let common = ["--manifest", f.mdir, "--state", f.state]
        try sh("echo 'FIX = 3' >> worker/util.py", cwd: f.workspace)
        // `docker run -e WORKER_API_KEY=… img drift scan`: drift is PID 1 with the key.
        let first = try run(["/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "/usr/bin/env",
                             "WORKER_API_KEY=\(key)", driftBinary(), "scan"] + common)
        #expect(first.code == 1, "\(first.err)")
        try sh("printf 'KEY = \"%s\"\\n' '\(key)' >> worker/main.py", cwd: f.workspace)
        let host = f.dir.sub("host.environ")
        try Data("PATH=/usr/bin\0".utf8).write(to: URL(fileURLWithPath: host))
        let outside = try run([driftBinary(), "scan"] + common, env: ["DRIFT_TEST_PID1_ENVIRON": host])
        #expect(outside.code == 1, "\(outside.err)")
        var leaks = LeakSearch()
        try leaks.addRepository("journal objects", f.state + "/journal.git")
        leaks.expectAbsent(key, "drift's own key as PID 1, scanned from elsewhere")
    }

    @Test("the memory is per boot: another boot id forgets the names")
    func perBoot() {
        let name = Array("OPENAI_API_KEY".utf8)
        let m = SecretSourceMemory.updated(nil, boot: "b1", current: [name])
        #expect(SecretSourceMemory.remembered(m, boot: "b1") == [name])
        #expect(SecretSourceMemory.remembered(m, boot: "b2").isEmpty)
        // A boot id that cannot be read keeps the names (fails closed) and is not forgotten.
        #expect(SecretSourceMemory.remembered(m, boot: nil) == [name])
        #expect(SecretSourceMemory.updated(m, boot: nil, current: []) == m)
        #expect(SecretSourceMemory.updated(m, boot: "b2", current: []) == nil)
        let odd = Array("K\u{1B}Y\n".utf8) + [0xFF]
        let n = SecretSourceMemory.updated(m, boot: "b1", current: [odd])
        #expect(SecretSourceMemory.remembered(n, boot: "b1") == [name, odd])
    }
}
