import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

@Suite("Odd trees and moving targets")
struct OddTreeTests {
    @Test("255-byte names, newline/backslash/quote/invalid UTF-8 names, hard links, deep and wide directories")
    func oddNames() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let w = f.workspace
        let long = String(repeating: "n", count: 252) + ".py"
        try write(w + "/odd/" + long, "long\n")
        for name in ["new\nline.py", "back\\slash.py", "quo\"te's.py", "tab\there.py"] {
            try write(w + "/odd/" + name, "x\n")
        }
        try writeFile(bytesPath: Array("\(w)/odd/bad".utf8) + [0xC3, 0x28, 0xFF] + Array(".py".utf8), "x\n")
        try sh("ln worker/util.py worker/hardlink.py", cwd: w)
        // 1,000 levels deep and 100,000 entries in one directory.
        try sh("p=deep; for i in $(seq 1000); do p=$p/d; done; mkdir -p \"$p\" && echo bottom > \"$p/f.py\"", cwd: w)
        try sh("mkdir wide && cd wide && seq 100000 | xargs touch", cwd: w)
        try f.bake()
        let (r0, j0) = try f.scan()
        #expect(r0.code == 0, "\(r0.err) \(files(j0).prefix(3))")
        try write(w + "/odd/" + long, "changed\n")
        try sh("echo changed >> worker/util.py && p=deep; for i in $(seq 1000); do p=$p/d; done;"
               + " echo x >> \"$p/f.py\" && rm wide/77777", cwd: w)
        try writeFile(bytesPath: Array("\(w)/odd/bad".utf8) + [0xC3, 0x28, 0xFF] + Array(".py".utf8), "changed\n")
        let (r, j) = try f.scan()
        #expect(r.code == 1, "\(r.err)")
        let ch = changes(j)
        #expect(ch["odd/" + long] == "modified")
        #expect(ch["worker/util.py"] == "modified" && ch["worker/hardlink.py"] == "modified")
        #expect(ch["wide/77777"] == "deleted")
        #expect(ch.keys.contains { $0.hasPrefix("deep/d/d/") && $0.hasSuffix("/f.py") })
        #expect(files(j).contains { $0["path_bytes"] != nil && $0["change"] as? String == "modified" })
        #expect(ch.count == 6, "\(ch.keys.sorted().map { $0.prefix(40) })")
        // The odd names travel through export and git am.
        try write(w + "/odd/new\nline.py", "changed too\n")
        let out = f.dir.sub("out")
        let e = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        #expect(e.code == 0, "\(e.err)")
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)' && cd '\(clone)' && git am -q '\(out)/drift.patch'")
        #expect(try sh("cat 'odd/new\nline.py'", cwd: clone) == "changed too\n")
    }

    @Test("a sparse 10 GB file is hashed without holding it in memory")
    func sparse() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try sh("truncate -s 10G packages/models/sparse.bin", cwd: f.workspace)
        let r = try run(["/usr/bin/time", "-f", "%M", driftBinary(), "manifest", "create", "--root", f.workspace,
                         "--repo", f.upstream, "--output", f.mdir], timeout: 300)
        #expect(r.code == 0, "\(r.err)")
        let rssKB = Int(r.err.split(separator: "\n").last ?? "") ?? .max
        #expect(rssKB < 200_000, "peak RSS \(rssKB) kB")
        let m = try String(contentsOfFile: f.mdir + "/manifest.txt", encoding: .utf8)
        // SHA-256 of 10 GiB of zeros (`head -c 10737418240 /dev/zero | openssl dgst -sha256`).
        let zeros = "732377e7f4a2abdc13ddfa1eb4c9c497fd2a2b294674d056cf51581b47dd586d"
        #expect(m.contains("F 100644 10737418240 \(zeros) packages/models/sparse.bin"))
    }

    @Test("a symlink root is refused; unreadable files are reported, not fatal to scan")
    func rootSymlinkAndUnreadable() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try sh("ln -s '\(f.workspace)' '\(f.dir.sub("link"))'")
        let r = try drift(["manifest", "create", "--root", f.dir.sub("link"), "--repo", f.upstream, "--output", f.mdir])
        #expect(r.code == 2 && r.err.contains("symlink root is refused"), "\(r.err)")
        try f.bake()
        let s = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--root", f.dir.sub("link")])
        #expect(s.code == 2 && s.err.contains("symlink root is refused"))
        // A file nobody may read (scan as nobody): reported in errors, exit 3.
        try sh("chmod -R a+rX '\(f.dir.path)' && chmod 000 worker/util.py && mkdir -p '\(f.state)'"
               + " && chown -R 65534 '\(f.state)'", cwd: f.workspace)
        let asNobody = getuid() == 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        let n = try run(asNobody + [driftBinary(), "scan", "--manifest", f.mdir, "--state", f.state,
                                    "--format", "json", "--full"])
        #expect(n.code == 3, "\(n.err) \(n.out)")
        #expect(n.out.contains("worker/util.py") && n.out.contains("Permission denied"))
    }

    @Test("a file appended to while it is hashed is never stored as truth; the next scan settles it")
    func movingTarget() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let rel = "packages/models/growing.bin"
        // 48 MB: hashed through mmap in tens of milliseconds, a window many appends land in.
        try sh("head -c 48000000 /dev/zero > \(rel)", cwd: f.workspace)
        try f.bake()
        // The race made (nearly) certain: a writer appends from before the scan starts until
        // after it returns, so every read of the file overlaps appends. Only a writer starved
        // of CPU for the whole hash misses it; then the scan is tried again.
        var hits = 0
        var tries = 0
        while hits == 0 && tries < 3 {
            tries += 1
            let appender = try Appender(path: f.workspace + "/" + rel)
            let (r, j) = try f.scan(["--full"])
            let appended = appender.stop()
            #expect(appended > 0)
            #expect(r.code == 1, "\(r.err)")
            let entry = try #require(files(j).first { $0["path"] as? String == rel })
            #expect(entry["change"] as? String == "modified")
            guard entry["unstable"] as? Bool == true else { continue }
            hits += 1
            // Caught mid-append: reported unstable, and its stat never cached as truth.
            let cache = StatCache.parse(try readWholeFile(f.state + "/statcache"))
            #expect(cache != nil && cache?.entries.contains { $0.path == Array(rel.utf8) } == false)
        }
        #expect(hits == 1, "appends never overlapped the hash in \(tries) scans: the unstable path went untested")
        // Settled: a quiet rescan (no --full) rehashes it, and reports a stable modification
        // with the true hash and size.
        let (_, j2) = try f.scan()
        let e2 = files(j2).first { $0["path"] as? String == rel }
        let truth = try sh("sha256sum '\(f.workspace)/\(rel)' | cut -c1-64")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let size = try sh("stat -c %s '\(f.workspace)/\(rel)'").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(e2?["unstable"] == nil && e2?["new_sha256"] as? String == truth)
        #expect((e2?["new_size"] as? Int).map(String.init) == size)
    }

    @Test("secrets never reach reports, logs, metrics, errors, diffs, the journal or exports")
    func secretMarker() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let marker = "MARKER-\(UInt32.random(in: 0...UInt32.max))-SECRET"
        for s in [".env", ".env.production", "certs/tls.key", "certs/ca.pem"] {
            try write(f.workspace + "/" + s, "value=\(marker)\n")
        }
        try sh("chmod 000 certs/tls.key && echo hot >> worker/util.py", cwd: f.workspace)
        let outputs = f.dir.sub("outputs")
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        var texts: [String] = []
        for args in [["scan", "--format", "json", "--log", outputs + "/log", "--metrics", outputs + "/m.prom"],
                     ["scan"], ["diff"], ["status"],
                     ["export", "--output", outputs + "/export"]] {
            let r = try drift([args[0], "--manifest", f.mdir, "--state", f.state] + args.dropFirst())
            texts += [r.out, r.err]
        }
        #expect(!texts.joined().contains(marker))
        let grep = try run(["grep", "-r", "-a", "-l", marker, outputs, f.state, f.mdir])
        #expect(grep.code == 1, "marker found in: \(grep.out)")
        let objects = try sh("git --git-dir='\(f.state)/journal.git' cat-file --batch-all-objects --batch"
                             + " | grep -a -c '\(marker)' || true")
        #expect(objects.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // Modes: the state dir is private, exports are 0600.
        #expect(try sh("stat -c %a '\(f.state)'").trimmingCharacters(in: .whitespacesAndNewlines) == "700")
        #expect(try sh("stat -c %a '\(outputs)/export/drift.patch'")
            .trimmingCharacters(in: .whitespacesAndNewlines) == "600")
    }
}

@Suite("Races")
struct RaceTests {
    @Test("""
        files replaced between stat and open and directories renamed during the walk: \
        no crash, nothing wrong cached
        """)
    func replaceAndRename() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try sh("mkdir -p churn/a && for i in $(seq 200); do echo $i > churn/a/f$i.py; done"
               + " && echo v0 > churn/victim.py", cwd: f.workspace)
        try f.bake()
        // Replace a file by rename (new inode, same size) and move a directory back and forth.
        let churn = Process()
        churn.executableURL = URL(fileURLWithPath: "/bin/sh")
        churn.arguments = ["-c", "cd '\(f.workspace)/churn' && for i in $(seq 300);"
                           + " do echo v$((i % 10)) > v.tmp && mv v.tmp victim.py; mv a b; mv b a; done"]
        try churn.run()
        var codes: Set<Int32> = []
        while churn.isRunning {
            let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json"])
            codes.insert(r.code)
            #expect([0, 1, 3].contains(r.code), "\(r.err)")
        }
        churn.waitUntilExit()
        // Settled: whatever the cache kept must agree with the files as they are now.
        usleep(UInt32(StatCache.racyMarginNs / 1000))
        let (r1, j1) = try f.scan()
        let (_, j2) = try f.scan(["--full"])
        #expect(r1.code != 2)
        #expect(changes(j1) == changes(j2), "cached scan and full rehash disagree: \(changes(j1)) vs \(changes(j2))")
        #expect(!codes.contains(2))
    }
}
