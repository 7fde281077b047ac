import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Packs written byte by byte for the hostile cases (zlib stored blocks, SHA-1 by sha1sum).
enum PackCraft {
    static func varint(_ v: Int) -> [UInt8] {
        var v = v
        var out: [UInt8] = []
        repeat {
            let b = UInt8(v & 0x7f)
            v >>= 7
            out.append(v == 0 ? b : b | 0x80)
        } while v != 0
        return out
    }

    /// An entry header: type and (declared) size.
    static func header(_ type: Int, _ size: Int) -> [UInt8] {
        var n = size >> 4
        var out: [UInt8] = [UInt8(type << 4 | size & 0x0f) | (n > 0 ? 0x80 : 0)]
        while n > 0 {
            out.append(UInt8(n & 0x7f) | (n >> 7 > 0 ? 0x80 : 0))
            n >>= 7
        }
        return out
    }

    /// A zlib stream of one stored block.
    static func zlib(_ data: [UInt8]) -> [UInt8] {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for x in data {
            a = (a + UInt32(x)) % 65521
            b = (b + a) % 65521
        }
        let n = UInt16(data.count)
        let sum = b << 16 | a
        return [0x78, 0x01, 0x01, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8(~n >> 8)] + data +
            [UInt8(sum >> 24), UInt8(sum >> 16 & 0xff), UInt8(sum >> 8 & 0xff), UInt8(sum & 0xff)]
    }

    /// `PACK`, version 2, `count` (default: the number of entries), entries, SHA-1 trailer.
    static func pack(_ entries: [[UInt8]], count: Int? = nil, in dir: TempDir) throws -> [UInt8] {
        let n = UInt32(count ?? entries.count)
        var body: [UInt8] = Array("PACK".utf8) + [0, 0, 0, 2]
        body += [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        body += entries.flatMap { $0 }
        return body + (try sha1(body, in: dir))
    }

    static func sha1(_ bytes: [UInt8], in dir: TempDir) throws -> [UInt8] {
        let file = dir.sub("sha1-input")
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let hex = Array(try sh("sha1sum '\(file)'").prefix(40))
        return stride(from: 0, to: 40, by: 2).map { UInt8(String(hex[$0..<($0 + 2)]), radix: 16) ?? 0 }
    }

    /// Where the pack starts in a bundle (after the blank line that ends the header).
    static func packStart(_ bundle: [UInt8]) -> Int? {
        bundle.firstRange(of: Array("\n\nPACK".utf8)).map { $0.lowerBound + 2 }
    }
}

@Suite("In-memory pack index")
struct MemoryPackTests {
    /// An upstream with three commits (`base` = the third) and a bundle from git itself of two
    /// more: a.txt and b.txt edited (git deltas them against the base's blobs: REF deltas, a
    /// thin pack), d.txt new and then edited (one version a delta of the other: OFS).
    static func gitBundle(_ d: TempDir) throws -> (lower: String, bundle: [UInt8]) {
        try sh("""
            git init -q -b main up && cd up
            seq 1 400 | sed 's/^/line /' > a.txt && seq 1 400 | sed 's/^/row /' > b.txt
            git add -A && git commit -qm one && echo x > README && git add -A && git commit -qm two
            sed -i 's/^line 7$/line seven/' a.txt && git commit -qam three && git tag base
            sed -i 's/^line 100$/line hundred/' a.txt && sed -i 's/^row 5$/row five/' b.txt
            seq 1 400 | sed 's/^/item /' > d.txt && git add -A && git commit -qm four
            sed -i 's/^line 300$/L300/' a.txt && sed -i 's/^item 9$/item nine/' d.txt
            git add -A && git commit -qm five && git bundle create -q ../t.bundle base..main
            git init -q --bare ../lower.git && git push -q ../lower.git base:refs/heads/main
            """, cwd: d.path)
        return (d.sub("lower.git"), Array(try Data(contentsOf: URL(fileURLWithPath: d.sub("t.bundle")))))
    }

    @Test("git's own thin bundle (OFS and REF deltas) indexes in memory to exactly git index-pack's objects")
    func gitThinBundle() throws {
        let d = try TempDir()
        defer { d.remove() }
        let (lowerPath, bundle) = try Self.gitBundle(d)
        let start = try #require(PackCraft.packStart(bundle))
        let pack = Array(bundle[start...])
        let lower = LowerObjects(try GitRepository(path: lowerPath))
        let store = try MemoryObjectStore(over: lower, name: "t.bundle")
        let ours = try store.indexPack(pack[...], maxBytes: 1 << 26)

        // The oracle: git index-pack --fix-thin in a copy of the lower repository.
        try Data(pack).write(to: URL(fileURLWithPath: d.sub("t.pack")))
        let indexed = try sh("cp -r lower.git oracle.git && git -C oracle.git index-pack --stdin --fix-thin < t.pack",
                             cwd: d.path)
        // It prints "pack\t<name>".
        let name = indexed.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t").last ?? ""
        let listing = try sh("git verify-pack -v oracle.git/objects/pack/pack-\(name).idx", cwd: d.path)
        var original: [(id: String, offset: Int)] = []
        for line in listing.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 5, f[0].count == 40, let off = Int(f[4]) else { continue }
            // --fix-thin appends the missing bases after the pack's own objects.
            if off < pack.count - 20 { original.append((String(f[0]), off)) }
        }
        #expect(Set(ours.map(\.hex)) == Set(original.map(\.id)))
        #expect(ours.count == original.count)
        let types = Set(original.map { (pack[$0.offset] >> 4) & 7 })
        #expect(types.contains(6) && types.contains(7), "pack entry types \(types.sorted())")

        // The tip reads back like git sees it; a second store over the same upstream does not see it.
        let tip = try #require(ObjectID(hex: try sh("git -C up rev-parse main", cwd: d.path)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try store.repository.message(of: tip) == "five\n")
        let names = try store.repository.treeEntries(try store.repository.treeOf(commit: tip)).map {
            String(decoding: $0.name, as: UTF8.self)
        }
        #expect(names == ["README", "a.txt", "b.txt", "d.txt"])
        let other = try MemoryObjectStore(over: lower, name: "other")
        #expect(try !other.repository.odb().contains(tip))
        #expect(try other.repository.odb().contains(try store.repository.parents(of: tip)[0]) == false)
        let base = try #require(ObjectID(hex: try sh("git -C up rev-parse base", cwd: d.path)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try other.repository.odb().contains(base))
    }

    @Test("hostile packs fail with one sentence, allocating nothing they only declare (33 GB object/delta, 2^32 count)")
    func hostilePacks() throws {
        let d = try TempDir()
        defer { d.remove() }
        let (lowerPath, _) = try Self.gitBundle(d)
        let lowerRepo = try GitRepository(path: lowerPath)
        let lower = LowerObjects(lowerRepo)
        let aID = try #require(ObjectID(hex: try sh("git -C lower.git rev-parse main:a.txt", cwd: d.path)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let aSize = try lowerRepo.odb().read(aID).1.count
        let huge = 33_000_000_000
        let x = PackCraft.zlib(Array("x".utf8))
        func delta(_ ops: [UInt8], result: Int, base: Int = aSize) -> [UInt8] {
            PackCraft.varint(base) + PackCraft.varint(result) + ops
        }
        func refDelta(_ base: ObjectID, _ body: [UInt8]) -> [UInt8] {
            PackCraft.header(7, body.count) + base.raw + PackCraft.zlib(body)
        }
        let blob = PackCraft.header(3, 1) + x
        let danglingTree = Array("100644 x\0".utf8) + Array(repeating: 0x11, count: 20)
        let nobody = try #require(ObjectID(hex: String(repeating: "22", count: 20)))
        func pack(_ entries: [[UInt8]], count: Int? = nil) throws -> [UInt8] {
            try PackCraft.pack(entries, count: count, in: d)
        }
        let missing = "neither in the pack nor in the repository"
        var cases: [(String, [UInt8], String)] = [
            ("a blob declaring 33 GB", try pack([PackCraft.header(3, huge) + x]), "over the"),
            ("a header claiming 2^32-1 objects", try pack([blob], count: 0xFFFF_FFFF), "claims"),
            ("a delta whose result is 33 GB", try pack([refDelta(aID, delta([1, 0x41], result: huge))]),
             "over the budget"),
            ("an OFS delta before the pack", try pack([PackCraft.header(6, 3) + [100] + PackCraft.zlib([1, 1, 0])]),
             "points at no object"),
            ("a blob longer than declared", try pack([PackCraft.header(3, 1) + PackCraft.zlib([1, 2])]),
             "does not inflate"),
            ("bytes after the last object", try pack([blob + [0]]), "after the last object"),
            ("a tree naming a blob nobody has", try pack([PackCraft.header(2, 29) + PackCraft.zlib(danglingTree)]),
             missing),
            ("a REF delta on a base nobody has", try pack([refDelta(nobody, delta([1, 0x41], result: 1))]), missing),
            ("a delta copying past its base", try pack([refDelta(aID, delta([0x92, 0xff, 0x10], result: 16))]),
             "out of range"),
            ("a delta with opcode 0", try pack([refDelta(aID, delta([0], result: 1))]), "reserved opcode"),
            ("a delta on a base of another size", try pack([refDelta(aID, delta([1, 0x41], result: 1, base: 3))]),
             "does not apply"),
        ]
        var flipped = try pack([blob])
        flipped[flipped.count - 1] ^= 1
        cases.append(("a flipped trailer byte", flipped, "checksum"))
        for (what, pack, phrase) in cases {
            let store = try MemoryObjectStore(over: lower, name: what)
            do {
                try store.indexPack(pack[...], maxBytes: 1 << 26)
                Issue.record("\(what): accepted")
            } catch let e as DriftError {
                #expect(e.message.contains(phrase) && !e.message.contains("\n"), "\(what): \(e.message)")
            }
        }
        // The control: the same crafting, honest, is accepted (a blob, then a REF delta on a.txt).
        let store = try MemoryObjectStore(over: lower, name: "honest")
        let honest = try pack([blob, refDelta(aID, delta([0x90, 4], result: 4))])
        let ids = try store.indexPack(honest[...], maxBytes: 1 << 26)
        #expect(ids.count == 2)
        #expect(try store.repository.odb().read(ids[1]).1 == Array("line".utf8))
    }

    @Test("gate: an entry whose pack lacks its commit fails though another entry's pack has it; a 33 GB header exits 2")
    func entriesDoNotShareObjects() throws {
        let (f, ledger) = try GateTests.exported()
        defer { f.dir.remove() }
        let good = ledger + "/host-a/1"
        let bundle = Array(try Data(contentsOf: URL(fileURLWithPath: good + "/drift.bundle")))
        let start = try #require(PackCraft.packStart(bundle))
        let header = Array(bundle[..<start])
        // "a" is the real export; "b" names the same commit, but its pack holds one blob.
        let two = f.dir.sub("two")
        let onlyBlob = try PackCraft.pack([PackCraft.header(3, 1) + PackCraft.zlib(Array("x".utf8))], in: f.dir)
        try sh("mkdir -p '\(two)/a' '\(two)/b' && cp '\(good)'/* '\(two)/a/' && cp '\(good)'/* '\(two)/b/'")
        try Data(header + onlyBlob).write(to: URL(fileURLWithPath: two + "/b/drift.bundle"))
        let r = try GateTests.gate(f, two)
        #expect(r.code == 2 && r.err.contains("ledger entry b") && r.err.contains("does not hold its ref's commit"),
                "\(r.out)\(r.err)")
        #expect(r.err.split(separator: "\n").count == 1)
        // Alone, "a" passes the checks (exit 1: unreconciled), so "b" alone is what failed.
        try sh("rm -r '\(two)/b'")
        #expect(try GateTests.gate(f, two).code == 1)

        // A pack whose one object declares 33 GB: refused before anything is allocated.
        let bombEntry = PackCraft.header(3, 33_000_000_000) + PackCraft.zlib(Array("x".utf8))
        let bomb = try PackCraft.pack([bombEntry], in: f.dir)
        try Data(header + bomb).write(to: URL(fileURLWithPath: two + "/a/drift.bundle"))
        let big = try GateTests.gate(f, two)
        #expect(big.code == 2 && big.err.contains("ledger entry a") && big.err.contains("truncated or corrupt"),
                "\(big.out)\(big.err)")
        #expect(big.err.split(separator: "\n").count == 1)
    }
}
