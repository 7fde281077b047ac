import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// The incident's second day (issue 23) against real git: deadlines that end with the export,
/// follow-up exports that `git am` applies where the first was merged, a journal stock git reads.
@Suite("the incident's second day")
struct SecondDayTests {
    /// An upstream with history, a workspace of its tip, a venv installed from its pins, and a
    /// manifest baked with a 90-minute deadline.
    struct Day {
        let dir: TempDir
        var up: String { dir.sub("up") }
        var ws: String { dir.sub("ws") }
        var mdir: String { dir.sub("mdir") }
        var state: String { dir.sub("state") }
        var remote: String { dir.sub("remote.git") }
        var venv: String { dir.sub("venv") }

        init(policy: String = "deadline: 90m\n", pip: Bool = true) throws {
            dir = try TempDir("secondday")
            try write(up + "/worker/main.py", "import os\n\ndef main():\n    print(\"worker\")\n    return 0\n")
            try write(up + "/worker/util.py", "def helper(x):\n    return x + 1\n\n\ndef other(y):\n"
                      + "    return y * 2\n\n\ndef third(z):\n    return z - 3\n")
            try write(up + "/requirements.instance.txt", "# pins\nsix==1.16.0\ntoml==0.10.1\n")
            try sh("git init -q -b main . && git add -A && git commit -qm 'worker: first version'", cwd: up)
            // History before the image's commit: the base has ancestors the instance never has.
            for i in 1...5 {
                try sh("echo '# note \(i)' >> NOTES.md && git add -A && git commit -qm 'notes \(i)'", cwd: up)
            }
            try sh("mkdir -p '\(ws)' && git -C '\(up)' archive HEAD | tar -x -C '\(ws)'")
            let base = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("policies/default.yaml")
                .path, encoding: .utf8)
            try write(dir.sub("policy.yaml"), base + policy)
            var extra: [String] = []
            if pip {
                let pipCmd = [venv + "/bin/python", "-m", "pip", "-q", "--disable-pip-version-check", "install",
                              "--no-index", "--find-links", Wheels.dir]
                try run(["python3", "-m", "venv", venv])
                let r = try run(pipCmd + ["-r", ws + "/requirements.instance.txt"])
                if r.code != 0 { throw DriftError("pip install failed: \(r.err)") }
                extra = ["--site-packages", try sitePackages(), "--requirements", ws + "/requirements.instance.txt"]
            }
            let r = try drift(["manifest", "create", "--root", ws, "--repo", up, "--output", mdir,
                               "--policy", dir.sub("policy.yaml")] + extra, timeout: 600)
            if r.code != 0 { throw DriftError("manifest create failed: \(r.err)") }
            try sh("git clone -q --bare '\(up)' '\(remote)'")
        }

        func sitePackages() throws -> String {
            try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func pipInstall(_ spec: String) throws {
            let r = try run([venv + "/bin/python", "-m", "pip", "-q", "--disable-pip-version-check", "install",
                             "--no-index", "--find-links", Wheels.dir, "-U", spec])
            if r.code != 0 { throw DriftError("pip install failed: \(r.err)") }
        }

        /// `drift ARGS --manifest --state` at a fixed time.
        func at(_ time: String, _ args: [String]) throws -> Run {
            try drift(args + ["--manifest", mdir, "--state", state], env: ["DRIFT_TEST_NOW": "2026-12-01T\(time):00Z"])
        }

        /// A JSON scan at `time`: exit code and the files by path.
        func scan(_ time: String, _ extra: [String] = []) throws -> (Int32, [String: [String: Any]], [String: Any]) {
            let r = try at(time, ["scan", "--format", "json"] + extra)
            let obj = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
            var byPath: [String: [String: Any]] = [:]
            for f in files(obj) { byPath[f["path"] as? String ?? "?"] = f }
            return (r.code, byPath, obj["summary"] as? [String: Any] ?? [:])
        }
    }

    @Test("hotfix, export, push, git am -3 over a moved upstream, follow-up, git am: deadlines end with exports",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func secondDay() throws {
        let d = try Day()
        defer { d.dir.remove() }
        // 08:00 the hotfix: an edit, a rename with an edit, and the instance upgrades a pin.
        try sh("sed -i 's/print(\"worker\")/print(\"worker fixed\")/' worker/main.py"
               + " && mv worker/util.py worker/helpers.py && sed -i 's/x + 1/x + 10/' worker/helpers.py", cwd: d.ws)
        try d.pipInstall("toml==0.10.2")
        let (c0, f0, _) = try d.scan("08:00", ["--fail-on", "overdue"])
        #expect(c0 == 0, "not overdue yet")
        #expect(f0["worker/main.py"]?["overdue"] as? Bool == false)
        #expect(f0["worker/main.py"]?["exported_at"] == nil)
        // 09:31, not exported: overdue pages.
        let (c1, f1, s1) = try d.scan("09:31", ["--fail-on", "overdue"])
        #expect(c1 == 1 && f1["worker/main.py"]?["overdue"] as? Bool == true && s1["overdue"] as? Int == 3)

        // 09:40 export and push: every clock stops.
        let out1 = d.dir.sub("out1")
        let e1 = try d.at("09:40", ["export", "--output", out1, "--push", d.remote])
        #expect(e1.code == 0, "\(e1.err)")
        let id1 = try #require(e1.out.split(separator: " ").dropFirst(2).first.map(String.init))
        let patch1 = try String(contentsOfFile: out1 + "/drift.patch", encoding: .utf8)
        #expect(patch1.contains("rename from worker/util.py\nrename to worker/helpers.py\n"), "\(patch1)")
        let freeze = try String(contentsOfFile: out1 + "/pip-freeze.txt", encoding: .utf8)
        #expect(freeze.contains("\ntoml==0.10.2\n") && freeze.contains("\nsix==1.16.0\n"), "\(freeze)")
        // pip's own freeze of the venv names the same distributions and versions.
        let pipFreeze = try run([d.venv + "/bin/python", "-m", "pip", "freeze", "--all",
                                 "--disable-pip-version-check"]).out
        let ours = Set(freeze.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.lowercased() })
        let theirs = Set(pipFreeze.split(separator: "\n")
            .map { $0.lowercased().replacingOccurrences(of: "_", with: "-") })
        #expect(ours == theirs, "drift \(ours) pip \(theirs)")
        let ledgerFiles = try sh("git ls-tree --name-only $(git for-each-ref --format='%(refname)' refs/drift)",
                                 cwd: d.remote)
        #expect(ledgerFiles.contains("pip-freeze.txt"))
        let (c2, f2, s2) = try d.scan("12:00", ["--fail-on", "overdue"])
        #expect(c2 == 0, "exported in time: nobody is paged")
        #expect(s2["overdue"] as? Int == 0 && s2["exported"] as? Int == 3)
        #expect(f2["worker/main.py"]?["export_id"] as? String == id1)
        #expect(f2["worker/main.py"]?["exported_at"] as? String == "2026-12-01T09:40:00Z")
        #expect(f2["worker/main.py"]?["pushed_at"] as? String == "2026-12-01T09:40:00Z")
        let status = try d.at("12:00", ["status"])
        #expect(status.out.contains("exported 2026-12-01T09:40:00Z as \(id1)"), "\(status.out)")
        let prom = d.dir.sub("drift.prom")
        _ = try d.at("12:00", ["scan", "--metrics", prom])
        let metrics = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(metrics.contains("drift_overdue 0\n") && metrics.contains("drift_exported 3\n"))

        // Upstream moves ahead: the same line of main.py, the same pin, the renamed file, more commits.
        try sh("sed -i 's/print(\"worker\")/print(\"worker v2\")/' worker/main.py"
               + " && sed -i 's/^toml==0.10.1$/toml==0.10.1  # parser, keep in step with tomli/'"
               + " requirements.instance.txt && sed -i 's/z - 3/z - 4/' worker/util.py"
               + " && git commit -qam 'upstream: worker v2, pin comment, third()'", cwd: d.up)
        for i in 6...8 { try sh("echo '# note \(i)' >> NOTES.md && git commit -qam 'notes \(i)'", cwd: d.up) }
        let m1 = d.dir.sub("merge1")
        try sh("git clone -q '\(d.up)' '\(m1)'")
        let am1 = try run(["git", "am", "-3", out1 + "/drift.patch"], cwd: m1)
        #expect(am1.code != 0, "a real conflict was expected")
        let conflicted = try sh("git diff --name-only --diff-filter=U", cwd: m1)
        #expect(conflicted == "requirements.instance.txt\nworker/main.py\n", "\(conflicted)")
        // The rename merged: upstream's edit of util.py is in helpers.py, with the hotfix's.
        let helpers = try String(contentsOfFile: m1 + "/worker/helpers.py", encoding: .utf8)
        #expect(helpers.contains("z - 4") && helpers.contains("x + 10"), "\(helpers)")
        // Resolve as README's runbook says: the instance's code, the pin from pip-freeze.txt.
        let pin = try #require(freeze.split(separator: "\n").first { $0.hasPrefix("toml==") })
        try sh("cp '\(d.ws)/worker/main.py' worker/main.py && printf '# pins\\nsix==1.16.0\\n%s  # parser, keep in"
               + " step with tomli\\n' '\(pin)' > requirements.instance.txt && git add worker/main.py"
               + " requirements.instance.txt && GIT_EDITOR=true git am --continue", cwd: m1)
        let msg1 = try sh("git log -1 --format=%B", cwd: m1)
        #expect(msg1.contains("Drift-Id: \(id1)\n"))
        try sh("git fetch -q '\(m1)' main && git merge -q --ff-only FETCH_HEAD", cwd: d.up)
        let merged1 = try sh("git rev-parse HEAD", cwd: d.up).trimmingCharacters(in: .newlines)
        // The instance learns from upstream that its export is merged: waiting for redeploy.
        let (cu, fu, su) = try d.scan("12:30", ["--upstream", d.up])
        #expect(cu == 1 && su["reconciled"] as? Int == 3, "\(su)")
        #expect(fu["worker/main.py"]?["reconciled_in"] as? String == merged1)
        let text = try d.at("12:31", ["scan", "--upstream", d.up])
        #expect(text.out.contains("reconciled upstream in \(merged1.prefix(12)), waiting for redeploy"), "\(text.out)")
        let badRef = try d.at("12:32", ["scan", "--upstream", d.up, "--upstream-ref", "refs/heads/../x"])
        #expect(badRef.code == 2 && badRef.err.hasPrefix("drift: --upstream-ref"), "\(badRef.err)")
        let gone = try d.at("12:32", ["scan", "--upstream", d.dir.sub("no-such-repo")])
        #expect(gone.code == 2 && gone.err.hasPrefix("drift: ") && gone.err.split(separator: "\n").count == 1,
                "\(gone.err)")

        // 13:00 a follow-up edit to an exported path: its clock restarts, the others' stay stopped.
        try sh("sed -i 's/return 0/return 1/' worker/main.py", cwd: d.ws)
        let (c3, f3, _) = try d.scan("13:00", ["--fail-on", "overdue"])
        #expect(c3 == 0)
        #expect(f3["worker/main.py"]?["clock_started"] as? String == "2026-12-01T13:00:00Z")
        #expect(f3["worker/main.py"]?["exported_at"] == nil)
        #expect(f3["worker/helpers.py"]?["export_id"] as? String == id1)
        #expect(f3["worker/main.py"]?["reconciled_in"] == nil && f3["worker/helpers.py"]?["reconciled_in"] != nil)
        let (c4, f4, s4) = try d.scan("14:31", ["--fail-on", "overdue"])
        #expect(c4 == 1 && s4["overdue"] as? Int == 1 && f4["worker/main.py"]?["overdue"] as? Bool == true)
        #expect(f4["worker/helpers.py"]?["overdue"] as? Bool == false)

        // 14:40 the follow-up export: one commit on top of the first, only the new change.
        let out2 = d.dir.sub("out2")
        let e2 = try d.at("14:40", ["export", "--output", out2, "--push", d.remote])
        #expect(e2.code == 0, "\(e2.err)")
        #expect(e2.out.contains("follows \(id1)"))
        let id2 = try #require(e2.out.split(separator: " ").dropFirst(2).first.map(String.init))
        let patch2 = try String(contentsOfFile: out2 + "/drift.patch", encoding: .utf8)
        #expect(patch2.contains("Drift-Id: \(id2)\nDrift-Follows: \(id1)\n"))
        #expect(patch2.contains("diff --git a/worker/main.py") && !patch2.contains("helpers.py\n"), "\(patch2)")
        let report2 = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out2
            + "/report.json"))) as? [String: Any]
        #expect(report2?["follows"] as? String == id1)
        let m2 = d.dir.sub("merge2")
        try sh("git clone -q '\(d.up)' '\(m2)'")
        let am2 = try run(["git", "am", out2 + "/drift.patch"], cwd: m2)
        #expect(am2.code == 0, "plain git am onto the merged upstream: \(am2.err)")
        #expect(try String(contentsOfFile: m2 + "/worker/main.py", encoding: .utf8).contains("return 1"))
        // The bundle: one prerequisite (the base), the whole chain, fetchable where only the base is.
        let bundleHead = try sh("head -c 300 '\(out2)/drift.bundle' | sed -n 2p")
        #expect(try sh("head -c 300 '\(out2)/drift.bundle' | sed -n 3p").contains(" refs/heads/drift/\(id2)\n"))
        let baseHex = try #require(patch2.split(separator: "\n").first { $0.hasPrefix("Drift-Base: ") }?.dropFirst(12))
        #expect(bundleHead == "-\(baseHex) drift base\n", "one prerequisite, the base: \(bundleHead)")
        let fresh = d.dir.sub("fresh")
        try sh("git branch imagebase \(baseHex) && git init -q '\(fresh)' && git -C '\(fresh)' fetch -q '\(m1)'"
               + " imagebase && git -C '\(fresh)' fetch -q '\(out2)/drift.bundle'"
               + " 'refs/heads/drift/*:refs/heads/drift/*'",
               cwd: m1)
        let chain = try sh("git log --format=%s -2 refs/heads/drift/\(id2)", cwd: fresh)
        #expect(chain.hasPrefix("Follow-up instance hotfix") && chain.contains("Re-apply instance hotfix"), "\(chain)")
        // CI: the gate reads the fleet's ledger refs; the follow-up is not upstream yet.
        try sh("git fetch -q '\(d.remote)' 'refs/drift/*:refs/drift/*'", cwd: d.up)
        let g1 = try drift(["gate", "--repo", d.up, "--ledger-refs"], env: ["DRIFT_TEST_NOW": "2026-12-01T14:50:00Z"])
        #expect(g1.code == 1 && g1.out.contains(id2), "the follow-up is not merged: \(g1.out)\(g1.err)")
        try sh("git fetch -q '\(m2)' main && git merge -q --ff-only FETCH_HEAD", cwd: d.up)
        let g2 = try drift(["gate", "--repo", d.up, "--ledger-refs"], env: ["DRIFT_TEST_NOW": "2026-12-01T15:00:00Z"])
        #expect(g2.code == 0, "the gate accepts both: \(g2.out)\(g2.err)")
        // Retention: both refs are reconciled and old enough; a dry run first, then prune.
        let later = ["DRIFT_TEST_NOW": "2026-12-01T17:00:00Z"]
        let dry = try drift(["prune", "--repo", d.up, "--older-than", "1h", "--dry-run", "--format", "refs"],
                            env: later)
        #expect(dry.code == 0 && dry.out.contains(id1) && dry.out.contains(id2), "\(dry.out)\(dry.err)")
        #expect(try sh("git for-each-ref refs/drift", cwd: d.up).split(separator: "\n").count == 2)
        let pruned = try drift(["prune", "--repo", d.up, "--older-than", "1h"], env: later)
        #expect(pruned.code == 0, "\(pruned.out)\(pruned.err)")
        #expect(try sh("git for-each-ref refs/drift", cwd: d.up).isEmpty)
        let g3 = try drift(["gate", "--repo", d.up, "--ledger-refs"], env: later)
        #expect(g3.code == 0, "the gate still accepts: \(g3.out)\(g3.err)")

        // 16:00: both exported, nobody paged.
        let (c5, f5, s5) = try d.scan("16:00", ["--fail-on", "overdue", "--upstream", d.up])
        #expect(c5 == 0 && f5["worker/main.py"]?["export_id"] as? String == id2)
        let merged2 = try sh("git rev-parse HEAD", cwd: d.up).trimmingCharacters(in: .newlines)
        #expect(f5["worker/main.py"]?["reconciled_in"] as? String == merged2 && s5["reconciled"] as? Int == 3)
        #expect(try d.at("16:01", ["status"]).out.contains("reconciled upstream in \(merged2.prefix(12))"))
        let log = try d.at("16:00", ["log", "--format", "json"])
        let snaps = ((try JSONSerialization.jsonObject(with: Data(log.out.utf8)) as? [String: Any])?["snapshots"]
            as? [[String: Any]]) ?? []
        #expect(snaps.map { $0["drift_id"] as? String ?? "" } == [id2, id1])
        #expect(snaps.first?["follows"] as? String == id1)
        // The fleet's remote holds both ledger refs.
        let refs = try sh("git for-each-ref --format='%(refname)' refs/drift", cwd: d.remote)
        #expect(refs.contains("/\(id1)\n") && refs.contains("/\(id2)\n"), "\(refs)")
    }

    @Test("follow-ups, --cumulative and --snapshot: one Drift-Id per state, chains only by default")
    func exportChain() throws {
        let d = try Day(pip: false)
        defer { d.dir.remove() }
        try sh("echo '# fix 1' >> worker/main.py", cwd: d.ws)
        let e1 = try d.at("08:00", ["export", "--output", d.dir.sub("o1")])
        #expect(e1.code == 0, "\(e1.err)")
        let id1 = String(e1.out.split(separator: " ")[2])
        try sh("echo '# fix 2' >> worker/util.py", cwd: d.ws)
        let e2 = try d.at("08:30", ["export", "--output", d.dir.sub("o2")])
        let id2 = String(e2.out.split(separator: " ")[2])
        #expect(e2.out.contains("follows \(id1)"))
        // The chain applies in order with plain git am onto the image's commit: the workspace's files.
        let chained = d.dir.sub("chained")
        try sh("git clone -q '\(d.up)' '\(chained)' && cd '\(chained)' && git am -q '\(d.dir.sub("o1"))/drift.patch'"
               + " '\(d.dir.sub("o2"))/drift.patch'")
        for f in ["worker/main.py", "worker/util.py"] {
            #expect(try readWholeFile(chained + "/" + f) == readWholeFile(d.ws + "/" + f), "\(f)")
        }
        // Re-exporting the same state gives the same commit.
        let again = try d.at("08:40", ["export", "--output", d.dir.sub("o2b")])
        func commit(_ r: Run) -> String {
            r.out.components(separatedBy: " as commit ").last.map { String($0.prefix(40)) } ?? ""
        }
        #expect(commit(again) == commit(e2) && commit(e2).count == 40, "\(again.out) vs \(e2.out)")
        // --cumulative: today's single commit on the base, same id, no follows.
        let c = try d.at("08:45", ["export", "--cumulative", "--output", d.dir.sub("oc")])
        #expect(c.code == 0 && c.out.contains("drift \(id2) ") && !c.out.contains("follows"), "\(c.out)")
        let cp = try String(contentsOfFile: d.dir.sub("oc") + "/drift.patch", encoding: .utf8)
        #expect(cp.contains("# fix 1") && cp.contains("# fix 2") && !cp.contains("Drift-Follows"))
        #expect(try sh("git am -q '\(d.dir.sub("oc"))/drift.patch' && git log -1 --format=%B", cwd: d.up)
            .contains("Drift-Id: \(id2)"))
        // --snapshot: the older snapshot, as drift log names it.
        let s = try d.at("09:00", ["export", "--snapshot", id1, "--output", d.dir.sub("os")])
        #expect(s.code == 0 && s.out.contains("drift \(id1) ") && s.out.contains("from the journal"), "\(s.out)")
        let sp = try String(contentsOfFile: d.dir.sub("os") + "/drift.patch", encoding: .utf8)
        #expect(sp.contains("Drift-Id: \(id1)"))
        let bad = try d.at("09:00", ["export", "--snapshot", "0123456789abcdef0123", "--output", d.dir.sub("ox")])
        #expect(bad.code == 2 && bad.err.hasPrefix("drift: ") && bad.err.contains("drift log"), "\(bad.err)")
        #expect(!FileManager.default.fileExists(atPath: d.dir.sub("ox")))
        // Back to the image's version: the follow-up (on the cumulative export now) reverts it.
        try sh("git -C '\(d.up)' show HEAD~1:worker/main.py > worker/main.py", cwd: d.ws)
        let e3 = try d.at("09:10", ["export", "--output", d.dir.sub("o3")])
        #expect(e3.code == 0 && e3.out.contains("follows \(id2)"), "\(e3.out)\(e3.err)")
        let p3 = try String(contentsOfFile: d.dir.sub("o3") + "/drift.patch", encoding: .utf8)
        #expect(p3.contains("Back to the image's version since that export:\n\n  worker/main.py\n"), "\(p3)")
        #expect(try run(["git", "am", d.dir.sub("o3") + "/drift.patch"], cwd: d.up).code == 0)
        #expect(try readWholeFile(d.up + "/worker/main.py") == readWholeFile(d.ws + "/worker/main.py"))
        let text = try d.at("09:00", ["log"])
        #expect(text.code == 0 && text.out.contains("drift \(id2)") && text.out.contains("drift \(id1)"))
        #expect(text.out.contains("modified code    worker/util.py"), "\(text.out)")
    }

    @Test("deadline_stop: push keeps the clock running until the export is pushed")
    func deadlineUntilPush() throws {
        let d = try Day(policy: "deadline: 90m\ndeadline_stop: push\n", pip: false)
        defer { d.dir.remove() }
        try sh("echo '# fix' >> worker/main.py", cwd: d.ws)
        #expect(try d.at("08:00", ["export", "--output", d.dir.sub("o1")]).code == 0)
        let (c1, f1, _) = try d.scan("10:00", ["--fail-on", "overdue"])
        #expect(c1 == 1 && f1["worker/main.py"]?["overdue"] as? Bool == true)
        #expect(f1["worker/main.py"]?["exported_at"] as? String == "2026-12-01T08:00:00Z")
        #expect(try d.at("10:05", ["push", d.remote]).code == 0)
        let (c2, f2, _) = try d.scan("10:10", ["--fail-on", "overdue"])
        #expect(c2 == 0 && f2["worker/main.py"]?["pushed_at"] as? String == "2026-12-01T10:05:00Z")
    }

    @Test("stock git reads the journal: git log, git show, git fsck --strict with a base of 50 ancestors")
    func journalIsAGitRepository() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        for i in 1...50 {
            try sh("echo 'v\(i)' > HISTORY && git add HISTORY && git commit -qm 'history \(i)'", cwd: f.upstream)
        }
        try sh("git -C '\(f.upstream)' archive HEAD | tar -x -C '\(f.workspace)'")
        try f.bake()
        try sh("echo '# hotfix' >> worker/main.py", cwd: f.workspace)
        _ = try f.scan()
        let journal = f.state + "/journal.git"
        func checkGit() throws {
            let log = try run(["git", "log", "--format=%H %s", "refs/heads/journal"], cwd: journal)
            #expect(log.code == 0, "\(log.err)")
            #expect(log.out.split(separator: "\n").count >= 2, "\(log.out)")
            let fsck = try run(["git", "fsck", "--strict", "--no-dangling"], cwd: journal)
            #expect(fsck.code == 0 && !fsck.out.contains("missing"), "\(fsck.out)\(fsck.err)")
            let show = try run(["git", "show", "--stat", "refs/heads/journal"], cwd: journal)
            #expect(show.code == 0 && show.out.contains("worker/main.py"), "\(show.err)")
            let base = try run(["git", "log", "--oneline", "refs/heads/base"], cwd: f.mdir + "/base.git")
            #expect(base.code == 0, "\(base.err)")
        }
        try checkGit()
        // A journal written before the shallow file existed is fixed by its next write.
        try FileManager.default.removeItem(atPath: journal + "/shallow")
        #expect(try run(["git", "log", "refs/heads/journal"], cwd: journal).code != 0)
        try sh("echo '# hotfix 2' >> worker/main.py", cwd: f.workspace)
        _ = try f.scan()
        try checkGit()
    }
}
