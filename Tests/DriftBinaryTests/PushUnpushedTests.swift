import Foundation
import Testing

/// Newcomer incident 10: the hourly cron `drift push` sent only the last export, so a chain's
/// first export never reached the remote (the follow-up and the gate need it). Without `--id`
/// every export not yet pushed there goes, oldest first.
@Suite struct PushUnpushedTests {
    @Test("first export and follow-up, one drift push: both refs on the remote, the gate sees both")
    func pushesTheWholeChain() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let first = try GateLedgerTests.export(f, f.dir.sub("o1"), host: "cron-host")
        try sh("echo 'FIX = 2' >> worker/main.py", cwd: f.workspace)
        let second = try GateLedgerTests.export(f, f.dir.sub("o2"), host: "cron-host")
        #expect(first != second)
        let remote = f.dir.sub("remote.git")
        try sh("git clone -q --bare '\(f.upstream)' '\(remote)'")
        let push = ["push", "file://" + remote, "--manifest", f.mdir, "--state", f.state]
        let r = try drift(push, env: ["DRIFT_HOST": "cron-host"])
        #expect(r.code == 0, "\(r.out)\(r.err)")
        // Oldest first, each named.
        #expect(r.out == "pushed refs/drift/cron-host/\(first) to file://\(remote)\n"
                + "pushed refs/drift/cron-host/\(second) to file://\(remote)\n", "\(r.out)")
        let refs = try sh("git --git-dir='\(remote)' for-each-ref --format='%(refname)' refs/drift/")
        #expect(refs.split(separator: "\n").map(String.init).sorted()
                == ["refs/drift/cron-host/\(first)", "refs/drift/cron-host/\(second)"].sorted(), "\(refs)")
        #expect(try sh("git --git-dir='\(remote)' fsck --strict 2>&1").isEmpty)
        let gate = try drift(["gate", "--repo", remote, "--ledger-refs", "--format", "json"])
        let entries = (try? JSONSerialization.jsonObject(with: Data(gate.out.utf8)) as? [String: Any])?["entries"]
        let ids = Set(((entries as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
        #expect(ids == [first, second], "\(gate.out)\(gate.err)")
        // Nothing left: the last export is reported as already pushed, nothing sent.
        let again = try drift(push, env: ["DRIFT_HOST": "cron-host"])
        #expect(again.code == 0 && again.out == "already pushed: refs/drift/cron-host/\(second) on file://\(remote)\n",
                "\(again.out)\(again.err)")
    }
}
