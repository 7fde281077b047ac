import Foundation
import Testing

/// `scan --upstream` must not call a path reconciled when the upstream commit carrying the
/// export's Drift-Id cannot hold it: the export withheld its content (a secret pasted into code,
/// `.env` itself). The gate says "withheld" for the same entry; the scan agrees.
@Suite struct WithheldReconcileTests {
    @Test("scan --upstream: withheld code is not 'reconciled upstream'; the carried hotfix is")
    func withheldNotReconciled() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let token = "tok_" + String(repeating: "Q7x2", count: 8)
        try sh("printf 'TOKEN=\(token)\\n' > .env && echo 'queue: audio' > config/settings.yaml"
               + " && printf 'KEY = \"\(token)\"\\nTIMEOUT = 60\\n' >> worker/main.py"
               + " && echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let out = f.dir.sub("out")
        let ex = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        try #require(ex.code == 0, "\(ex.err)")
        // The maintainer applies the patch (the honest hotfix and the trailer) upstream.
        let am = try run(["git", "am", out + "/drift.patch"], cwd: f.upstream)
        try #require(am.code == 0, "\(am.err)")
        let merged = try sh("git rev-parse HEAD", cwd: f.upstream).trimmingCharacters(in: .newlines)
        let (scan, report) = try f.scan(["--upstream", f.upstream])
        #expect(scan.code == 1, "\(scan.err)")
        var byPath: [String: [String: Any]] = [:]
        for file in files(report) { byPath[file["path"] as? String ?? "?"] = file }
        // Config drift is carried in the patch like code: the commit holds it.
        for path in ["worker/util.py", "config/settings.yaml"] {
            #expect(byPath[path]?["reconciled_in"] as? String == merged, "\(path): \(byPath[path] ?? [:])")
        }
        for path in ["worker/main.py", ".env"] {
            #expect(byPath[path]?["reconciled_in"] == nil, "\(path): \(byPath[path] ?? [:])")
            #expect(byPath[path]?["export_withheld"] as? Bool == true, "\(path): \(byPath[path] ?? [:])")
        }
        #expect((report["summary"] as? [String: Any])?["reconciled"] as? Int == 2, "\(report)")
        let text = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--upstream", f.upstream])
        let mainLine = text.out.split(separator: "\n").first { $0.contains("worker/main.py") } ?? ""
        #expect(mainLine.contains("withheld from the export: reconcile by hand") && !mainLine.contains("redeploy"),
                "\(text.out)")
        let status = try drift(["status", "--state", f.state, "--manifest", f.mdir])
        #expect(!status.out.contains("deadline met"), "no deadline in the policy: \(status.out)")
    }
}
