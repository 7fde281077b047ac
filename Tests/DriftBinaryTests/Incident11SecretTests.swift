import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Incident 11 (a newcomer's incident on psf/requests): a redeploy with the state volume kept
/// left `drift status` with one error line and nothing of the watcher or failures (F13).
@Suite("Incident 11: remembered secret sources, watch and status")
struct Incident11SecretTests {
    static func common(_ f: Fixture) -> [String] { ["--manifest", f.mdir, "--state", f.state] }

    @Test("F13: a redeploy with the state volume kept: status still prints the watcher and failure lines, exit 2")
    func statusAfterRedeploy() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        #expect(try drift(["scan"] + Self.common(f)).code == 0)
        // The fix promoted: a new image baked from the next commit, the old state dir kept.
        try sh("echo 'FIX = 1' >> worker/util.py && git add -A && git commit -qm fix", cwd: f.upstream)
        try sh("git -C '\(f.upstream)' show HEAD:worker/util.py > worker/util.py", cwd: f.workspace)
        try FileManager.default.removeItem(atPath: f.mdir)
        try f.bake()
        let scan = try drift(["scan"] + Self.common(f))
        #expect(scan.code == 2 && scan.err.contains("belongs to base commit"), "\(scan.code) \(scan.err)")
        let status = try drift(["status"] + Self.common(f))
        #expect(status.code == 2 && status.err.contains("belongs to base commit"), "\(status.err)")
        #expect(status.out.contains("DOES NOT LOAD") && status.out.contains("  watcher       not running"),
                "\(status.out)")
        #expect(status.out.contains("  failures      scan FAILED"), "\(status.out)")
    }
}
