import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// `drift log` is written a snapshot at a time (incident 12, F15): its bytes must be those of
/// the one document encoded whole, as before.
@Suite("drift log: streamed", .serialized)
struct LogStreamTests {
    /// The document as `drift log --format json` encoded it before streaming: all items at once.
    static func whole(_ f: Fixture) throws -> [UInt8] {
        let state = StateDirectory(path: f.state)
        let mdir = ManifestDirectory(path: f.mdir)
        let (manifest, _) = try mdir.load()
        let own = try StateArchive.owner(state) ?? manifest.commit
        let all = try SnapshotLog.items(state: state, manifestDir: mdir, commit: own, manifestCommit: manifest.commit)
        return try JSONCoding.encode(SnapshotLog.Document(base: own, snapshots: all))
    }

    static func streamed(_ f: Fixture) throws -> (json: [UInt8], chunks: Int) {
        var out: [UInt8] = []
        var chunks = 0
        try SnapshotLog.json(state: StateDirectory(path: f.state), manifestDir: ManifestDirectory(path: f.mdir)) {
            out += $0
            chunks += 1
        }
        return (out, chunks)
    }

    @Test("streamed JSON equals the whole document byte for byte: no journal, one snapshot, many of random drift")
    func sameBytes() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        // No journal yet: the empty document.
        #expect(try Self.streamed(f).json == Self.whole(f))
        var rng = SystemRandomNumberGenerator()
        // Names with a DEL, a C1 control and a quote (escaped alike in both), data, code, deletions, modes.
        let names = ["worker/a\u{7F}b.py", "worker/c\u{85}d.py", "worker/q\"uote.py", "packages/models/m.bin",
                     "worker/new.py", "assets/x.bin"]
        for round in 0..<6 {
            for n in names where Bool.random(using: &rng) || round == 0 {
                try write(f.workspace + "/" + n, "v = \(UInt32.random(in: 0...9_999, using: &rng))\n")
            }
            if round == 3 { try sh("rm -f worker/util.py && chmod +x worker/main.py", cwd: f.workspace) }
            let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state])
            #expect(r.code == 1, "\(r.err)")
            let s = try Self.streamed(f)
            #expect(s.json == (try Self.whole(f)), "round \(round)")
            // One write a snapshot and one to close (the journal's first-parent chain ends at the base).
            #expect(s.chunks == f.snapshots().count, "\(s.chunks) writes")
            #expect(f.snapshots().count == round + 2)
        }
        // The binary's own output, text and JSON, against the whole document and `text`'s blocks.
        let j = try drift(["log", "--manifest", f.mdir, "--state", f.state, "--format", "json"])
        #expect(Array(j.out.utf8) == (try Self.whole(f)))
        let t = try drift(["log", "--manifest", f.mdir, "--state", f.state])
        let text = try SnapshotLog.text(state: StateDirectory(path: f.state),
                                        manifestDir: ManifestDirectory(path: f.mdir))
        #expect(t.out == text && t.out.hasPrefix("snapshot "), "\(t.out.prefix(200))")
    }
}
