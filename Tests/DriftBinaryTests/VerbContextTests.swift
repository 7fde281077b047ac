import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Issue 25 point 5: export and push reuse the scan's context — MDIR (manifest, policy, root)
/// is read once per verb, `state.json` no more often than the scan itself needs. Counted with
/// `ReadCounter` (a hook in the readers), not timed.
@Suite("Verb context")
struct VerbContextTests {
    struct Counted {
        let counter = ReadCounter()
        var mdir: ManifestDirectory
        var state: StateDirectory

        init(_ f: Fixture) {
            mdir = ManifestDirectory(path: f.mdir)
            mdir.reads = counter
            state = StateDirectory(path: f.state)
            state.reads = counter
        }

        var runner: ScanRunner {
            var r = ScanRunner(manifestDir: mdir, root: nil, state: state)
            r.clock = .fixed(Date(timeIntervalSince1970: 1_800_000_000))
            return r
        }
    }

    @Test("export then --push: MDIR read once, state.json three times (scan's two, push's one), host not re-read")
    func exportAndPushReadMDIROnce() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let remote = f.dir.sub("remote.git")
        try sh("git init -q --bare '\(remote)'")
        try write(f.workspace + "/worker/util.py", "def helper(x):\n    return x + 3\n")
        let c = Counted(f)
        let summary = try #require(try Exporter(runner: c.runner, output: f.dir.sub("out")).run())
        #expect(c.counter.reads(.manifestDirectory) == 1)
        #expect(c.counter.reads(.pipBaseline) <= 1)
        // The scan reads state.json to pick its re-verification slice and again to record;
        // the export takes what the scan saved (before: four reads).
        #expect(c.counter.reads(.state) == 2)
        var p = Pusher(manifestDir: c.mdir, state: c.state, remote: .url("file://" + remote),
                       credentials: GitCredentials())
        p.context = summary.context
        p.host = summary.host
        let (ref, pushed) = try p.push(id: summary.id)
        #expect(pushed)
        #expect(ref == Pusher.remoteRef(host: summary.host, id: summary.id))
        // The push reuses the export's context: no second read of MDIR (before: three in all).
        #expect(c.counter.reads(.manifestDirectory) == 1)
        #expect(c.counter.reads(.state) == 3)
        let onRemote = try sh("git --git-dir='\(remote)' for-each-ref --format='%(refname)'")
        #expect(onRemote.contains(ref), "\(onRemote)")
    }

    @Test("drift push alone reads MDIR once (its secrets re-check walks with the same context)")
    func pushAloneReadsMDIROnce() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let remote = f.dir.sub("remote.git")
        try sh("git init -q --bare '\(remote)'")
        try write(f.workspace + "/worker/util.py", "def helper(x):\n    return x + 3\n")
        let ex = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", f.dir.sub("out")])
        try #require(ex.code == 0, "\(ex.err)")
        let c = Counted(f)
        let p = Pusher(manifestDir: c.mdir, state: c.state, remote: .url("file://" + remote),
                       credentials: GitCredentials())
        let (_, pushed) = try p.push()
        #expect(pushed)
        #expect(c.counter.reads(.manifestDirectory) == 1)
        #expect(c.counter.reads(.state) == 1)
    }
}
