import Foundation
import Testing
@testable import DriftCLI
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// One error model (issue 25.1): each area's failures carry a `DriftError.Code`, the file as
/// bytes and the lower layer's error. These tests look at the code (and path, line,
/// underlying), never at the words.
@Suite("Error codes")
struct ErrorCodeTests {
    /// Runs `body`, which must throw a `DriftError`, and returns it.
    private func driftError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> DriftError {
        do { try body() } catch let e as DriftError { return e } catch {
            Issue.record("not a DriftError: \(error)", sourceLocation: sourceLocation)
            throw error
        }
        Issue.record("did not throw", sourceLocation: sourceLocation)
        throw DriftError(.internal, "did not throw")
    }

    @Test("policy: policyInvalid with the file and line")
    func policy() throws {
        for (yaml, line) in [("size_limit: lots\n", 1), ("code:\n  - x\n\tdata: []\n", 3), ("pip: 3\n", 1),
                             ("waivers:\n  - id: x\n    reason: r\n    expires: soon\n", 4), ("deadline: 36\n", 1)] {
            let e = try driftError { _ = try Policy.parse(Array(yaml.utf8), file: "p.yaml") }
            #expect(e.code == .policyInvalid, "\(yaml)")
            #expect(e.path == Array("p.yaml".utf8) && e.line == line, "\(yaml): \(e)")
        }
        let e = try driftError { _ = try Policy.parse([0xFF, 0x0A], file: "p.yaml") }
        #expect(e.code == .policyInvalid && e.line == 1)
        #expect(ExitCodes.code(for: e)?.code == 2)
    }

    @Test("manifest: manifestInvalid naming the file")
    func manifest() throws {
        for bytes in [[], Array("drift-manifest 1\n".utf8), Array("not a manifest\nx\n".utf8), [0x61]] as [[UInt8]] {
            let e = try driftError { _ = try Manifest.parse(bytes, file: "m/manifest") }
            #expect(e.code == .manifestInvalid && e.path == Array("m/manifest".utf8), "\(bytes): \(e)")
        }
        let dir = try TempDir("codes-mdir")
        defer { dir.remove() }
        let missing = try driftError { _ = try ManifestDirectory(path: dir.sub("absent")).load() }
        #expect(missing.code == .manifestInvalid && missing.path == Array(dir.sub("absent").utf8))
    }

    @Test("pip RECORD: pipInvalid with the row's line")
    func record() throws {
        let e = try driftError { _ = try RecordFile.parse(Array("a.py,,\nb.py,md5=y,2\n".utf8), file: "R") }
        #expect(e.code == .pipInvalid && e.path == Array("R".utf8) && e.line == 2)
        let q = try driftError { _ = try RecordFile.parse(Array("\"a.py,sha256=x,1\n".utf8), file: "R") }
        #expect(q.code == .pipInvalid && q.line != nil)
    }

    @Test("system: unreadable and io carry the Errno; unsafeTarget for a target inside the root")
    func system() throws {
        let dir = try TempDir("codes-sys")
        defer { dir.remove() }
        let absent = dir.sub("absent")
        let r = try driftError { _ = try readWholeFile(absent) }
        #expect(r.code == .unreadable && r.path == Array(absent.utf8))
        #expect(r.underlying as? Errno == .noSuchFileOrDirectory)
        let w = try driftError { try AtomicFile.write([1], to: dir.sub("no/such/dir/f")) }
        #expect(w.code == .io && w.underlying as? Errno == .noSuchFileOrDirectory)
        try FileManager.default.createDirectory(atPath: dir.sub("root/sub"), withIntermediateDirectories: true)
        let inside = try driftError {
            _ = try WriteTarget.refuseInside(root: Array(dir.sub("root").utf8), target: dir.sub("root/sub"),
                                             what: "state dir")
        }
        #expect(inside.code == .unsafeTarget)
        #expect(ExitCodes.code(for: inside)?.code == 2)
    }

    @Test("flags: usage for a bad duration or author")
    func usage() throws {
        let d = try driftError {
            _ = try DurationText.milliseconds("3w", flag: "--settle", bareUnitMs: 1, min: 2, max: 1000)
        }
        #expect(d.code == .usage && d.path == nil)
        let a = try driftError { _ = try GitPerson.parse("no email", time: Date()) }
        #expect(a.code == .usage)
    }

    @Test("credentials file: credentials naming the file")
    func credentials() throws {
        let dir = try TempDir("codes-cred")
        defer { dir.remove() }
        let f = dir.sub("creds")
        try Data("token\n".utf8).write(to: URL(fileURLWithPath: f))
        let e = try driftError { _ = try GitCredentials.load(file: f, environment: { _ in nil }) }
        #expect(e.code == .credentials && e.path == Array(f.utf8))
    }

    @Test("journal: a damaged snapshot record is stateDamaged")
    func snapshotRecord() throws {
        let e = try driftError { _ = try SnapshotRecord.decode(Array("{".utf8), context: "J") }
        #expect(e.code == .stateDamaged)
    }

    @Test("state: an archived state dir of another base is stateDamaged; a held watch lock is lockBusy (exit 75)")
    func state() throws {
        let dir = try TempDir("codes-state")
        defer { dir.remove() }
        let state = StateDirectory(path: dir.sub("state"))
        try state.ensure()
        try AtomicFile.write(Array(try JSONEncoder().encode(DriftState(commit: "aaaa"))), to: state.file("state.json"))
        // Read without the lock, another base's state is no state of this base (nothing moved).
        #expect(try state.loadState(commit: "bbbb").items.isEmpty)
        #expect(FileManager.default.fileExists(atPath: dir.sub("state/state.json")))
        let marker = StateArchive.Marker(base: "aaaa", archivedAt: "2026-12-07T00:00:00Z", newBase: "bbbb")
        try AtomicFile.write(try JSONCoding.encode(marker), to: state.file(StateArchive.markerName))
        let other = try driftError { _ = try state.loadState(commit: "bbbb") }
        #expect(other.code == .stateDamaged && other.path == state.path)
        let held = try WatchLock(state: state)
        let busy = try driftError { _ = try WatchLock(state: state) }
        withExtendedLifetime(held) {}
        #expect(busy.code == .lockBusy && ExitCodes.code(for: busy)?.code == 75)
    }

    @Test("gate: a ledger entry that fails a check is ledgerInvalid")
    func ledger() throws {
        let e = DriftError(ledger: .entry("host/abc"), "no drift.bundle")
        #expect(e.code == .ledgerInvalid && ExitCodes.code(for: e)?.code == 2)
        #expect(DriftError(ledger: .ref("refs/drift/h/x"), "why").code == .ledgerInvalid)
    }

    @Test("a new reason keeps code, path, line and underlying")
    func withReason() {
        let e = DriftError(.io, path: "a/b", "write failed", errno: .noSpace)
        let f = e.withReason("while exporting: write failed")
        #expect(f.code == .io && f.path == Array("a/b".utf8) && f.underlying as? Errno == .noSpace)
        // One quoting function for the name: a control byte in it is escaped, the sentence kept.
        #expect(DriftError(.io, path: [0x61, 0x1B], "x").message == "\"a\\033\": x")
    }
}
