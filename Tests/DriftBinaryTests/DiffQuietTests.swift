import Foundation
import Testing
@testable import DriftCore
import DriftTestSupport

/// Incident 12, F2 and F9: a bulk unpack must not bury the code drift in `drift diff` and
/// `drift status`, and thousands of code files added in one directory are named once.
@Suite("quiet data drift")
struct DiffQuietTests {
    /// Adds `count` small files under `dir` of the workspace.
    static func unpack(_ f: Fixture, _ dir: String, count: Int) throws {
        try sh("mkdir -p '\(f.workspace)/\(dir)' && cd '\(f.workspace)/\(dir)' && for i in $(seq 1 \(count)); do "
               + "echo w$i > w$i.bin; done")
    }

    @Test("F2: past the threshold, diff folds data lines by directory after the code lines; status lists code first")
    func dataFolded() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let many = DiffNoteFold.threshold + 10
        try Self.unpack(f, "packages/models/llama/l0", count: many)
        try Self.unpack(f, "packages/models/llama/l1", count: 2)
        try sh("echo one > '\(f.workspace)/packages/models/llama/lone.bin'")
        try sh("echo '# hotfix' >> '\(f.workspace)/worker/main.py'")
        let diff = try drift(["diff", "--manifest", f.mdir, "--state", f.state])
        #expect(diff.code == 1, "\(diff.err)")
        let lines = diff.out.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(diff.out.contains("# drift: packages/models/llama/l0/: \(many) added (data)\n"), "\(diff.out)")
        #expect(diff.out.contains("# drift: packages/models/llama/l1/: 2 added (data)\n"), "\(diff.out)")
        // One path alone in its directory keeps its own line.
        #expect(diff.out.contains("# drift: packages/models/llama/lone.bin: added (data) sha256 - -> "))
        #expect(!diff.out.contains("l0/w1.bin"), "\(diff.out)")
        #expect(diff.out.contains("# drift: \(many + 3) non-code paths summarised by directory"), "\(diff.out)")
        #expect(diff.out.contains("+# hotfix"))
        #expect(lines.count < 30, "\(lines.count) lines")
        // The scan's JSON still lists every path.
        let (_, report) = try f.scan()
        let paths = (report["files"] as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
        #expect(paths.filter { $0.hasPrefix("packages/models/llama/") }.count == many + 3, "\(paths.count)")
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        let out = status.out
        let code = out.range(of: "worker/main.py"), data = out.range(of: "packages/models/")
        #expect(code != nil && data != nil && code!.lowerBound < data!.lowerBound, "\(out)")
    }

    @Test("F9: more than 1,000 code files added under one directory: scan, status and export say so once")
    func bulkCodeNamed() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let n = BulkCodeAdds.threshold + 1
        // Split in two subdirectories: the note names their parent, which holds all of them.
        try Self.unpack(f, "models/llama/l0", count: n / 2)
        try Self.unpack(f, "models/llama/l1", count: n - n / 2)
        try Self.unpack(f, "worker/small", count: 3)
        let note = "drift: note: models/llama/: 1,001 code files added: data? add `models/llama/` to `data:` "
            + "in the policy (policies/README.md)\n"
        let scan = try drift(["scan", "--manifest", f.mdir, "--state", f.state])
        #expect(scan.code == 1)
        #expect(scan.err.components(separatedBy: note).count == 2, "\(scan.err)")
        #expect(!scan.err.contains("worker/"), "\(scan.err)")
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        #expect(status.out.components(separatedBy: "models/llama/: 1,001 code files added").count == 2,
                "\(status.out.prefix(2000))")
        let export = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", f.dir.sub("out")])
        #expect(export.code == 0, "\(export.err)")
        #expect(export.err.components(separatedBy: note).count == 2, "\(export.err)")
        // Below the threshold: no note.
        #expect(BulkCodeAdds.notes([Array("a/b/c".utf8), Array("a/d".utf8)], threshold: 2).isEmpty)
        // Runs of one parent are counted once; unsorted input only makes more runs.
        #expect(BulkCodeAdds.notes(["a/b/c", "x/y", "a/b/d", "z"].map { Array($0.utf8) }, threshold: 1)
            == BulkCodeAdds.notes([Array("a/b/c".utf8), Array("a/b/d".utf8)], threshold: 1))
        #expect(BulkCodeAdds.notes([Array("a/b/c".utf8), Array("a/b/d".utf8)], threshold: 1)
            == ["a/b/: 2 code files added: data? add `a/b/` to `data:` in the policy (policies/README.md)\n"])
    }
}
