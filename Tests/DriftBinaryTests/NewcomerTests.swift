import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// What a newcomer hit playing a whole incident with only the README: each bug at its root,
/// with real git as the oracle.
@Suite("a newcomer's incident run")
struct NewcomerTests {
    /// The fixture, a bare clone of its upstream to push to, and `drift` with its dirs.
    struct Run2 {
        let f: Fixture
        var remote: String { f.dir.sub("remote.git") }

        init() throws {
            f = try Fixture()
            try f.bake()
            try sh("git clone -q --bare '\(f.upstream)' '\(remote)'")
        }

        func drift(_ args: [String]) throws -> Run {
            try DriftBinaryTests.drift(args + ["--manifest", f.mdir, "--state", f.state])
        }

        /// `drift export --output DIR ARGS`: the run and the exported id.
        func export(_ dir: String, _ extra: [String] = []) throws -> (Run, String) {
            let r = try drift(["export", "--output", f.dir.sub(dir)] + extra)
            let id = r.out.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
            return (r, id)
        }

        /// A clone of upstream at the base, for `git am`.
        func clone(_ name: String) throws -> String {
            let c = f.dir.sub(name)
            try sh("git clone -q '\(f.upstream)' '\(c)'")
            return c
        }
    }

    /// Same drift state, same Drift-Id by design: said so; the pushed export stays in the journal.
    @Test("export --cumulative of a state pushed as a follow-up: same id, said so, push tells the truth")
    func cumulativeOfPushedState() throws {
        let r = try Run2()
        defer { r.f.dir.remove() }
        try sh("echo '# fix 1' >> worker/main.py", cwd: r.f.workspace)
        let (e1, id1) = try r.export("o1", ["--push", r.remote])
        #expect(e1.code == 0, "\(e1.err)")
        try sh("echo '# fix 2' >> worker/util.py", cwd: r.f.workspace)
        let (e2, id2) = try r.export("o2", ["--push", r.remote])
        #expect(e2.code == 0 && e2.out.contains("follows \(id1)"), "\(e2.out)\(e2.err)")
        let journal = r.f.state + "/journal.git"
        let followUp = try sh("git --git-dir='\(journal)' rev-parse refs/drift-exports/\(id2)")
        let (e3, id3) = try r.export("o3", ["--cumulative"])
        #expect(e3.code == 0 && id3 == id2, "same drift state, same Drift-Id by design: \(e3.out)")
        #expect(e3.err.contains("same drift as export \(id2) made before as a follow-up of \(id1)"), "\(e3.err)")
        #expect(e3.err.contains("already pushed to \(r.remote)") && e3.err.contains("output directory only"),
                "\(e3.err)")
        // Not clobbered: the journal's export of id2 is still the follow-up that was pushed.
        #expect(try sh("git --git-dir='\(journal)' rev-parse refs/drift-exports/\(id2)") == followUp)
        let push = try r.drift(["push", r.remote])
        #expect(push.code == 0 && push.out.hasPrefix("already pushed: "), "\(push.out)\(push.err)")
        let onRemote = try sh("git --git-dir='\(r.remote)' show refs/drift/$(git --git-dir='\(r.remote)' "
                              + "for-each-ref --format='%(refname:lstrip=2)' refs/drift | grep '/\(id2)$'):drift.patch")
        #expect(onRemote.contains("Drift-Follows: \(id1)"), "the remote keeps the follow-up shape")
        // The cumulative patch in o3 is one commit on the base: git am applies it to a fresh clone.
        let c = try r.clone("am3")
        try sh("git am -q '\(r.f.dir.sub("o3"))/drift.patch'", cwd: c)
        #expect(try sh("git rev-list --count HEAD", cwd: c) == "2\n")
        #expect(try !sh("git log -1 --format=%B", cwd: c).contains("Drift-Follows"))
    }

    @Test("export --cumulative of a state exported but not pushed: replaces it, says so, push sends the new shape")
    func cumulativeOfUnpushedState() throws {
        let r = try Run2()
        defer { r.f.dir.remove() }
        try sh("echo '# fix 1' >> worker/main.py", cwd: r.f.workspace)
        let (_, id1) = try r.export("o1")
        try sh("echo '# fix 2' >> worker/util.py", cwd: r.f.workspace)
        let (_, id2) = try r.export("o2")
        let (e3, id3) = try r.export("o3", ["--cumulative"])
        #expect(e3.code == 0 && id3 == id2)
        #expect(e3.err.contains("same drift as export \(id2) made before as a follow-up of \(id1)")
                && e3.err.contains("replaces it in the journal"), "\(e3.err)")
        let push = try r.drift(["push", r.remote, "--id", id2])
        #expect(push.code == 0 && push.out.hasPrefix("pushed "), "\(push.out)\(push.err)")
        let patch = try sh("git --git-dir='\(r.remote)' show $(git --git-dir='\(r.remote)' for-each-ref "
                           + "--format='%(refname)' refs/drift | grep '/\(id2)$'):drift.patch")
        #expect(!patch.contains("Drift-Follows"), "what was pushed is the cumulative export")
    }

    /// The push half of `export --push` fails on a missing path remote (named, exit 2).
    @Test("a failed push is failed-push.json, not failed-export.json; the next push that works clears it")
    func failedPushClearedBySuccess() throws {
        let r = try Run2()
        defer { r.f.dir.remove() }
        try sh("echo '# fix' >> worker/main.py", cwd: r.f.workspace)
        let missing = r.f.dir.sub("missing/path.git")
        let (e1, _) = try r.export("o1", ["--push", missing])
        #expect(e1.code == 2 && e1.out.contains("exported drift"), "\(e1.out)\(e1.err)")
        #expect(e1.err.contains("drift: \(missing): no such file or directory (not a git repository)"), "\(e1.err)")
        #expect(!e1.err.contains("unsupported URL protocol"))
        #expect(FileManager.default.fileExists(atPath: r.f.state + "/failed-push.json"))
        #expect(!FileManager.default.fileExists(atPath: r.f.state + "/failed-export.json"), "the export worked")
        let direct = try r.drift(["push", missing])
        #expect(direct.code == 2 && direct.err == "drift: \(missing): no such file or directory "
                + "(not a git repository)\n", "\(direct.err)")
        let notRepo = try r.drift(["push", r.f.dir.path])
        #expect(notRepo.code == 2 && notRepo.err == "drift: \(r.f.dir.path): not a git repository\n", "\(notRepo.err)")
        #expect(try r.drift(["status"]).out.contains("push FAILED"))
        let ok = try r.drift(["push", r.remote])
        #expect(ok.code == 0 && ok.out.hasPrefix("pushed "), "\(ok.out)\(ok.err)")
        #expect(!FileManager.default.fileExists(atPath: r.f.state + "/failed-push.json"))
        let status = try r.drift(["status"]).out
        #expect(status.contains("failures      none standing"), "\(status)")
    }

    @Test("drift diff takes an absolute path under the root (as given or through a symlink), refuses one outside it")
    func diffAbsolutePath() throws {
        let r = try Run2()
        defer { r.f.dir.remove() }
        try sh("echo '# a' >> worker/main.py && echo '# b' >> worker/util.py", cwd: r.f.workspace)
        let one = try r.drift(["diff", r.f.workspace + "/worker/main.py"])
        #expect(one.code == 1 && one.out.contains("b/worker/main.py") && !one.out.contains("util.py"),
                "\(one.out)\(one.err)")
        let dir = try r.drift(["diff", r.f.workspace + "/worker/"])
        #expect(dir.code == 1 && dir.out.contains("main.py") && dir.out.contains("util.py"), "\(dir.err)")
        // Through a symlink to the root: the resolved spelling is under the manifest's root too.
        try sh("ln -s '\(r.f.workspace)' '\(r.f.dir.sub("ws-link"))'")
        let viaLink = try r.drift(["diff", r.f.dir.sub("ws-link") + "/worker/util.py"])
        #expect(viaLink.code == 1 && viaLink.out.contains("b/worker/util.py"), "\(viaLink.out)\(viaLink.err)")
        let outside = try r.drift(["diff", r.f.upstream + "/worker/main.py"])
        #expect(outside.code == 2 && outside.err.hasPrefix("drift: ") && outside.out.isEmpty, "\(outside.err)")
        let sibling = try r.drift(["diff", r.f.workspace + "2/worker/main.py"])
        #expect(sibling.code == 2, "a sibling sharing the root's prefix is not under it: \(sibling.err)")
    }

    @Test("scan --upstream-ref takes short names as git fetch does: branch, tag, full ref; a missing one is named")
    func upstreamRefShortNames() throws {
        let r = try Run2()
        defer { r.f.dir.remove() }
        try sh("echo '# fix' >> worker/main.py", cwd: r.f.workspace)
        let (_, id) = try r.export("o1")
        try sh("git am -q '\(r.f.dir.sub("o1"))/drift.patch' && git tag -a v1 -m v1 && git checkout -q -b side"
               + " && git checkout -q main", cwd: r.f.upstream)
        let merged = try sh("git rev-parse HEAD", cwd: r.f.upstream).trimmingCharacters(in: .newlines)
        for ref in ["main", "refs/heads/main", "v1", "refs/tags/v1", "side"] {
            let (s, obj) = try r.f.scan(["--upstream", r.f.upstream, "--upstream-ref", ref])
            let main = files(obj).first { $0["path"] as? String == "worker/main.py" }
            #expect(s.code == 1 && main?["reconciled_in"] as? String == merged && main?["export_id"] as? String == id,
                    "\(ref): \(s.err)")
        }
        let none = try r.drift(["scan", "--upstream", r.f.upstream, "--upstream-ref", "nosuch"])
        #expect(none.code == 2 && none.err.contains("has no nosuch"), "\(none.err)")
        for bad in ["refs/heads/../x", "refs/notes/x", "-x", "a//b", ".hidden"] {
            let b = try r.drift(["scan", "--upstream", r.f.upstream, "--upstream-ref=" + bad])
            #expect(b.code == 2 && b.err.hasPrefix("drift: --upstream-ref"), "\(bad): \(b.err)")
        }
    }

    @Test("gate --repo naming nothing or a plain directory: one sentence naming the path, no libgit2 function")
    func gateMissingRepo() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let nothere = dir.sub("nothere")
        let g = try DriftBinaryTests.drift(["gate", "--repo", nothere, "--ledger-refs"])
        #expect(g.code == 2 && g.err == "drift: \(nothere): no such file or directory (not a git repository)\n",
                "\(g.err)")
        let plain = try DriftBinaryTests.drift(["gate", "--repo", dir.path, "--ledger-refs"])
        #expect(plain.code == 2 && plain.err == "drift: \(dir.path): not a git repository\n", "\(plain.err)")
        #expect(!g.err.contains("git_") && !plain.err.contains("git_"))
    }

    @Test("image-mode gate text names the failed image checks, never '0 drift entries ()'")
    func imageGateText() {
        let failed = ImageCheck.Finding(check: "pins", ok: false, detail: "2 distributions differ", paths: [])
        let passed = ImageCheck.Finding(check: "clean", ok: true, detail: "no drift baked in", paths: [])
        let rejected = Gate.Report(repo: nil, commit: nil, ok: false, entries: [], image: [passed, failed])
        let text = GateOutput.text(rejected, githubActions: false)
        #expect(text.hasSuffix("gate: REJECTED: 1 image check failed (pins)\n"), "\(text)")
        #expect(!text.contains("drift entries"))
        let ok = Gate.Report(repo: nil, commit: nil, ok: true, entries: [], image: [passed])
        #expect(GateOutput.text(ok, githubActions: false).hasSuffix("gate: ok (image checks passed)\n"))
    }

    @Test("one remote under several spellings is one key: user kept, password ***, old keys read")
    func remoteKeys() throws {
        #expect(RemoteKey.key("ssh://git@Git.Example.com:22/org/worker.git/")
                == "ssh://git@git.example.com/org/worker")
        #expect(RemoteKey.key("https://user:pw@host.example/org/worker.git")
                == "https://user:***@host.example/org/worker")
        #expect(RemoteKey.key("git@Host.example:org/worker.git") == "git@host.example:org/worker")
        #expect(RemoteKey.identity(RemoteKey.key("ssh://git@host/r"))
                == RemoteKey.identity(RemoteKey.key("ssh://host/r/")))
        #expect(RemoteKey.identity(RemoteKey.key("ssh://host/r")) != RemoteKey.identity(RemoteKey.key("ssh://host/s")))
        let old = ["ssh://git@host.example/org/worker.git": ["a"], "ssh://host.example/org/worker/": ["a", "b"],
                   "ssh://host.example/org/worker": ["c"], "https://x:***@other/r": ["a"]]
        let groups = StatusReport.pushedByRemote(old).sorted { $0.key < $1.key }
        #expect(groups.map(\.key) == ["https://x:***@other/r", "ssh://git@host.example/org/worker"])
        #expect(groups.map(\.ids.count) == [1, 3])
        // Pushed for real under three spellings of one path: one remote in status, pushed once.
        let r = try Run2()
        defer { r.f.dir.remove() }
        try sh("echo '# fix' >> worker/main.py", cwd: r.f.workspace)
        _ = try r.export("o1")
        #expect(try r.drift(["push", r.remote]).out.hasPrefix("pushed "))
        for spelling in [r.remote + "/", "file://" + r.remote, r.f.dir.path + "/./remote.git"] {
            let p = try r.drift(["push", spelling])
            #expect(p.code == 0 && p.out.hasPrefix("already pushed"), "\(spelling): \(p.out)\(p.err)")
        }
        let status = try r.drift(["status"]).out
        #expect(status.contains("pushed        1 to \(r.remote),"), "\(status)")
    }

    @Test("a follow-up's message calls a file the first export added and this one edits 'modified'; git am agrees")
    func followUpChangeKinds() throws {
        let r = try Run2()
        defer { r.f.dir.remove() }
        try write(r.f.workspace + "/worker/extra.py", "def extra():\n    return 1\n")
        let (e1, _) = try r.export("o1")
        #expect(e1.code == 0)
        try sh("echo '    # tuned' >> worker/extra.py", cwd: r.f.workspace)
        let (e2, _) = try r.export("o2")
        #expect(e2.code == 0)
        let c = try r.clone("am")
        try sh("git am -q '\(r.f.dir.sub("o1"))/drift.patch' '\(r.f.dir.sub("o2"))/drift.patch'", cwd: c)
        let msg = try sh("git log -1 --format=%B", cwd: c)
        #expect(msg.contains("  modified worker/extra.py") && !msg.contains("added    worker/extra.py"), "\(msg)")
        // git's own view of that commit: M, not A.
        #expect(try sh("git diff-tree --no-commit-id --name-status -r HEAD", cwd: c) == "M\tworker/extra.py\n")
    }

    @Test("a follow-up that changes only withheld files writes nothing and exits 1 naming the export it follows")
    func followUpOnlyWithheld() throws {
        let r = try Run2()
        defer { r.f.dir.remove() }
        try sh("echo '# fix' >> worker/main.py", cwd: r.f.workspace)
        let (_, id1) = try r.export("o1")
        try sh("echo more >> packages/models/whisper.bin", cwd: r.f.workspace)
        let (e2, _) = try r.export("o2")
        #expect(e2.code == 1 && e2.out.isEmpty, "\(e2.out)\(e2.err)")
        #expect(e2.err.hasPrefix("drift: nothing exportable changed since export \(id1) (1 withheld path"),
                "\(e2.err)")
        #expect(!FileManager.default.fileExists(atPath: r.f.dir.sub("o2") + "/drift.patch"))
        #expect(!FileManager.default.fileExists(atPath: r.f.state + "/failed-export.json"), "an outcome, not a failure")
        // --cumulative still writes everything as one commit git am takes.
        let (e3, _) = try r.export("o3", ["--cumulative"])
        #expect(e3.code == 0, "\(e3.err)")
        let c = try r.clone("am")
        try sh("git am -q '\(r.f.dir.sub("o3"))/drift.patch'", cwd: c)
    }

    @Test("drift.bundle: a bare git fetch fails (no HEAD), the documented refspec fetches drift/<id>")
    func bundleFetch() throws {
        let r = try Run2()
        defer { r.f.dir.remove() }
        try sh("echo '# fix' >> worker/main.py", cwd: r.f.workspace)
        let (_, id) = try r.export("o1")
        let c = try r.clone("fetch")
        let bundle = r.f.dir.sub("o1") + "/drift.bundle"
        #expect(try run(["git", "fetch", bundle], cwd: c).code != 0)
        let journal = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/journal.md").path,
                                 encoding: .utf8)
        let documented = "git fetch drift.bundle 'refs/heads/drift/*:refs/heads/drift/*'"
        #expect(journal.contains(documented))
        try sh("cp '\(bundle)' drift.bundle && " + documented + " && rm drift.bundle", cwd: c)
        #expect(try sh("git log -1 --format=%B drift/\(id)", cwd: c).contains("Drift-Id: \(id)"))
        try sh("git fsck --no-progress", cwd: c)
    }

    @Test("manifest create on a root that differs from --commit: one warning line naming how many paths")
    func bakeWarnsOnDifferentRoot() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let clean = try drift(["manifest", "create", "--root", f.workspace, "--repo", f.upstream,
                               "--output", f.dir.sub("m0")], timeout: 600)
        #expect(clean.code == 0 && clean.err.isEmpty, "a checkout of the commit bakes quietly: \(clean.err)")
        // An edit, an exec bit, a file the commit has and the root lacks: 3; a file only in the root
        // (build output is, often) and an ignored log are not counted.
        try sh("echo '# local' >> worker/main.py && chmod +x worker/util.py && echo x > worker/new.py"
               + " && rm assets/logo.bin && echo more >> logs/w.log", cwd: f.workspace)
        let r = try drift(["manifest", "create", "--root", f.workspace, "--repo", f.upstream,
                           "--output", f.mdir], timeout: 600)
        #expect(r.code == 0, "baked all the same: \(r.err)")
        let lines = r.err.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("drift: warning: \(f.workspace) differs from commit ")
                && lines[0].contains(" in 3 tracked paths "), "\(r.err)")
    }
}
