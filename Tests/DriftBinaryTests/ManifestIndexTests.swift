import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// `manifest.idx`: the binary index a scan reads instead of parsing the entry lines.
@Suite struct ManifestIndexTests {
    /// The manifest text without its index: the pin line dropped and the trailer recomputed
    /// (what an MDIR written before the index looks like).
    static func withoutIndexPin(_ text: [UInt8]) throws -> [UInt8] {
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        var out: [UInt8] = []
        for l in lines.dropLast() where !l.starts(with: Array("pin manifest.idx ".utf8)) {
            out += l
            out.append(0x0A)
        }
        out += Array("sha256 \(try SHA256Hasher.digest(out).hex)\n".utf8)
        return out
    }

    @Test("the index holds exactly the entries of the text, odd names and links included")
    func indexMatchesText() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try writeFile(bytesPath: Array((f.workspace + "/worker/caf").utf8) + [0xE9, 0x0A, 0x25, 0x7F], "odd\n")
        try sh("ln -s '../no such' '\(f.workspace)/worker/dangling'")
        try f.bake()
        let text = try readWholeFile(f.mdir + "/manifest.txt")
        #expect(Manifest.peekPin(text, ManifestDirectory.indexFile) != nil)
        let fromText = try Manifest.parse(try Self.withoutIndexPin(text), file: "manifest.txt")
        let fromIndex = try ManifestDirectory(path: f.mdir).readRaw().parseManifest()
        #expect(Array(fromIndex.entries) == Array(fromText.entries))
        #expect(fromIndex.entries.bytes == (try readWholeFile(f.mdir + "/manifest.idx")))
        #expect(fromIndex.entries.contains { $0.kind == .symlink && $0.target == Array("../no such".utf8) })
        #expect(fromIndex.entries.contains { $0.path.last == 0x7F })
        #expect(fromIndex.commit == fromText.commit && fromIndex.root == fromText.root)
    }

    @Test("a damaged, swapped or missing index is refused with one line naming it (exit 2)")
    func damagedIndex() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let idx = f.mdir + "/manifest.idx"
        let good = try readWholeFile(idx)
        func refused(_ what: String) throws {
            let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state])
            #expect(r.code == 2, "\(what): \(r.out)")
            #expect(r.err.split(separator: "\n").count == 1, "\(what): \(r.err)")
            #expect(r.err.contains("manifest.idx"), "\(what): \(r.err)")
        }
        // A digest flipped: the pin no longer matches.
        var flipped = good
        flipped[good.count - 40] ^= 0x01
        try Data(flipped).write(to: URL(fileURLWithPath: idx))
        try refused("flipped byte")
        // A well-formed index of other content (one digest replaced), same size.
        var entries = Array(try Manifest.parse(try readWholeFile(f.mdir + "/manifest.txt"), file: "m").entries)
        entries[0].digest = Digest(bytes: [UInt8](repeating: 0xAB, count: 32))
        try Data(ManifestTable(entries).bytes).write(to: URL(fileURLWithPath: idx))
        try refused("other entries")
        try FileManager.default.removeItem(atPath: idx)
        try refused("missing")
        try Data(good).write(to: URL(fileURLWithPath: idx))
        #expect(try drift(["scan", "--manifest", f.mdir, "--state", f.state]).code != 2)
    }

    @Test("an MDIR without an index (made before it) scans the same as one with it")
    func withoutIndex() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let old = f.dir.sub("mdir-old")
        try sh("cp -a '\(f.mdir)' '\(old)' && rm '\(old)/manifest.idx'")
        let text = try Self.withoutIndexPin(try readWholeFile(f.mdir + "/manifest.txt"))
        try Data(text).write(to: URL(fileURLWithPath: old + "/manifest.txt"))
        try write(f.workspace + "/worker/util.py", "def helper(x):\n    return x + 2\n")
        try write(f.workspace + "/worker/new.py", "print(1)\n")
        try FileManager.default.removeItem(atPath: f.workspace + "/config/settings.yaml")
        let (a, ra) = try f.scan()
        let b = try drift(["scan", "--manifest", old, "--state", f.dir.sub("state-old"), "--format", "json"])
        let rb = (try? JSONSerialization.jsonObject(with: Data(b.out.utf8))) as? [String: Any] ?? [:]
        #expect(a.code == 1 && b.code == 1, "\(a.err) \(b.err)")
        #expect(changes(ra) == changes(rb))
        #expect(changes(ra).count == 3, "\(changes(ra))")
    }

    @Test("a table that is truncated, out of order or points outside itself is refused")
    func tableValidation() throws {
        let e = { (p: String) in
            ManifestEntry(path: Array(p.utf8), kind: .regular, executable: false, size: 1,
                          digest: Digest(bytes: [UInt8](repeating: 1, count: 32)))
        }
        let good = ManifestTable([e("a"), e("a/b"), e("b")]).bytes
        #expect(ManifestTable(serialized: good)?.count == 3)
        #expect(ManifestTable(serialized: Array(good.dropLast())) == nil)
        #expect(ManifestTable(serialized: ManifestTable([e("b"), e("a")]).bytes) == nil)
        #expect(ManifestTable(serialized: ManifestTable([e("a"), e("a")]).bytes) == nil)
        var outside = good
        outside[24 + 4] = 0xFF  // first path's length far past the blob
        #expect(ManifestTable(serialized: outside) == nil)
        var kind = good
        kind[24 + 24] = 0x02  // unknown flag bit
        #expect(ManifestTable(serialized: kind) == nil)
        #expect(ManifestTable(serialized: Array("DRIFTMX1".utf8)) == nil)
        #expect(ManifestTable(serialized: []) == nil)
    }
}
