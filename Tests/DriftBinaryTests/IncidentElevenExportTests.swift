import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Incident 11 (a newcomer's incident on psf/requests): what exports, the ledger and pushes
/// told the on-call, checked against real git (`git am` applies the chain drift hands out).
@Suite("incident 11 exports")
struct IncidentElevenExportTests {
    typealias Day = SecondDayTests.Day

    /// `drift ARGS --manifest --state` at a fixed time, with `env` besides.
    static func at(_ d: Day, _ time: String, _ args: [String], env: [String: String] = [:]) throws -> Run {
        try drift(args + ["--manifest", d.mdir, "--state", d.state],
                  env: env.merging(["DRIFT_TEST_NOW": "2026-12-01T\(time):00Z"]) { a, _ in a })
    }

    @Test("F6: a follow-up whose carried path is withheld now is refused, never a patch that reverts the hotfix")
    func withheldFollowUpRefused() throws {
        let d = try Day(pip: false)
        defer { d.dir.remove() }
        let token = ExportSecretsTests.token()
        let known = ["VENDOR_API_TOKEN": token]
        try sh("echo '# fix 1' >> worker/main.py", cwd: d.ws)
        let e1 = try Self.at(d, "08:00", ["export", "--output", d.dir.sub("o1")], env: known)
        #expect(e1.code == 0, "\(e1.err)")
        let id1 = String(e1.out.split(separator: " ").dropFirst(2).first ?? "")
        // The hotfix file now holds a secret drift knows: its content is withheld from now on.
        try sh("printf 'TOKEN = \"%s\"\\n' '\(token)' >> worker/main.py && echo '# fix 2' >> worker/util.py",
               cwd: d.ws)
        let e2 = try Self.at(d, "08:30", ["export", "--output", d.dir.sub("o2")], env: known)
        #expect(e2.code == 2, "\(e2.out)\(e2.err)")
        #expect(e2.err.hasPrefix("drift: ") && e2.err.contains("follow-up of export \(id1)")
                && e2.err.contains("worker/main.py (secret content") && e2.err.contains("--cumulative"), "\(e2.err)")
        #expect(!e2.err.contains(token))
        #expect(!FileManager.default.fileExists(atPath: d.dir.sub("o2")))
        // Once the secret is out of the file, the follow-up carries both files: the chain applies
        // with git am onto the image's commit and gives the workspace's files.
        try sh("grep -v TOKEN worker/main.py > m && mv m worker/main.py && echo '# fix 3' >> worker/main.py",
               cwd: d.ws)
        let e3 = try Self.at(d, "09:00", ["export", "--output", d.dir.sub("o3")], env: known)
        #expect(e3.code == 0 && e3.out.contains("follows \(id1)"), "\(e3.out)\(e3.err)")
        let chained = d.dir.sub("chained")
        try sh("git clone -q '\(d.up)' '\(chained)' && cd '\(chained)' && git am -q '\(d.dir.sub("o1"))/drift.patch'"
               + " '\(d.dir.sub("o3"))/drift.patch'")
        for f in ["worker/main.py", "worker/util.py"] {
            #expect(try readWholeFile(chained + "/" + f) == readWholeFile(d.ws + "/" + f), "\(f)")
        }
        // --cumulative stays the way out: one commit on the base, the withheld path named, not reverted.
        try sh("printf 'TOKEN = \"%s\"\\n' '\(token)' >> worker/main.py", cwd: d.ws)
        let c = try Self.at(d, "09:30", ["export", "--cumulative", "--output", d.dir.sub("oc")], env: known)
        #expect(c.code == 0, "\(c.err)")
        // Said on stderr too, not only in the patch: git am will not re-apply it.
        #expect(c.err.contains("drift: note: 1 drifted code path is not in drift.patch or drift.bundle")
                && c.err.contains("worker/main.py; git am does not re-apply it"), "\(c.err)")
        let cp = try String(contentsOfFile: d.dir.sub("oc") + "/drift.patch", encoding: .utf8)
        #expect(!cp.contains(token) && cp.contains("worker/main.py") && cp.contains("content withheld"), "\(cp)")
    }

    @Test("F7: pushed_at belongs to the export id it stands beside: a follow-up taking a withheld path over clears it")
    func pushedAtFollowsTheId() throws {
        let d = try Day(pip: false)
        defer { d.dir.remove() }
        let token = ExportSecretsTests.token()
        let known = ["VENDOR_API_TOKEN": token]
        try sh("printf 'TOKEN = \"%s\"\\n' '\(token)' >> worker/util.py && echo '# fix 1' >> worker/main.py", cwd: d.ws)
        #expect(try Self.at(d, "08:00", ["export", "--output", d.dir.sub("o1")], env: known).code == 0)
        let p1 = try Self.at(d, "08:10", ["push", d.remote], env: known)
        #expect(p1.code == 0, "\(p1.err)")
        try sh("echo '# fix 2' >> worker/main.py", cwd: d.ws)
        let e2 = try Self.at(d, "08:30", ["export", "--output", d.dir.sub("o2")], env: known)
        #expect(e2.code == 0, "\(e2.err)")
        let id2 = String(e2.out.split(separator: " ").dropFirst(2).first ?? "")
        func util(_ time: String) throws -> (json: [String: Any], text: String) {
            let j = try Self.at(d, time, ["scan", "--format", "json"], env: known)
            let obj = (try? JSONSerialization.jsonObject(with: Data(j.out.utf8))) as? [String: Any] ?? [:]
            let f = files(obj).first { $0["path"] as? String == "worker/util.py" } ?? [:]
            let t = try Self.at(d, time, ["scan"], env: known)
            let line = t.out.split(separator: "\n").first { $0.contains("worker/util.py") }.map(String.init) ?? ""
            return (f, line)
        }
        let before = try util("08:40")
        #expect(before.json["export_id"] as? String == id2, "\(before.json)")
        #expect(before.json["pushed_at"] == nil, "\(before.json)")
        #expect(before.text.contains("as \(id2)") && !before.text.contains("pushed"), "\(before.text)")
        #expect(try Self.at(d, "08:50", ["push", d.remote], env: known).code == 0)
        let after = try util("09:00")
        #expect(after.json["pushed_at"] as? String == "2026-12-01T08:50:00Z", "\(after.json)")
        #expect(after.text.contains("as \(id2), pushed 2026-12-01T08:50:00Z"), "\(after.text)")
    }

    @Test("F10: an export from the journal after the venv changed back ships the snapshot's pip freeze, said so",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func pipFreezeOfTheSnapshot() throws {
        let d = try Day()
        defer { d.dir.remove() }
        try sh("echo '# fix' >> worker/main.py", cwd: d.ws)
        try d.pipInstall("toml==0.10.2")
        // While the venv holds what ran, the freeze is read from it.
        let live = try Self.at(d, "08:00", ["export", "--output", d.dir.sub("o1")])
        #expect(live.code == 0, "\(live.err)")
        let f1 = try String(contentsOfFile: d.dir.sub("o1") + "/pip-freeze.txt", encoding: .utf8)
        #expect(f1.contains("read from site-packages by drift\n") && f1.contains("\ntoml==0.10.2\n"), "\(f1)")
        // The container is recreated: a fresh venv from the image's pins, the journal kept.
        try d.pipInstall("toml==0.10.1")
        let again = try Self.at(d, "09:00", ["export", "--from-journal", "--cumulative", "--force",
                                             "--output", d.dir.sub("o2")])
        #expect(again.code == 0, "\(again.err)")
        let f2 = try String(contentsOfFile: d.dir.sub("o2") + "/pip-freeze.txt", encoding: .utf8)
        #expect(f2.contains("\ntoml==0.10.2\n") && !f2.contains("toml==0.10.1"), "\(f2)")
        #expect(f2.hasPrefix("# pip freeze of ") && f2.contains(" recorded it at 2026-12-01T08:00:00Z ")
                && f2.contains("toml now 0.10.1, snapshot 0.10.2"), "\(f2)")
        #expect(f2.contains("\nsix==1.16.0\n"), "\(f2)")
        // What the patch pins is what the freeze says ran: git am, then compare the pin.
        let clone = d.dir.sub("am")
        try sh("git clone -q '\(d.up)' '\(clone)' && git -C '\(clone)' am -q '\(d.dir.sub("o2"))/drift.patch'")
        let pins = try String(contentsOfFile: clone + "/requirements.instance.txt", encoding: .utf8)
        #expect(pins.contains("toml==0.10.2\n"), "\(pins)")
    }

    @Test("F5: re-exporting without --author keeps the export handed out; another --author does not replace it")
    func reExportKeepsHandedOut() throws {
        let d = try Day(pip: false)
        defer { d.dir.remove() }
        func commit(_ r: Run) -> String {
            r.out.components(separatedBy: " as commit ").last.map { String($0.prefix(40)) } ?? ""
        }
        try sh("echo '# fix 1' >> worker/main.py", cwd: d.ws)
        let e1 = try Self.at(d, "08:00", ["export", "--output", d.dir.sub("o1"),
                                          "--author", "On-call <oc@example.com>"])
        #expect(e1.code == 0, "\(e1.err)")
        let id1 = String(e1.out.split(separator: " ").dropFirst(2).first ?? "")
        // The push failed; the on-call exports again, without --author.
        let e2 = try Self.at(d, "08:10", ["export", "--output", d.dir.sub("o2")])
        #expect(e2.code == 0 && commit(e2) == commit(e1) && commit(e1).count == 40, "\(e1.out)\(e2.out)\(e2.err)")
        let patch1 = try readWholeFile(d.dir.sub("o1") + "/drift.patch")
        #expect(try readWholeFile(d.dir.sub("o2") + "/drift.patch") == patch1)
        // Another author: a commit of its own in ODIR, the journal keeps the one handed out.
        let e3 = try Self.at(d, "08:20", ["export", "--output", d.dir.sub("o3"), "--author", "Other <o@example.com>"])
        #expect(e3.code == 0 && commit(e3) != commit(e1), "\(e3.out)\(e3.err)")
        #expect(e3.err.contains("only its author or message differ"), "\(e3.err)")
        let kept = try sh("git --git-dir='\(d.state)/journal.git' rev-parse refs/drift-exports/\(id1)")
        #expect(kept.trimmingCharacters(in: .whitespacesAndNewlines) == commit(e1), "\(kept)")
        // The follow-up stacks on the export handed out: git am applies o1 then o4.
        try sh("echo '# fix 2' >> worker/util.py", cwd: d.ws)
        let e4 = try Self.at(d, "08:30", ["export", "--output", d.dir.sub("o4")])
        #expect(e4.code == 0 && e4.out.contains("follows \(id1)"), "\(e4.out)\(e4.err)")
        let chained = d.dir.sub("chained")
        try sh("git clone -q '\(d.up)' '\(chained)' && cd '\(chained)' && git am -q '\(d.dir.sub("o1"))/drift.patch'"
               + " '\(d.dir.sub("o4"))/drift.patch'")
        for f in ["worker/main.py", "worker/util.py"] {
            #expect(try readWholeFile(chained + "/" + f) == readWholeFile(d.ws + "/" + f), "\(f)")
        }
        // What drift push sends for id1 is the patch handed out first.
        #expect(try Self.at(d, "08:40", ["push", d.remote]).code == 0)
        let ref = try sh("git --git-dir='\(d.remote)' for-each-ref --format='%(refname)' 'refs/drift/*/\(id1)'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let pushed = try run(["git", "--git-dir=" + d.remote, "show", ref + ":drift.patch"])
        #expect(pushed.code == 0 && Array(pushed.out.utf8) == patch1, "\(ref) \(pushed.err)")
    }

    @Test("F13: after a redeploy the old state dir reads with either manifest; the first scan on the new base moves it")
    func redeployAdviceWorks() throws {
        let d = try Day(pip: false)
        defer { d.dir.remove() }
        try sh("echo '# fix' >> worker/main.py", cwd: d.ws)
        let e1 = try Self.at(d, "08:00", ["export", "--output", d.dir.sub("o1")])
        #expect(e1.code == 0, "\(e1.err)")
        let id1 = String(e1.out.split(separator: " ").dropFirst(2).first ?? "")
        // The fix is merged upstream and the image rebuilt from it: a manifest of the new base.
        try sh("cp '\(d.ws)/worker/main.py' worker/main.py && git commit -qam 'merge the hotfix'", cwd: d.up)
        let m2 = d.dir.sub("mdir2")
        let made = try drift(["manifest", "create", "--root", d.ws, "--repo", d.up, "--output", m2,
                              "--policy", d.dir.sub("policy.yaml")])
        #expect(made.code == 0, "\(made.err)")
        // drift log with the new manifest reads the old journal as it is; nothing is re-pointed.
        let alternates = try readWholeFile(d.state + "/journal.git/objects/info/alternates")
        let log = try drift(["log", "--manifest", m2, "--state", d.state])
        #expect(log.code == 0 && log.out.contains("holds base commit") && log.out.contains(id1)
                && !log.err.contains("git_"), "\(log.out)\(log.err)")
        #expect(try readWholeFile(d.state + "/journal.git/objects/info/alternates") == alternates)
        // The old base's manifest still reads the old state dir.
        let again = try Self.at(d, "09:00", ["export", "--from-journal", "--output", d.dir.sub("o2")])
        #expect(again.code == 0 && again.out.contains("drift \(id1) "), "\(again.out)\(again.err)")
        let push = try Self.at(d, "09:10", ["push", d.remote])
        #expect(push.code == 0 && push.out.contains(id1), "\(push.out)\(push.err)")
        // The first scan on the new base moves it aside (docs/state.md, "A new base commit").
        let scan = try drift(["scan", "--manifest", m2, "--state", d.state])
        #expect(scan.code != 2 && scan.err.contains("moved it whole to"), "\(scan.err)")
    }

    @Test("F6: a follow-up's subject counts the files its diff touches, those put back to the image's version too")
    func subjectCountsTheDiff() throws {
        let d = try Day(pip: false)
        defer { d.dir.remove() }
        try sh("echo '# fix 1' >> worker/main.py", cwd: d.ws)
        #expect(try Self.at(d, "08:00", ["export", "--output", d.dir.sub("o1")]).code == 0)
        try sh("git -C '\(d.up)' show HEAD:worker/main.py > worker/main.py && echo '# fix 2' >> worker/util.py",
               cwd: d.ws)
        let e2 = try Self.at(d, "08:30", ["export", "--output", d.dir.sub("o2")])
        #expect(e2.code == 0, "\(e2.err)")
        let patch = try String(contentsOfFile: d.dir.sub("o2") + "/drift.patch", encoding: .utf8)
        let stat = try sh("git apply --numstat '\(d.dir.sub("o2"))/drift.patch'", cwd: d.up)
        let touched = stat.split(separator: "\n").count
        #expect(touched == 2, "\(stat)")
        #expect(patch.contains("Follow-up instance hotfix from ") && patch.contains(" (\(touched) files)\n"),
                "\(patch)")
    }
}
