import DriftTestSupport
import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Bytes per drifted file (issue 28 round 12): `FileChange` holding one side inline and the
/// rest out of line reads back every field it was given, and a comparison that reads its files
/// a few at a time finds, caches and keeps what one reading them all at once does.
@Suite("Change layout: one side inline, flat walk entries, reads in chunks")
struct ChangeLayoutTests {
    typealias Rand = ScopedMergeTests.Rand

    static func bytes(_ r: inout Rand, upTo n: Int) -> [UInt8] {
        (0..<r.below(n + 1)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
    }

    static func digest(_ r: inout Rand) -> Digest {
        Digest(words: r.next(), r.next(), r.next(), r.next())
    }

    static let kinds: [FileKind] = [.regular, .symlink, .directory, .special]

    /// A side as any reader could have made it, or none.
    static func side(_ r: inout Rand) -> EntryState? {
        if r.below(4) == 0 { return nil }
        let kind = kinds[r.below(kinds.count)]
        return EntryState(kind: kind, executable: r.below(2) == 0, size: Int64(bitPattern: r.next()),
                          digest: r.below(5) == 0 ? nil : digest(&r),
                          target: r.below(3) == 0 ? bytes(&r, upTo: 40) : nil)
    }

    @Test("every field of a change reads back as given, set whole or through a side, on random values")
    func representation() {
        var r = Rand(state: 0x1234_5678)
        for _ in 0..<5_000 {
            let path = ScopedMergeTests.path(&r) + Self.bytes(&r, upTo: 8)
            let old = Self.side(&r), new = Self.side(&r)
            let kind = ChangeKind.allCases[r.below(ChangeKind.allCases.count)]
            let cls = FileClass.allCases[r.below(FileClass.allCases.count)]
            let secret = r.below(2) == 0, unstable = r.below(2) == 0, over = r.below(2) == 0
            let seen = Date(timeIntervalSince1970: Double(r.below(4_000_000_000)) / 3)
            var c = FileChange(path: path, change: kind, fileClass: cls, secret: secret, old: old, new: new,
                               firstSeen: seen, unstable: unstable, overReadLimit: over)
            #expect(c.path == path)
            #expect(c.old == old)
            #expect(c.new == new)
            #expect(c.change == kind)
            #expect(c.fileClass == cls)
            #expect(c.secret == secret)
            #expect(c.firstSeen == seen)
            #expect(c.unstable == unstable)
            #expect(c.overReadLimit == over)
            // Each side set alone leaves the other as it was.
            let other = Self.side(&r)
            c.new = other
            #expect(c.new == other)
            #expect(c.old == old)
            let again = Self.side(&r)
            c.old = again
            #expect(c.old == again)
            #expect(c.new == other)
            // Through optional chaining (`c.new?.size = …`), as the layers above write it.
            let size = Int64(r.below(1 << 30))
            c.new?.size = size
            var expected = other
            expected?.size = size
            #expect(c.new == expected)
            #expect(c.old == again)
            c.old?.target = [0xFF, 0x00, 0x80]
            var expectedOld = again
            expectedOld?.target = [0xFF, 0x00, 0x80]
            #expect(c.old == expectedOld)
            #expect(c.new == expected)
            #expect(c.path == path)
            #expect(c.change == kind)
        }
    }

    @Test("a walk entry reads back the stat it was given, every field, on random values")
    func walkEntry() {
        var r = Rand(state: 0x9876_5432)
        for _ in 0..<5_000 {
            let st = FileStat(kind: Self.kinds[r.below(Self.kinds.count)], mode: UInt32(truncatingIfNeeded: r.next()),
                              size: Int64(bitPattern: r.next()), mtimeNs: Int64(bitPattern: r.next()),
                              ctimeNs: Int64(bitPattern: r.next()), inode: r.next(), device: r.next())
            let path = ScopedMergeTests.path(&r)
            let cls = FileClass.allCases[r.below(FileClass.allCases.count)]
            let secret = r.below(2) == 0
            var e = ClassifiedEntry(path: path, stat: st, fileClass: cls, secret: secret)
            #expect(e.stat == st)
            #expect(e.path == path)
            #expect(e.fileClass == cls)
            #expect(e.secret == secret)
            e.stat.size = 7
            var expected = st
            expected.size = 7
            #expect(e.stat == expected)
            #expect(e.path == path && e.fileClass == cls && e.secret == secret)
        }
    }

    /// Every field of two comparisons' results, the new stat cache's records included.
    static func expectSame(_ a: DriftCore.Scanner.Result, _ b: DriftCore.Scanner.Result) {
        #expect(a.changes.count == b.changes.count)
        for (x, y) in zip(a.changes, b.changes) {
            #expect(x.sameInput(y))
            #expect(x.secrecy == y.secrecy)
        }
        #expect(a.issues.map(\.path) == b.issues.map(\.path))
        #expect(a.issues.map(\.message) == b.issues.map(\.message))
        #expect(Array(a.newCache.entries) == Array(b.newCache.entries))
        #expect(a.contents == b.contents)
        #expect(a.filesChecked == b.filesChecked)
        #expect(a.filesHashed == b.filesHashed)
        #expect(a.filesReverified == b.filesReverified)
        #expect(a.deferred.map(\.path) == b.deferred.map(\.path))
    }

    @Test("reads in chunks of 1, 2, 3 and 7 give what one read of every file gives, first scan and cached")
    func chunkedReads() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        // Drift of every kind, many added files (sizes 0-39), a name that is not UTF-8.
        var script = "echo 'x = 1' >> worker/main.py && echo 'new = 2' > worker/new.py"
            + " && printf 'queue: audio\\n' > config/settings.yaml && chmod -x start_remote.sh"
            + " && rm assets/logo.bin && mkdir -p packages/models/part && ln -s nowhere dangling"
            + " && printf x > \"$(printf 'packages/models/part/\\377name')\""
        for k in 0..<40 {
            script += " && head -c \(k) /dev/zero > packages/models/part/f\(k).bin"
        }
        try sh(script, cwd: f.workspace)
        // Past the racy margin, so the reads leave cache records to compare.
        Thread.sleep(forTimeInterval: 2.2)
        let (manifest, policy) = try ManifestDirectory(path: f.mdir).load()
        let root = Array(f.workspace.utf8)
        let now = Date()
        let walk = try TreeWalk.run(root: root, classifier: Classifier(policy: policy))
        let whole = try Scanner(manifest: manifest, policy: policy, root: root, cache: nil).compare(walk, now: now)
        #expect(whole.newCache.entries.count > 40)
        #expect(whole.changes.contains { $0.path == Array("packages/models/part/".utf8) + [0xFF] + Array("name".utf8) })
        for chunk in [1, 2, 3, 7] {
            var s = Scanner(manifest: manifest, policy: policy, root: root, cache: nil)
            s.readChunk = chunk
            Self.expectSame(try s.compare(walk, now: now), whole)
        }
        // With the first scan's cache: a few files edited (a patch of the records) and many
        // (a copy), each read in chunks or at once.
        for edited in [3, 30] {
            var again = ""
            for k in 0..<edited { again += "printf y >> packages/models/part/f\(k).bin && " }
            try sh(again + "echo more > worker/more.py", cwd: f.workspace)
            Thread.sleep(forTimeInterval: 2.2)
            let walk2 = try TreeWalk.run(root: root, classifier: Classifier(policy: policy))
            let cache = whole.newCache
            let one = try Scanner(manifest: manifest, policy: policy, root: root, cache: cache).compare(walk2, now: now)
            #expect(one.filesHashed >= edited)
            for chunk in [1, 3] {
                var s = Scanner(manifest: manifest, policy: policy, root: root, cache: cache)
                s.readChunk = chunk
                Self.expectSame(try s.compare(walk2, now: now), one)
            }
        }
    }
}
