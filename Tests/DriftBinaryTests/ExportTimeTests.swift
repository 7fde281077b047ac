import Foundation
import Testing
@testable import DriftSystem

/// Newcomer incident 10: withheld code is listed under a chain's latest export, but `drift
/// status` printed that export's id beside the chain's first export's time.
@Suite struct ExportTimeTests {
    @Test("status and scan print the time of the export the id names, not the first export's")
    func withheldNamesLatestExportTime() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let token = "tok_" + String(repeating: "Z8w3", count: 8)
        try sh("printf 'TOKEN=\(token)\\n' > .env && printf 'KEY = \"\(token)\"\\n' >> worker/main.py"
               + " && echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let common = ["--manifest", f.mdir, "--state", f.state]
        let first = "2026-12-07T03:49:57Z", second = "2026-12-07T03:50:32Z"
        let ex1 = try drift(["export", "--output", f.dir.sub("o1")] + common, env: ["DRIFT_TEST_NOW": first])
        try #require(ex1.code == 0, "\(ex1.err)")
        try sh("echo 'FIX = 2' >> worker/util.py", cwd: f.workspace)
        let ex2 = try drift(["export", "--output", f.dir.sub("o2")] + common, env: ["DRIFT_TEST_NOW": second])
        try #require(ex2.code == 0, "\(ex2.err)")
        let state = try JSONSerialization.jsonObject(with: Data(try readWholeFile(f.state + "/state.json")))
        let latest = (state as? [String: Any])?["last_export_id"] as? String ?? "?"
        let env = ["DRIFT_TEST_NOW": "2026-12-07T04:00:00Z"]
        let status = try drift(["status"] + common, env: env)
        let line = status.out.split(separator: "\n").first { $0.contains("worker/main.py") } ?? ""
        #expect(line.contains("exported \(second) as \(latest)"), "\(status.out)")
        let scan = try drift(["scan"] + common, env: env)
        let scanLine = scan.out.split(separator: "\n").first { $0.contains("worker/main.py") } ?? ""
        #expect(scanLine.contains("exported \(second) as \(latest)"), "\(scan.out)")
        let json = try drift(["scan", "--format", "json"] + common, env: env)
        let report = (try? JSONSerialization.jsonObject(with: Data(json.out.utf8))) as? [String: Any] ?? [:]
        let main = files(report).first { $0["path"] as? String == "worker/main.py" } ?? [:]
        // The clock stopped at the first export; the id names the second.
        #expect(main["exported_at"] as? String == first && main["export_id_at"] as? String == second, "\(main)")
    }
}
