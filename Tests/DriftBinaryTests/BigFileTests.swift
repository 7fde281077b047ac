import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Big files never starve small ones (issue 28): a new or resized file over the read limit is
/// summarised by size, mtime and data extents (SEEK_DATA/SEEK_HOLE) instead of read.
@Suite("big and sparse files")
struct BigFileTests {
    @Test("data extents of a sparse file come from SEEK_DATA/SEEK_HOLE")
    func extents() throws {
        let dir = try TempDir("extents")
        defer { dir.remove() }
        let p = dir.sub("sparse.bin")
        // 1 MiB of data at 64 MiB into a 1 GiB file (holes around it, where the file system has them).
        try sh("truncate -s 1G '\(p)' && dd if=/dev/urandom of='\(p)' bs=1M seek=64 count=1 conv=notrunc status=none")
        let fd = open(p, O_RDONLY)
        defer { close(fd) }
        let map = FileExtents.data(fd: fd, size: 1 << 30)
        if map.complete {
            #expect(map.dataBytes >= 1 << 20 && map.dataBytes < 1 << 30, "\(map.extents)")
            #expect(map.extents.contains { $0.offset <= 64 << 20 && $0.offset + $0.length >= 65 << 20 })
        }
        // An all-hole file has no data extents at all.
        let empty = dir.sub("hole.bin")
        try sh("truncate -s 1T '\(empty)'")
        let fd2 = open(empty, O_RDONLY)
        defer { close(fd2) }
        let holes = FileExtents.data(fd: fd2, size: 1 << 40)
        #expect(holes.dataBytes == 0 || !holes.complete)
    }

    @Test("a 1 TiB sparse file in a data path is reported unread and flagged, at once")
    func scanSparse() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("truncate -s 1T packages/models/huge.bin && echo 'x = 2' >> worker/util.py", cwd: f.workspace)
        let (r, j) = try f.scan()
        #expect(r.code == 1, "\(r.err)")
        #expect(changes(j) == ["packages/models/huge.bin": "added", "worker/util.py": "modified"])
        let huge = files(j).first { $0["path"] as? String == "packages/models/huge.bin" }
        #expect((huge?["flags"] as? [String]) == ["over-read-limit"], "\(huge ?? [:])")
        #expect(huge?["new_size"] as? Int64 == 1 << 40 || huge?["new_size"] as? Int == 1 << 40)
        // Touch re-arms nothing costly: the next scan summarises it again, still flagged.
        try sh("touch packages/models/huge.bin", cwd: f.workspace)
        let (r2, j2) = try f.scan()
        #expect(r2.code == 1)
        let again = files(j2).first { $0["path"] as? String == "packages/models/huge.bin" }
        #expect((again?["flags"] as? [String]) == ["over-read-limit"])
        // What stands for its hash is never called its SHA-256: not in diff, the export's
        // message or report.json (newcomer incident 9 compared it with sha256sum).
        let diff = try run([driftBinary(), "diff", "--manifest", f.mdir, "--state", f.state])
        let line = diff.out.split(separator: "\n").first { $0.contains("huge.bin") }.map(String.init) ?? ""
        #expect(line.contains("-> fingerprint ") && line.contains("over the read limit"), "\(diff.out)")
        let out = f.dir.sub("out")
        let ex = try run([driftBinary(), "export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        #expect(ex.code == 0, "\(ex.err)")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        let said = patch.split(separator: "\n").first { $0.contains("huge.bin") }.map(String.init) ?? ""
        #expect(said.contains(" fingerprint ") && !said.contains("sha256"), "\(said)")
        let report = try JSONSerialization.jsonObject(with: Data(try readWholeFile(out + "/report.json")))
        let entry = ((report as? [String: Any])?["files"] as? [[String: Any]] ?? [])
            .first { $0["path"] as? String == "packages/models/huge.bin" }
        #expect(entry?["reason"] as? String == "over the read limit", "\(entry ?? [:])")
    }

    @Test("under drift watch, a code edit is journaled while a 1 TiB sparse file is examined")
    func watchSparse() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady(timeout: 120)
        try sh("truncate -s 1T packages/models/huge.bin", cwd: f.workspace)
        try sh("echo 'BACKDOOR = 1' >> worker/util.py", cwd: f.workspace)
        // Generous: the point is that it is journaled at all while the big file is there, not how fast.
        try waitUntil(120, "the code edit in the journal") {
            let head = try? run(["git", "--git-dir=\(f.state)/journal.git", "show",
                                 "refs/heads/journal:worker/util.py"])
            return head?.code == 0 && head?.out.contains("BACKDOOR = 1") == true
        }
        #expect(stateItems(f.state)["packages/models/huge.bin"] == "added")
        #expect(w.terminate() == 0, "\(w.stderr)")
    }
    @Test("a sparse file beside a code edit under watch: the edit is journaled while the big file is still hashed")
    func watchBudget() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        // Baked at 3 GiB: a same-size rewrite must be hashed in full (no summary decides it).
        try sh("truncate -s 3G packages/models/big.bin", cwd: f.workspace)
        try f.bake()
        let log = f.dir.sub("watch.jsonl")
        let w = try WatchProcess(f, ["--log", log])
        defer { w.kill() }
        try w.waitReady(timeout: 300)
        try sh("printf X | dd of=packages/models/big.bin bs=1 seek=1000000 conv=notrunc status=none "
               + "&& echo 'BACKDOOR = 1' >> worker/util.py", cwd: f.workspace)
        try waitUntil(300, "both recorded") {
            stateItems(f.state) == ["packages/models/big.bin": "modified", "worker/util.py": "modified"]
        }
        // The batches in order: one recorded the code edit alone (the big file over its hash
        // budget, still being hashed apart), a later one the big file.
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        let modified = lines.compactMap { ($0["by_change"] as? [String: Int])?["modified"] }
        let alone = modified.firstIndex(of: 1)
        let both = modified.firstIndex(of: 2)
        #expect(alone != nil, "no batch recorded the code edit alone; modified counts by batch: \(modified)")
        #expect(both.map { b in alone.map { $0 < b } ?? false } ?? true, "modified counts by batch: \(modified)")
        // watch.json follows the record that state.json is part of.
        try waitUntil(30, "nothing left to hash apart") {
            WatchStatus.read(StateDirectory(path: f.state))?.examining == 0
        }
        #expect(w.terminate() == 0, "\(w.stderr)")
    }
}
