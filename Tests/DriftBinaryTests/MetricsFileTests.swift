import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Newcomer incident 10: the shipped crontab's `--metrics` directory did not exist (every cron
/// scan exited 2 naming a temporary file), and the cron scan and the watcher writing the same
/// file dropped each other's series (`drift_watch_degraded` flapped).
@Suite struct MetricsFileTests {
    /// Each metric's `# TYPE` line, in order (node_exporter refuses a file that repeats one).
    static func types(_ prom: String) -> [String] {
        prom.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
    }

    @Test("a --metrics or --log whose directory is missing: exit 2 naming the directory and the flag, nothing written")
    func missingDirectory() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let dir = f.dir.sub("node_exporter/textfile"), prom = dir + "/drift.prom"
        let common = ["--manifest", f.mdir, "--state", f.state]
        let scan = try drift(["scan", "--metrics", prom] + common)
        #expect(scan.code == 2, "\(scan.code) \(scan.err)")
        #expect(scan.err == "drift: \(dir): no such directory for --metrics \(prom); create it (mkdir -p -m 0755) "
                + "or give a file in a directory that exists\n", "\(scan.err)")
        #expect(!scan.err.contains(".tmp."))
        let log = try drift(["scan", "--log", f.dir.sub("nolog") + "/drift.jsonl"] + common)
        #expect(log.code == 2 && log.err.contains("no such directory for --log"), "\(log.err)")
        let watch = try drift(["watch", "--metrics", prom] + common, timeout: 30)
        #expect(watch.code == 2 && watch.err.contains("\(dir): no such directory for --metrics"), "\(watch.err)")
        #expect(!FileManager.default.fileExists(atPath: f.dir.sub("node_exporter")))
        // A directory that exists: the file is written.
        try sh("mkdir -p -m 0755 '\(dir)'")
        #expect(try drift(["scan", "--metrics", prom] + common).code == 0)
        #expect(FileManager.default.fileExists(atPath: prom))
    }

    @Test("the example image and on-start scripts create every --metrics directory the shipped examples write to")
    func examplesCreateTheDirectory() throws {
        let ex = repositoryRoot + "/examples/"
        let writers = try ["crontab", "supervisord/drift.conf"].map {
            try String(contentsOfFile: ex + $0, encoding: .utf8)
        }
        var dirs = Set<String>()
        for text in writers {
            for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix(";") {
                let words = line.split(separator: " ")
                for (i, w) in words.enumerated() where w == "--metrics" && i + 1 < words.count {
                    dirs.insert(WriteTarget.parentOf(String(words[i + 1])))
                }
            }
        }
        #expect(!dirs.isEmpty)
        for script in ["image/build-image.sh", "vast-onstart.sh"] {
            let text = try String(contentsOfFile: ex + script, encoding: .utf8)
            for d in dirs { #expect(text.contains("mkdir -p -m 0755 \(d)\n"), "\(script) does not create \(d)") }
        }
    }

    @Test("cron scan and watcher writing one metrics file: whichever writes last, the watcher's series are there")
    func scanKeepsWatchSeries() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let prom = f.dir.sub("drift.prom")
        let common = ["--manifest", f.mdir, "--state", f.state]
        let w = try WatchProcess(f, ["--metrics", prom])
        defer { w.kill() }
        try w.waitReady()
        try sh("echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        _ = try f.waitConverged()
        try waitUntil(10, "the watcher's metrics") {
            ((try? String(contentsOfFile: prom, encoding: .utf8)) ?? "").contains("drift_watch_batches_total")
        }
        let watcherTypes = Self.types(try String(contentsOfFile: prom, encoding: .utf8))
        // The cron scan, answered by the watcher and walking itself: the series stay, once each.
        for extra in [[], ["--no-watcher"]] {
            let scan = try drift(["scan", "--metrics", prom] + extra + common)
            #expect(scan.code == 1, "\(scan.err)")
            let text = try String(contentsOfFile: prom, encoding: .utf8)
            #expect(text.contains("\ndrift_watch_degraded 0\n") && text.contains("drift_watch_batches_total"),
                    "\(extra): \(text)")
            let types = Self.types(text)
            #expect(Set(types).count == types.count, "a metric repeated: \(types)")
            #expect(types == watcherTypes, "the scan's file has the watcher's series in its order")
        }
        // The watcher writes next: still every series.
        let before = WatchStatus.read(StateDirectory(path: f.state))?.batches ?? 0
        try sh("echo 'FIX = 2' >> worker/util.py", cwd: f.workspace)
        _ = try f.waitConverged()
        try waitUntil(10, "the watcher's next write") {
            let t = (try? String(contentsOfFile: prom, encoding: .utf8)) ?? ""
            return t.contains("drift_watch_degraded 0") && t.contains("drift_watch_batches_total \(before + 1)\n")
        }
        // Stopped: a scan's file has no watcher series (absent = no watcher running).
        #expect(w.terminate() == 0)
        #expect(try drift(["scan", "--metrics", prom] + common).code == 1)
        #expect(!(try String(contentsOfFile: prom, encoding: .utf8)).contains("drift_watch_"))
    }
}

/// Newcomer incident 10: docs/operations.md's `drift_files` labels left out `bytecode`.
@Suite struct MetricsDocsTests {
    @Test("docs/operations.md names every label value a scan's metrics file carries")
    func everyLabelDocumented() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let prom = f.dir.sub("drift.prom")
        #expect(try drift(["scan", "--metrics", prom, "--manifest", f.mdir, "--state", f.state]).code == 0)
        let docs = try String(contentsOfFile: repositoryRoot + "/docs/operations.md", encoding: .utf8)
        let text = try String(contentsOfFile: prom, encoding: .utf8)
        var checked = 0
        // Every combination of labels is written (zeros included): the file has every value.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let open = line.firstIndex(of: "{"), let close = line.firstIndex(of: "}") else { continue }
            let name = String(line[..<open])
            let rows = docs.split(separator: "\n").filter { $0.hasPrefix("| `\(name)") || $0.contains(", `\(name)") }
            for pair in line[line.index(after: open)..<close].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                let key = String(parts[0]), value = String(parts[1]).replacingOccurrences(of: "\"", with: "")
                if key == "commit" || key == "host" { continue }
                let listed = rows.contains { row in
                    row.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "_" }).contains { $0 == value }
                }
                #expect(listed, "docs/operations.md's \(name) row does not list \(key)=\(value)")
                checked += 1
            }
        }
        #expect(checked > 30, "\(text)")
    }
}
