import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

@Suite("Operations")
struct OpsTests {
    @Test("the state lock: busy → exit 75 at once, --wait waits, kill -9 leaves no stale lock")
    func lock() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo x >> worker/util.py", cwd: f.workspace)
        #expect(try f.scan().0.code == 1)
        // Another holder of the lock (flock(1), the same kernel lock drift takes).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["-o", f.state + "/lock", "sleep", "4"]
        try holder.run()
        usleep(300_000)
        let busy = try drift(["scan", "--manifest", f.mdir, "--state", f.state])
        #expect(busy.code == 75 && busy.err.contains("another drift run holds the state lock"), "\(busy.err)")
        #expect(busy.err.split(separator: "\n").count == 1)
        // SIGKILL the holder: the kernel drops its lock at once (its orphaned `sleep` holds none).
        kill(holder.processIdentifier, SIGKILL)
        usleep(100_000)
        #expect(try drift(["scan", "--manifest", f.mdir, "--state", f.state]).code == 1)

        // --wait outlasts a short holder.
        let short = Process()
        short.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        short.arguments = ["-o", f.state + "/lock", "sleep", "1"]
        try short.run()
        usleep(200_000)
        #expect(try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--wait", "10"]).code == 1)
        short.waitUntilExit()
        holder.waitUntilExit()
    }

    @Test("two scans started together both finish; kill -9 mid-scan leaves state valid and no lock")
    func concurrentAndKilled() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        // A big data file makes a full scan last long enough to overlap and to kill.
        try sh("head -c 300000000 /dev/urandom > packages/models/big.bin", cwd: f.workspace)
        try f.bake()
        try sh("echo x >> worker/util.py", cwd: f.workspace)
        let both = (0..<2).map { _ in Process() }
        for p in both {
            p.executableURL = URL(fileURLWithPath: driftBinary())
            p.arguments = ["scan", "--manifest", f.mdir, "--state", f.state, "--full", "--wait", "60"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
        }
        for p in both { try p.run() }
        for p in both { p.waitUntilExit() }
        #expect(both.map(\.terminationStatus) == [1, 1])
        let state = try readWholeFile(f.state + "/state.json")
        #expect((try? JSONSerialization.jsonObject(with: Data(state))) != nil)
        // Kill a scan while it hashes; the next one runs at once and is right.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: driftBinary())
        p.arguments = ["scan", "--manifest", f.mdir, "--state", f.state, "--full"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        usleep(100_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let (r, j) = try f.scan()
        #expect(r.code == 1, "\(r.err)")
        #expect(changes(j) == ["worker/util.py": "modified"])
        #expect(try sh("git --git-dir='\(f.state)/journal.git' fsck --no-dangling 2>&1; echo rc=$?").contains("rc=0"))
    }

    @Test("deadlines: drift older than the policy deadline is overdue; --fail-on overdue")
    func deadlines() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try write(f.dir.sub("policy.yaml"),
                  String(decoding: PackageResources.default_yaml, as: UTF8.self) + "deadline: 24h\n")
        try f.bake(["--policy", f.dir.sub("policy.yaml")])
        try sh("echo x >> worker/util.py", cwd: f.workspace)
        let t0 = ["DRIFT_TEST_NOW": "2026-11-01T08:00:00Z"]
        let first = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json",
                               "--fail-on", "overdue"], env: t0)
        #expect(first.code == 0, "fresh drift is not overdue: \(first.out)")
        let later = ["DRIFT_TEST_NOW": "2026-11-02T09:00:00Z"]
        let second = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json",
                                "--fail-on", "overdue"], env: later)
        #expect(second.code == 1)
        let j = try JSONSerialization.jsonObject(with: Data(second.out.utf8)) as! [String: Any]
        #expect(files(j).first?["overdue"] as? Bool == true)
        #expect(files(j).first?["first_seen"] as? String == "2026-11-01T08:00:00Z")
        #expect((j["summary"] as? [String: Any])?["overdue"] as? Int == 1)
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state], env: later)
        #expect(status.code == 0 && status.out.contains("OVERDUE") && status.out.contains("worker/util.py"),
                "\(status.out)")
        #expect(Deadline.parse("end-of-day Europe/Berlin") != nil && Deadline.parse("soon") == nil)
    }

    @Test("metrics parse as Prometheus text and match the JSON report; the log gets one line per run")
    func metricsAndLog() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo x >> worker/util.py && echo n > worker/new.py && echo 'X=1' > .env", cwd: f.workspace)
        let prom = f.dir.sub("drift.prom"), log = f.dir.sub("drift.log")
        let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json",
                           "--metrics", prom, "--log", log])
        _ = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--log", log])
        let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        let text = try String(contentsOfFile: prom, encoding: .utf8)
        // The exposition format: HELP/TYPE comments, then `name{labels} value` samples.
        var values: [String: Double] = [:]
        let sample = try Regex(#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})?"#
                               + #" (-?[0-9.eE+]+|NaN|[+-]Inf)$"#)
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            #expect(line.wholeMatch(of: sample) != nil, "bad sample line: \(line)")
            let parts = line.split(separator: " ")
            values[String(parts[0])] = Double(parts[1])
        }
        #expect(values["drift_files{class=\"code\",change=\"modified\"}"] == 1)
        #expect(values["drift_files{class=\"code\",change=\"added\"}"] == 1)
        #expect(values["drift_files{class=\"config\",change=\"modified\"}"] == 1)
        #expect(values["drift_scan_errors"] == Double((j["errors"] as? [Any])?.count ?? -1))
        #expect(values["drift_overdue"] == 0)
        #expect(text.contains("drift_info{commit=\"\(j["commit"] as! String)\""))
        if let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let check = try sh("'\(promtool)' check metrics < '\(prom)'; echo rc=$?")
            #expect(check.contains("rc=0"), "\(check)")
        }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect(first["exit_code"] as? Int == 1 && first["clean"] as? Bool == false)
        #expect((first["by_change"] as? [String: Int])?["modified"] == 2)
        // No progress line on a pipe.
        #expect(!r.err.contains("hashing"))
    }

    @Test("""
        export --push to a real git daemon creates refs/drift/<host>/<id>; gate --ledger-refs sees it; \
        a re-run pushes nothing
        """)
    func pushToDaemon() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'fix = 1' >> worker/util.py", cwd: f.workspace)
        let served = f.dir.sub("served")
        try sh("mkdir -p '\(served)' && git clone -q --bare '\(f.upstream)' '\(served)/repo.git'")
        let port = 20_000 + Int(getpid() % 20_000)
        // Run git-daemon itself (not the `git daemon` wrapper) so terminating it ends the server.
        let execPath = try sh("git --exec-path").trimmingCharacters(in: .whitespacesAndNewlines)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: execPath + "/git-daemon")
        daemon.arguments = ["--reuseaddr", "--export-all", "--enable=receive-pack", "--listen=127.0.0.1",
                            "--port=\(port)", "--base-path=\(served)", served]
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        var up = false
        for _ in 0..<50 where !up {
            up = (try? run(["git", "ls-remote", "git://127.0.0.1:\(port)/repo.git"], timeout: 5))?.code == 0
            if !up { usleep(100_000) }
        }
        #expect(up, "git daemon did not start")
        let url = "git://127.0.0.1:\(port)/repo.git"
        let env = ["DRIFT_HOST": "gpu-node-7"]
        let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", f.dir.sub("out"),
                           "--push", url], env: env)
        #expect(r.code == 0 && r.out.contains("pushed refs/drift/gpu-node-7/"), "\(r.out)\(r.err)")
        let refs = try sh("git --git-dir='\(served)/repo.git' for-each-ref --format='%(refname)' refs/drift/")
        #expect(refs.hasPrefix("refs/drift/gpu-node-7/"))
        let again = try drift(["push", url, "--manifest", f.mdir, "--state", f.state], env: env)
        #expect(again.code == 0 && again.out.contains("already pushed"), "\(again.out)")
        let gate = try drift(["gate", "--repo", served + "/repo.git", "--ledger-refs"])
        #expect(gate.code == 1 && gate.out.contains("worker/util.py") && gate.out.contains("gpu-node-7"),
                "\(gate.out)\(gate.err)")
    }
}
