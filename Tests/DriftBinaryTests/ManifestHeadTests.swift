import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// The scan reads `manifest.txt`'s head (root, policy pin) before it walks, and the whole file
/// beside the walk: the whole must begin with that head.
@Suite struct ManifestHeadTests {
    /// A fixture whose `manifest.txt` is several times `ManifestDirectory.headBytes`.
    static func bigFixture() throws -> Fixture {
        let f = try Fixture()
        for i in 0..<1_200 {
            try write(f.workspace + "/worker/gen/module_with_a_long_name_\(i).py", "x = \(i)\n")
        }
        try f.bake()
        return f
    }

    @Test("a scan started from the head of a big manifest finds the same drift as the whole file says")
    func bigManifestScans() throws {
        let f = try Self.bigFixture()
        defer { f.dir.remove() }
        let text = try readWholeFile(f.mdir + "/manifest.txt")
        #expect(text.count > 2 * ManifestDirectory.headBytes)
        let head = try #require(try ManifestDirectory(path: f.mdir).readHead())
        #expect(head.manifestBytes == Array(text.prefix(ManifestDirectory.headBytes)))
        #expect(try drift(["scan", "--manifest", f.mdir, "--state", f.state]).code == 0)
        try write(f.workspace + "/worker/gen/module_with_a_long_name_1199.py", "x = 0\n")
        let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state])
        #expect(r.code == 1, "\(r.out)\(r.err)")
        #expect(r.out.contains("module_with_a_long_name_1199.py"))
    }

    @Test("a manifest replaced after its head was read is refused, not read half old, half new")
    func replacedAfterHead() throws {
        let f = try Self.bigFixture()
        defer { f.dir.remove() }
        let mdir = ManifestDirectory(path: f.mdir)
        let head = try #require(try mdir.readHead())
        // Another bake of the same workspace under another root: a valid manifest, other head.
        let other = f.dir.sub("other-ws")
        try sh("cp -a '\(f.workspace)' '\(other)'")
        let otherMdir = f.dir.sub("mdir-other")
        let baked = try drift(["manifest", "create", "--root", other, "--repo", f.upstream, "--output", otherMdir])
        #expect(baked.code == 0, "\(baked.err)")
        try sh("cp '\(otherMdir)/manifest.txt' '\(f.mdir)/manifest.txt'")
        #expect {
            _ = try mdir.readRaw(following: head)
        } throws: { ($0 as? DriftError)?.message.contains("manifest changed while it was read") == true }
        // The same file, unchanged, reads whole.
        let again = try #require(try mdir.readHead())
        #expect(try mdir.readRaw(following: again).manifestBytes == (try readWholeFile(f.mdir + "/manifest.txt")))
    }

    @Test("a signed manifest is never read by its head: nothing is trusted before the signature")
    func signedReadsWhole() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        #expect(try ManifestDirectory(path: f.mdir).readHead() != nil)
        #expect(try ManifestDirectory(path: Array(f.mdir.utf8), publicKey: Array("/k.pub".utf8)).readHead() == nil)
    }
}
