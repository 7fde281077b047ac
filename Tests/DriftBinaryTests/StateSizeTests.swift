import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// What drift writes it reads back, whatever the tree holds (issue 28): big drift is summarised
/// in `state.json`, and a state that cannot be read is rebuilt, never an exit-2 loop.
@Suite("state stays readable")
struct StateSizeTests {
    static let t1 = "2026-03-01T10:00:00Z"
    static let t2 = "2026-03-02T10:00:00Z"

    static func scan(_ f: Fixture, at now: String, format: String = "json") throws -> Run {
        try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", format],
                  env: ["DRIFT_TEST_NOW": now], timeout: 600)
    }

    @Test("70,000 long-named empty files in a data path: a small state.json with one summary, read back every run")
    func seventyThousandLongNames() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 2' >> worker/util.py", cwd: f.workspace)
        // Long directory names (480 bytes) and 150-byte file names: 70,000 paths of ~650
        // bytes, the shape (at half the length) that made a 291 MB state.json the next run refused.
        let long = (0..<2).map { k in String(repeating: Character(String(k)), count: 240) }.joined(separator: "/")
        let dir = f.workspace + "/packages/models/x/" + long
        try sh("mkdir -p '\(dir)' && cd '\(dir)' && python3 -c '"
               + "import os\nfor i in range(70000): open(\"f%06d-\" % i + \"n\" * 140, \"w\").close()'")
        let r1 = try Self.scan(f, at: Self.t1, format: "text")
        #expect(r1.code == 1, "\(r1.err)")
        let stateFile = f.state + "/state.json"
        let size = (try FileManager.default.attributesOfItem(atPath: stateFile)[.size] as? Int) ?? -1
        #expect(size > 0 && size < 64 << 10, "state.json is \(size) bytes")
        let st = try JSONDecoder().decode(DriftState.self, from: Data(contentsOf: URL(fileURLWithPath: stateFile)))
        let summary = st.items.first { $0.count != nil }
        #expect(summary?.count == 70_000 && summary?.change == .added && summary?.fileClass == .data, "\(st.items)")
        #expect(summary?.path == "packages/models/x/" + long + "/")
        #expect(st.items.contains { $0.path == "worker/util.py" && $0.count == nil })
        // Read back by every verb, and first sightings kept through the summary.
        let r2 = try Self.scan(f, at: Self.t2)
        #expect(r2.code == 1, "\(r2.err)")
        let j = (try JSONSerialization.jsonObject(with: Data(r2.out.utf8))) as? [String: Any] ?? [:]
        let fs = files(j)
        #expect(fs.count == 70_001)
        #expect(fs.allSatisfy { $0["first_seen"] as? String == Self.t1 }, "first sightings restarted")
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        #expect(status.code == 0, "\(status.err)")
        #expect(status.out.contains("70001 drifted paths") && status.out.contains("70000 under packages/models/x/"),
                "\(status.out.prefix(2000))")
        // Gone again: clean but for the code edit.
        try sh("rm -rf '\(f.workspace)/packages/models/x'")
        let r3 = try Self.scan(f, at: Self.t2)
        let j3 = (try JSONSerialization.jsonObject(with: Data(r3.out.utf8))) as? [String: Any] ?? [:]
        #expect(r3.code == 1 && changes(j3) == ["worker/util.py": "modified"], "\(r3.err)")
    }

    @Test("a damaged or oversized state.json is rebuilt from the journal with first sightings kept, never exit 2",
          arguments: ["damaged", "oversized"])
    func recovery(kind: String) throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 2' >> worker/util.py && echo 'Y=1' >> .env", cwd: f.workspace)
        #expect(try Self.scan(f, at: Self.t1).code == 1)
        let stateFile = f.state + "/state.json"
        if kind == "damaged" {
            let torn = "{\"schema\": \"drift.state/1\", \"commit\": ["
            try torn.write(toFile: stateFile, atomically: false, encoding: .utf8)
        } else {
            try sh("truncate -s \(StateDirectory.stateReadLimit + 1) '\(stateFile)'")
        }
        let r = try Self.scan(f, at: Self.t2)
        #expect(r.code == 1, "\(r.err)")
        #expect(r.err.contains("drift: warning:") && r.err.contains("state.json.damaged"), "\(r.err)")
        let j = (try JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
        #expect(changes(j) == ["worker/util.py": "modified", ".env": "modified"])
        #expect(files(j).allSatisfy { $0["first_seen"] as? String == Self.t1 }, "\(files(j))")
        #expect(FileManager.default.fileExists(atPath: f.state + "/state.json.damaged"))
        // Settled: the next run reads the rebuilt state without a word.
        let again = try Self.scan(f, at: Self.t2)
        #expect(again.code == 1 && again.err.isEmpty, "\(again.err)")
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        #expect(status.code == 0 && status.out.contains("2 drifted paths"), "\(status.err)")
    }

    @Test("summaries fold by directory, then by depth under the caps; code keeps its own items")
    func summaryFolding() {
        func item(_ p: String, _ c: FileClass = .data, _ t: String = "2026-01-02T00:00:00Z") -> DriftState.Item {
            DriftState.Item(path: p, firstSeen: t, change: .added, fileClass: c)
        }
        var items = (0..<1_500).map { item("d/a/f\($0)") } + [item("d/a/code.py", .code)]
            + (0..<10).map { item("d/b/g\($0)") } + [item("d/a/f-early", .data, "2026-01-01T00:00:00Z")]
        StateSummary.apply(&items)
        #expect(items.count == 12, "\(items.map(\.path))")
        let s = items.first { $0.count != nil }
        #expect(s?.path == "d/a/" && s?.count == 1_501 && s?.firstSeen == "2026-01-01T00:00:00Z")
        #expect(items.contains { $0.path == "d/a/code.py" })
        // 30,000 directories of one file each: over the item cap, folded a level up.
        var wide = (0..<30_000).map { item("w/\($0)/f") } + [item("top.py", .code)]
        StateSummary.apply(&wide)
        #expect(!StateSummary.overCaps(wide))
        #expect(wide.contains { $0.path == "w/" && $0.count == 30_000 } && wide.contains { $0.path == "top.py" },
                "\(wide.prefix(5).map(\.path))")
        // A path under a summary, of its change and class, takes its first sighting.
        let early = DriftState.Item(path: "d/a/", firstSeen: "2026-01-01T00:00:00Z", change: .added,
                                    fileClass: .data, count: 2)
        let index = SummaryIndex([early])
        #expect(index.covering("d/a/new", change: .added, fileClass: .data) == early)
        #expect(index.covering("d/ab", change: .added, fileClass: .data) == nil)
        #expect(index.covering("d/a/new", change: .added, fileClass: .code) == nil)
        #expect(index.covering("d/a/new", change: .modified, fileClass: .data) == nil)
    }
}
