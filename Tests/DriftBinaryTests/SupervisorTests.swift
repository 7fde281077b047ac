import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

@Suite("drift watch under supervisord")
struct SupervisorTests {
    static let supervisord = "/usr/bin/supervisord"

    @Test("examples/supervisord/drift.conf: running, a SIGKILL is restarted and caught up, stop is TERM and exit 0",
          .enabled(if: FileManager.default.isExecutableFile(atPath: supervisord),
                   "Debian package supervisor is not installed (scripts/apt/watch.list)"))
    func supervised() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let repo = tests.deletingLastPathComponent().deletingLastPathComponent()
        var program = try String(contentsOfFile: repo.path + "/examples/supervisord/drift.conf", encoding: .utf8)
        // The example as shipped, with this test's paths.
        for (from, to) in [("/usr/local/bin/drift", driftBinary()), ("/etc/drift", f.mdir), ("/var/lib/drift", f.state),
                           ("/var/log/drift.jsonl", f.dir.sub("drift.jsonl")),
                           ("/var/lib/node_exporter/textfile/drift.prom", f.dir.sub("drift.prom")),
                           ("/var/log/drift-watch.log", f.dir.sub("drift-watch.log"))] {
            #expect(program.contains(from), "the example names \(from)")
            program = program.replacingOccurrences(of: from, with: to)
        }
        try write(f.dir.sub("conf.d/drift.conf"), program)
        let d = f.dir.path
        let conf = f.dir.sub("supervisord.conf")
        try write(conf, """
            [unix_http_server]
            file=\(d)/supervisor.sock
            [supervisord]
            logfile=\(d)/supervisord.log
            pidfile=\(d)/supervisord.pid
            childlogdir=\(d)
            nodaemon=true
            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
            [supervisorctl]
            serverurl=unix://\(d)/supervisor.sock
            [include]
            files = \(d)/conf.d/*.conf

            """)
        let sup = Process()
        sup.executableURL = URL(fileURLWithPath: Self.supervisord)
        sup.arguments = ["-n", "-c", conf]
        sup.standardOutput = FileHandle.nullDevice
        sup.standardError = FileHandle.nullDevice
        try sup.run()
        let state = StateDirectory(path: f.state)
        func ctl(_ args: [String]) throws -> Run { try run(["supervisorctl", "-c", conf] + args, timeout: 30) }
        defer {
            // Shut down over its socket (a signal from this test process may arrive blocked:
            // the mask is inherited); whatever is left is killed.
            _ = try? ctl(["shutdown"])
            let end = Date().addingTimeInterval(10)
            while sup.isRunning && Date() < end { usleep(20_000) }
            if sup.isRunning { kill(sup.processIdentifier, SIGKILL) }
            sup.waitUntilExit()
            if let w = WatchStatus.read(state), w.isAlive { kill(w.pid, SIGKILL) }
        }
        func watching(besides old: Int32?) throws -> Int32 {
            var found: Int32 = 0
            try waitUntil(30, "drift watch running under supervisord") {
                guard let w = WatchStatus.read(state), w.phase == "watching", w.isAlive, w.pid != old else {
                    return false
                }
                found = w.pid
                return true
            }
            return found
        }
        let first = try watching(besides: nil)
        // RUNNING once it has stayed up for the example's startsecs.
        try waitUntil(15, "supervisorctl status RUNNING") { try ctl(["status", "drift-watch"]).out.contains("RUNNING") }
        try sh("echo 'fix = 1' >> worker/util.py", cwd: f.workspace)
        try waitUntil(10, "the edit recorded") { stateItems(f.state) == ["worker/util.py": "modified"] }

        // A crash: supervisord restarts it; what changed meanwhile is caught by its first scan.
        kill(first, SIGKILL)
        try sh("echo n > worker/while_down.py", cwd: f.workspace)
        let second = try watching(besides: first)
        #expect(second != first)
        try f.waitConverged()
        #expect(stateItems(f.state)["worker/while_down.py"] == "added")

        // supervisorctl stop sends TERM (the example's stopsignal): exit 0, status says stopped.
        let stop = try ctl(["stop", "drift-watch"])
        #expect(stop.out.contains("drift-watch: stopped"), "\(stop.out)\(stop.err)")
        #expect(WatchStatus.read(state)?.phase == "stopped")
        let log = try String(contentsOfFile: f.dir.sub("supervisord.log"), encoding: .utf8)
        #expect(log.contains("stopped: drift-watch (exit status 0)"), "\(log)")
        let programLog = try String(contentsOfFile: f.dir.sub("drift-watch.log"), encoding: .utf8)
        #expect(programLog.contains("drift watch: stopped"))
        #expect(FileManager.default.fileExists(atPath: f.dir.sub("drift.prom")))
    }
}
