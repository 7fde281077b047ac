import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// ODIR spellings that once crashed Foundation's path helpers.
@Suite("export output paths")
struct ExportPathTests {
    @Test("a one-character relative ODIR, one with a trailing slash, and an absolute one")
    func oddOutputNames() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("printf 'x = 1\\n' >> worker/util.py", cwd: f.workspace)
        for out in ["o", "p/", f.dir.sub("abs")] {
            let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out], cwd: f.dir.path)
            #expect(r.code == 0, "\(out): \(r.err)")
            let dir = out.hasPrefix("/") ? out : f.dir.sub(out)
            #expect(FileManager.default.fileExists(atPath: dir + "/drift.patch"), "\(out)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: f.dir.path)
            .filter { $0.hasPrefix(".drift-export") }
        #expect(leftovers.isEmpty)
    }
}
