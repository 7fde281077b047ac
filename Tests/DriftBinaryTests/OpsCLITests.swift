import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 24, "one CLI": the default key, failures kept where operators look, `--wait` and
/// `DRIFT_STATE` everywhere, `diff PATH`, counts that keep files and pip apart, help that
/// promises only what exists, and text output without trailing spaces.
@Suite("one CLI", .serialized)
struct OpsCLITests {
    @Test("the default public key: used only when root-owned and writable by root alone; absent means none")
    func defaultKey() throws {
        let t = try TempDir()
        defer { t.remove() }
        let dir = t.sub("drift-keys"), key = dir + "/manifest.pub"
        #expect(try ManifestDirectory.trustedDefaultKey(key) == nil)
        try sh("mkdir -m 0755 '\(dir)' && openssl genpkey -algorithm ed25519 2>/dev/null "
               + "| openssl pkey -pubout -out '\(key)' && chmod 0644 '\(key)'")
        #expect(try ManifestDirectory.trustedDefaultKey(key) == key)
        for (setup, undo) in [("chmod 0664 '\(key)'", "chmod 0644 '\(key)'"),
                              ("chmod 0646 '\(key)'", "chmod 0644 '\(key)'"),
                              ("chmod 0775 '\(dir)'", "chmod 0755 '\(dir)'"),
                              ("chown 1:1 '\(key)'", "chown 0:0 '\(key)'"),
                              ("mv '\(key)' '\(key).real' && ln -s '\(key).real' '\(key)'",
                               "rm '\(key)' && mv '\(key).real' '\(key)'")] {
            try sh(setup)
            #expect(throws: DriftError.self, "\(setup)") { try ManifestDirectory.trustedDefaultKey(key) }
            try sh(undo)
        }
        #expect(try ManifestDirectory.trustedDefaultKey(key) == key)
    }

    @Test("a failed scan is kept: failed-scan.json, status, metrics, --log; the next good scan clears it")
    func failureKept() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let prom = f.dir.sub("drift.prom"), log = f.dir.sub("drift.jsonl")
        #expect(try drift(["scan", "--manifest", f.mdir, "--state", f.state]).code == 0)
        // A key that did not sign this (unsigned) manifest: the scan fails, exit 2.
        let key = f.dir.sub("pub.pem")
        try sh("openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout -out '\(key)'")
        let bad = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--public-key", key,
                             "--metrics", prom, "--log", log])
        #expect(bad.code == 2 && bad.err.hasPrefix("drift: manifest signature does not verify"), "\(bad.err)")
        #expect(FileManager.default.fileExists(atPath: f.state + "/failed-scan.json"))
        let metrics = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(metrics.contains("drift_last_run_failed{verb=\"scan\"} 1"), "\(metrics)")
        #expect(metrics.contains("drift_last_run_failed{verb=\"push\"} 0"), "\(metrics)")
        #expect(!metrics.contains("drift_files"), "a failed scan claims nothing about the workspace")
        let line = try String(contentsOfFile: log, encoding: .utf8)
        #expect(line.contains("\"verb\":\"scan\"") && line.contains("\"exit_code\":2"), "\(line)")
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        #expect(status.code == 0 && status.out.contains("scan FAILED"), "\(status.out)")
        #expect(status.out.contains("exit 2: manifest signature does not verify"), "\(status.out)")
        // Status with the wrong key still shows what the state dir knows, then the error.
        let partial = try drift(["status", "--manifest", f.mdir, "--state", f.state, "--public-key", key])
        #expect(partial.code == 2 && partial.out.contains("scan FAILED") && partial.out.contains("DOES NOT LOAD"))
        #expect(partial.err.hasPrefix("drift: manifest signature does not verify"), "\(partial.err)")
        let good = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--metrics", prom])
        #expect(good.code == 0)
        #expect(!FileManager.default.fileExists(atPath: f.state + "/failed-scan.json"))
        #expect(try String(contentsOfFile: prom, encoding: .utf8).contains("drift_last_run_failed{verb=\"scan\"} 0"))
        #expect(try drift(["status", "--manifest", f.mdir, "--state", f.state]).out.contains("none standing"))
        // A state dir inside the root is refused and gets nothing written, not even the failure.
        let inside = f.workspace + "/worker"
        let refused = try drift(["scan", "--manifest", f.mdir, "--state", inside])
        #expect(refused.code == 2)
        #expect(!FileManager.default.fileExists(atPath: inside + "/failed-scan.json"))
        // A push that fails is kept too, and shown by the next metrics file.
        #expect(try drift(["push", f.dir.sub("nowhere.git"), "--manifest", f.mdir, "--state", f.state]).code == 2)
        #expect(try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--metrics", prom]).code == 0)
        #expect(try String(contentsOfFile: prom, encoding: .utf8).contains("drift_last_run_failed{verb=\"push\"} 1"))
    }

    @Test("DRIFT_STATE is the default state dir; --wait works on diff and push")
    func stateEnvAndWait() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let viaEnv = try drift(["scan", "--manifest", f.mdir], env: ["DRIFT_STATE": f.state])
        #expect(viaEnv.code == 0, "\(viaEnv.err)")
        #expect(FileManager.default.fileExists(atPath: f.state + "/state.json"))
        // Another run holds the lock for 2 s.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [f.state + "/lock", "sleep", "2"]
        try holder.run()
        defer { holder.waitUntilExit() }
        usleep(300_000)
        for verb in [["diff"], ["push", f.dir.sub("remote.git"), "--wait", "0"]] {
            let busy = try drift(verb + ["--manifest", f.mdir], env: ["DRIFT_STATE": f.state])
            #expect(busy.code == 75, "\(verb): \(busy.err)")
        }
        let diff = try drift(["diff", "--manifest", f.mdir, "--wait", "10"], env: ["DRIFT_STATE": f.state])
        #expect(diff.code == 0, "diff --wait: \(diff.err)")
        // Past the lock, push says what is wrong (nothing exported), not "locked".
        let push = try drift(["push", f.dir.sub("remote.git"), "--manifest", f.mdir, "--wait", "10"],
                             env: ["DRIFT_STATE": f.state])
        #expect(push.code == 2 && push.err.contains("nothing exported yet"), "\(push.err)")
    }

    @Test("export, push and forget wait a minute for the lock by default, saying whom for; exit 75 names the holder")
    func writersWaitForTheLock() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        #expect(try f.scan().0.code == 1)
        // A holder of the state lock for 3 s (the watcher recording a big batch, incident 12 F14).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [f.state + "/lock", "sleep", "3"]
        try holder.run()
        defer { holder.waitUntilExit() }
        usleep(300_000)
        let who = "flock, pid \(holder.processIdentifier)"
        let busy = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", f.dir.sub("o0"),
                              "--wait", "0"])
        #expect(busy.code == 75 && busy.err.contains("another drift run holds the state lock (\(who); waited 0s); "
                                                    + "try again later or wait longer (--wait S)"), "\(busy.err)")
        let out = f.dir.sub("o1")
        let waited = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        #expect(waited.code == 0 && FileManager.default.fileExists(atPath: out + "/drift.bundle"), "\(waited.err)")
        #expect(waited.err.contains("drift: note: another drift run holds the state lock (\(who)); waiting up to "
                                    + "60s for it"), "\(waited.err)")
        // scan and diff keep trying once (cron, and the watcher's own client).
        let help = try drift(["scan", "--help"]).out + (try drift(["export", "--help"]).out)
        #expect(help.contains("(default: 0.0)") && help.contains("(default: 60.0)"), "\(help)")
    }

    /// A fixture with code drift in three files and pip drift (toml added, six removed).
    static func drifted() throws -> Fixture {
        let f = try Fixture()
        let venv = f.dir.sub("venv")
        try run(["python3", "-m", "venv", "--without-pip", venv])
        let pip = ["python3", "-m", "pip", "-q", "--disable-pip-version-check", "--python", venv + "/bin/python",
                   "install", "--no-index", "--find-links", Wheels.dir]
        let six = try run(pip + ["six==1.16.0"])
        if six.code != 0 { throw DriftError("pip: \(six.err)") }
        let sp = try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingWhitespace()
        try f.bake(["--site-packages", sp, "--requirements", f.workspace + "/requirements.instance.txt"])
        let toml = try run(pip + ["toml==0.10.2"])
        if toml.code != 0 { throw DriftError("pip: \(toml.err)") }
        let gone = try run(["python3", "-m", "pip", "-q", "--python", venv + "/bin/python", "uninstall", "-y", "six"])
        if gone.code != 0 { throw DriftError("pip: \(gone.err)") }
        try sh("echo 'x = 1' >> worker/util.py && echo 'y = 2' >> worker/main.py "
               + "&& echo 'queue: b' > config/settings.yaml", cwd: f.workspace)
        return f
    }

    @Test("diff PATH filters everything it prints; an unknown PATH is exit 2; counts keep files and pip apart",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func diffFilterAndCounts() throws {
        let f = try Self.drifted()
        defer { f.dir.remove() }
        let base = ["--manifest", f.mdir, "--state", f.state]
        let one = try drift(["diff"] + base + ["worker/util.py"])
        #expect(one.code == 1)
        #expect(one.out.contains("worker/util.py") && !one.out.contains("worker/main.py"), "\(one.out)")
        #expect(!one.out.contains("requirements") && !one.out.contains("toml") && !one.out.contains("settings.yaml"),
                "\(one.out)")
        let req = try drift(["diff"] + base + ["requirements.instance.txt"])
        #expect(req.out.contains("+toml==0.10.2") && !req.out.contains("worker/"), "\(req.out)")
        let all = try drift(["diff"] + base)
        #expect(all.out.contains("worker/main.py") && all.out.contains("+toml==0.10.2"))
        for badPath in ["worker/nope.py", "../etc", "/etc/passwd", "worker/../config"] {
            let bad = try drift(["diff"] + base + [badPath])
            #expect(bad.code == 2 && bad.out.isEmpty && bad.err.hasPrefix("drift: "), "\(badPath): \(bad.err)")
            #expect(bad.err.split(separator: "\n").count == 1)
        }
        // Counts: three drifted paths, two pip changes, never summed.
        let log = f.dir.sub("drift.jsonl"), prom = f.dir.sub("drift.prom")
        let (scan, json) = try f.scan(["--log", log, "--metrics", prom])
        #expect(scan.code == 1)
        let summary = json["summary"] as? [String: Any] ?? [:]
        #expect(summary["drifted"] as? Int == 3 && summary["pip"] as? Int == 2, "\(summary)")
        let text = try drift(["scan"] + base)
        #expect(text.out.contains("drifted 3, pip 2,"), "\(text.out)")
        #expect(text.out.contains("  added      toml -> 0.10.2\n"), "\(text.out)")
        #expect(text.out.contains("  removed    six 1.16.0\n"), "\(text.out)")
        let line = try String(contentsOfFile: log, encoding: .utf8)
        #expect(line.contains("\"pip\":2") && line.contains("\"by_change\":{\"modified\":3}"), "\(line)")
        let metrics = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(metrics.contains("drift_pip{change=\"added\"} 1"), "\(metrics)")
        #expect(metrics.contains("drift_pip{change=\"removed\"} 1"), "\(metrics)")
        // Status lists the pip drift beside the paths.
        let status = try drift(["status"] + base)
        #expect(status.out.contains("2 pip changes in site-packages:\n"), "\(status.out)")
        #expect(status.out.contains("  added      toml -> 0.10.2\n"), "\(status.out)")
        #expect(status.out.contains("  removed    six 1.16.0\n"), "\(status.out)")
        #expect(status.out.contains("3 drifted paths:"), "\(status.out)")
    }

    @Test("help promises only what exists; SARIF names drift's docs or nothing")
    func helpAndSarif() throws {
        let manifest = try drift(["manifest", "--help"])
        #expect(!manifest.out.lowercased().contains("inspect"), "\(manifest.out)")
        #expect(manifest.out.contains("create"))
        let report = Gate.Report(repo: "r", commit: String(repeating: "b", count: 40), ok: true, entries: [],
                                 image: nil)
        let none = String(decoding: try GateOutput.sarif(report), as: UTF8.self)
        #expect(!none.contains("informationUri") && !none.contains("example.invalid"), "\(none)")
        let url = "https://git.example.com/org/drift/blob/0123/docs/gate.md"
        #expect(String(decoding: try GateOutput.sarif(report, informationUri: url), as: UTF8.self).contains(url))
    }

    @Test("no trailing spaces in any verb's text output (scan, diff, export, push, status, log, gate, watch, help)",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func noTrailingSpaces() throws {
        let f = try Self.drifted()
        defer { f.dir.remove() }
        let base = ["--manifest", f.mdir, "--state", f.state]
        var outputs: [(String, String)] = []
        func take(_ name: String, _ args: [String]) throws {
            let r = try drift(args)
            outputs.append((name, r.out))
            outputs.append((name + " (stderr)", r.err))
        }
        try take("scan", ["scan"] + base)
        // The patch body is git's format (an empty context line is one space); drift's own lines are checked.
        let diff = try drift(["diff"] + base)
        let own = diff.out.split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { !$0.hasPrefix("diff --git") }
        outputs.append(("diff header", own.joined(separator: "\n")))
        try take("export", ["export"] + base + ["--output", f.dir.sub("out")])
        let remote = f.dir.sub("remote.git")
        try sh("git init -q --bare '\(remote)'")
        try take("push", ["push", remote] + base)
        try take("status", ["status"] + base)
        try take("log", ["log"] + base)
        try take("gate", ["gate", "--repo", f.upstream, "--ledger", f.dir.sub("out")])
        try take("manifest create", ["manifest", "create", "--root", f.workspace, "--repo", f.upstream,
                                     "--output", f.dir.sub("mdir2")])
        for verb in ["scan", "watch", "diff", "export", "push", "gate", "prune", "status", "log", "manifest",
                     "manifest create"] {
            try take("\(verb) --help", verb.split(separator: " ").map(String.init) + ["--help"])
        }
        try take("--help", ["--help"])
        try take("--version", ["--version"])
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        try sh("echo 'z = 3' >> worker/util.py", cwd: f.workspace)
        try waitUntil(10, "the watcher's line") {
            w.stdout.contains("drifted path(s)") && w.stdout.split(separator: "\n").count >= 3
        }
        #expect(w.terminate() == 0)
        outputs.append(("watch", w.stdout))
        #expect(outputs.count > 20)
        for (name, text) in outputs {
            for line in text.split(separator: "\n") where line.last == " " || line.last == "\t" {
                Issue.record("\(name): trailing space in \"\(line)\"")
            }
        }
    }
}
