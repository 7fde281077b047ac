import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Incident 12 F8: past 20,000 drifted items the state folds by directory. A summary item stands
/// only for paths of its own change and class below its directory (`SummaryIndex`): a lone root
/// config never becomes the summary "", and drift that comes later (a hotfix, another class, any
/// directory) keeps its own first sighting, export duty and deadline.
@Suite("summary items stand for their own members only")
struct SummaryMembershipTests {
    static let t0 = "2026-11-01T08:00:00Z"
    static let exportAt = "2026-11-01T08:00:05Z"
    static let t1 = "2026-11-01T08:00:10Z"
    static let afterDeadline = "2026-11-01T08:02:30Z"

    func run(_ f: Fixture, _ args: [String], at now: String) throws -> Run {
        try drift(args + ["--manifest", f.mdir, "--state", f.state], env: ["DRIFT_TEST_NOW": now], timeout: 600)
    }

    @Test("20,100 drifted code files and a root .env: a later hotfix is its own, unexported, then overdue")
    func laterDriftKeepsItsOwnClock() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try write(f.dir.sub("policy.yaml"),
                  String(decoding: PackageResources.default_yaml, as: UTF8.self) + "deadline: 1m\n")
        try f.bake(["--policy", f.dir.sub("policy.yaml")])
        // Over the 20,000-item cap in code (a package unpacked outside `data:`), and one config edit.
        try sh("echo 'TOKEN=rotated-0f3e' > .env && python3 -c '"
               + "import os\nfor a in range(201):\n d=\"vendor/p%03d\" % a\n os.makedirs(d)\n"
               + " for b in range(100): open(d + \"/f%03d.py\" % b, \"w\").write(\"v=%d\\n\" % b)'",
               cwd: f.workspace)
        let first = try run(f, ["scan"], at: Self.t0)
        #expect(first.code == 1, "\(first.err)")
        let st = try JSONDecoder().decode(DriftState.self, from: Data(contentsOf: URL(fileURLWithPath: f.state
            + "/state.json")))
        #expect(!st.items.contains { $0.count == 1 || $0.path.isEmpty },
                "\(st.items.filter { $0.count != nil }.prefix(3))")
        #expect(st.items.contains { $0.path == ".env" && $0.count == nil })
        let export = try run(f, ["export", "--output", f.dir.sub("x1")], at: Self.exportAt)
        #expect(export.code == 0, "\(export.err)")
        // A hotfix after the export: a new module and an edit, neither in that export.
        try sh("echo 'new = 1' > worker/newmod.py && echo '# later edit' >> worker/util.py", cwd: f.workspace)
        let now = try run(f, ["scan", "--format", "json"], at: Self.t1)
        #expect(now.code == 1, "\(now.err)")
        let j = try JSONSerialization.jsonObject(with: Data(now.out.utf8)) as? [String: Any] ?? [:]
        for p in ["worker/newmod.py", "worker/util.py"] {
            let row = files(j).first { $0["path"] as? String == p } ?? [:]
            #expect(row["first_seen"] as? String == Self.t1, "\(p): \(row)")
            #expect(row["export_id"] == nil && row["exported_at"] == nil, "\(p): \(row)")
        }
        let env = files(j).first { $0["path"] as? String == ".env" } ?? [:]
        #expect(env["first_seen"] as? String == Self.t0 && env["exported_at"] as? String == Self.exportAt, "\(env)")
        let summary = j["summary"] as? [String: Any] ?? [:]
        #expect(summary["drifted"] as? Int == 20_103 && summary["exported"] as? Int == 20_101, "\(summary)")
        let status = try run(f, ["status"], at: Self.t1)
        #expect(status.code == 0, "\(status.err)")
        let newLine = status.out.split(separator: "\n").first { $0.contains("worker/newmod.py") } ?? ""
        #expect(newLine.contains("added") && newLine.contains("code") && !newLine.contains("exported"),
                "\(newLine)")
        #expect(!status.out.contains("under the root"), "\(status.out.prefix(1500))")
        // Past the 1m deadline: the crontab's `--fail-on overdue` pages (exit 1) for the hotfix only.
        let late = try run(f, ["scan", "--format", "json", "--fail-on", "overdue"], at: Self.afterDeadline)
        #expect(late.code == 1, "\(late.err)")
        let lj = try JSONSerialization.jsonObject(with: Data(late.out.utf8)) as? [String: Any] ?? [:]
        #expect((lj["summary"] as? [String: Any])?["overdue"] as? Int == 2, "\(lj["summary"] ?? "")")
        let overdue = files(lj).filter { $0["overdue"] as? Bool == true }.compactMap { $0["path"] as? String }
        #expect(Set(overdue) == ["worker/newmod.py", "worker/util.py"])
        let lateStatus = try run(f, ["status"], at: Self.afterDeadline)
        let lateLine = lateStatus.out.split(separator: "\n").first { $0.contains("worker/newmod.py") } ?? ""
        #expect(lateLine.contains("OVERDUE"), "\(lateLine)")
    }
}
