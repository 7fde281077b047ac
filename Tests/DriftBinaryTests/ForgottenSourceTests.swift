import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Newcomer incident 10: a value in one run's own environment made the scan say "run drift
/// forget"; forget purged it; the watcher, started without that variable, journaled the file
/// again and `drift diff` printed it. The purged values' variable names are remembered
/// (`forgotten_sources`): a run without one withholds every drifted file's content.
@Suite("Forgotten sources remembered")
struct ForgottenSourceTests {
    /// scan, diff, export and every journal object of a run without the variable.
    static func leaks(_ f: Fixture, _ value: String, _ label: String, env: [String: String]) throws {
        let common = ["--manifest", f.mdir, "--state", f.state]
        let scan = try drift(["scan", "--format", "json"] + common, env: env)
        #expect(scan.code == 1, "\(scan.code) \(scan.err)")
        let json = (try? JSONSerialization.jsonObject(with: Data(scan.out.utf8))) as? [String: Any] ?? [:]
        #expect(SecretLeakTests.flagged(json).contains("worker/main.py"), "\(scan.out)")
        let diff = try drift(["diff"] + common, env: env)
        let out = f.dir.sub("out-" + label)
        let export = try drift(["export", "--output", out] + common, env: env)
        var leaks = LeakSearch()
        leaks.add("scan", scan.out + scan.err)
        leaks.add("diff", diff.out + diff.err)
        leaks.add("export", export.out + export.err)
        leaks.addFile("export patch", out + "/drift.patch")
        leaks.addFile("state.json", f.state + "/state.json")
        try leaks.addRepository("journal objects", f.state + "/journal.git")
        leaks.expectAbsent(value, label)
    }

    @Test("learned in one run's environment, forgotten, then a run without it: the value appears nowhere")
    func incidentSequence() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let key = SecretLeakTests.token("sk-incident10-")
        let common = ["--manifest", f.mdir, "--state", f.state]
        // Pasted while no run knows it: the watcher's (or cron's) scan journals it.
        try sh("printf 'KEY = \"%s\"\\n' '\(key)' >> worker/main.py && echo 'FIX = 1' >> worker/util.py",
               cwd: f.workspace)
        #expect(try drift(["scan"] + common).code == 1)
        // One run with the key in its own environment learns it and says to run drift forget.
        let learned = try drift(["scan"] + common, env: ["HTTPX_API_KEY": key])
        #expect(learned.err.contains("drift forget"), "\(learned.err)")
        let forget = try drift(["forget"] + common, env: ["HTTPX_API_KEY": key])
        #expect(forget.code == 0 && forget.out.contains("holding a secret"), "\(forget.out) \(forget.err)")
        #expect(!(try ForgetTests.allObjects(f.state + "/journal.git")).contains(key))
        // The watcher started without it: everything drifted is withheld, the variable named.
        let without = try drift(["scan"] + common)
        #expect(without.out.contains("HTTPX_API_KEY") && without.out.contains("not in this run's environment"),
                "\(without.out)")
        try Self.leaks(f, key, "a run without the forgotten variable", env: [:])
        let status = try drift(["status"] + common)
        #expect(status.out.contains("remembered    secret values of 1 source"), "\(status.out)")
        #expect(status.out.contains("                HTTPX_API_KEY\n"), "\(status.out)")
        // With the variable the file is withheld as secret content and the honest fix exported.
        let back = try drift(["export", "--output", f.dir.sub("back")] + common, env: ["HTTPX_API_KEY": key])
        #expect(back.code == 0, "\(back.err)")
        let patch = String(decoding: try readWholeFile(f.dir.sub("back") + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 1") && !patch.contains(key), "\(patch)")
        // Released on purpose (the key is rotated and will not come back): content is journaled again.
        let release = try drift(["forget", "--release", "HTTPX_API_KEY"] + common)
        #expect(release.code == 0 && release.out.contains("released HTTPX_API_KEY"), "\(release.out) \(release.err)")
        #expect(!(try drift(["status"] + common)).out.contains("remembered    "))
    }

    @Test("forget is the first run to know it, another name and a value with a non-ASCII byte")
    func forgetFirstOtherName() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let pw = SecretLeakTests.token("pw-é-")
        let common = ["--manifest", f.mdir, "--state", f.state]
        try sh("printf 'DSN = \"%s\"\\n' '\(pw)' >> worker/main.py", cwd: f.workspace)
        #expect(try drift(["scan"] + common).code == 1)
        let forget = try drift(["forget"] + common, env: ["Db_Passwd_2": pw])
        #expect(forget.code == 0 && forget.out.contains("holding a secret"), "\(forget.out) \(forget.err)")
        // Another variable set, this one missing: still withheld, and only this one named.
        let other = try drift(["scan"] + common, env: ["OTHER_TOKEN": SecretLeakTests.token("o-")])
        #expect(other.out.contains("Db_Passwd_2") && !other.out.contains("OTHER_TOKEN"), "\(other.out)")
        try Self.leaks(f, pw, "forgotten by a first-seen variable", env: [:])
    }
}
