import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// The flat in-memory stat cache and the first scan's read-ahead (issue 26): same answers
/// as the array of records and the read after the walk they replace.
@Suite("Compact state")
struct CompactStateTests {
    static func entry(_ k: Int) throws -> StatCache.Entry {
        StatCache.Entry(size: Int64(k), mtimeNs: Int64(k) * 7, ctimeNs: Int64(k) * 11, inode: UInt64(k),
                        device: 3, digest: try SHA256Hasher.digest(Array("\(k)".utf8)))
    }

    /// Paths of many shapes, sorted by bytes: a prefix of another, a byte above `/`, 0xFF.
    static let paths: [[UInt8]] = [
        "a", "a/b", "a/b/c.py", "a/b0", "a/c", "a0", "b/x y", "b/\u{7f}", "zz",
    ].map { Array($0.utf8) } + [Array("zz/".utf8) + [0xFF]]

    @Test("records keep paths and entries in place; lookups, edits and equality as with an array")
    func records() throws {
        let records = try Self.paths.enumerated().map { StatCache.Record(path: $1, entry: try Self.entry($0)) }
        var c = StatCache()
        c.entries = StatCache.Records(records)
        #expect(Array(c.entries) == records)
        #expect(c.entries.count == records.count)
        for (i, p) in Self.paths.enumerated() {
            #expect(c.entries.lowerBound(p) == i)
            #expect(c.entries.comparePath(i, p) == 0)
        }
        // A cursor in walk order finds each path once, and only with the same stat.
        var cursor = StatCache.Cursor()
        for (i, p) in Self.paths.enumerated() {
            let e = try Self.entry(i)
            let st = FileStat(kind: .regular, mode: 0o100644, size: e.size, mtimeNs: e.mtimeNs, ctimeNs: e.ctimeNs,
                              inode: e.inode, device: e.device)
            #expect(cursor.digest(c, p, st) == e)
            var other = st
            other.mtimeNs += 1
            var again = StatCache.Cursor()
            #expect(again.digest(c, p, other) == nil)
        }
        // Replacing one entry in place (the tests that forge a cache do this).
        var d = c
        d.entries[2].entry = try Self.entry(99)
        #expect(d.entries[2] == StatCache.Record(path: Self.paths[2], entry: try Self.entry(99)))
        let original = try Self.entry(2)
        #expect(d.entries != c.entries && c.entries[2].entry == original)
        // Serialised and parsed back: the same records.
        #expect(StatCache.parse(try c.serialized())?.entries == c.entries)
        // Serialised in pieces (as a base is written): the same bytes, the checksum last and returned.
        var pieces: [[UInt8]] = []
        let sum = try c.serialize(chunk: 50) { pieces.append($0) }
        let whole = try c.serialized()
        #expect(pieces.count > 3 && pieces.flatMap { $0 } == whole)
        #expect(pieces.last == sum.bytes && Array(whole.suffix(32)) == sum.bytes)
        // Out of order is refused by the parser.
        var bad = StatCache()
        bad.entries = StatCache.Records([records[1], records[0]])
        #expect(StatCache.parse(try bad.serialized()) == nil)
    }

    @Test("merging a watch batch into the flat records equals merging arrays")
    func mergeScopedRecords() throws {
        let records = try Self.paths.enumerated().map { StatCache.Record(path: $1, entry: try Self.entry($0)) }
        let part = try ["a/b/c.py", "a/b/new", "a/c", "b/new", "zz"].enumerated().map {
            StatCache.Record(path: Array($1.utf8), entry: try Self.entry(100 + $0))
        }
        var scope = ScanScope()
        scope.paths = [Array("a/c".utf8), Array("zz".utf8), Array("gone".utf8)]
        scope.trees = [Array("a/b".utf8), Array("b".utf8)]
        let want = mergeScoped(records, part, scope, path: \.path)
        let got = mergeScoped(StatCache.Records(records), StatCache.Records(part), scope)
        #expect(Array(got) == want)
    }

    @Test("a batch that only replaces records updates them in place, equal to the merge; anything else merges")
    func replaceInPlace() throws {
        let records = try Self.paths.enumerated().map { StatCache.Record(path: $1, entry: try Self.entry($0)) }
        // The re-verification slice or an edit: the same paths, new entries (one scope path gone from both).
        var scope = ScanScope()
        scope.paths = [Array("a/b/c.py".utf8), Array("b/x y".utf8), Array("b/\u{7f}".utf8), Array("gone".utf8)]
        let part = try ["a/b/c.py", "b/x y", "b/\u{7f}"].enumerated().map {
            StatCache.Record(path: Array($1.utf8), entry: try Self.entry(200 + $0))
        }
        var inPlace = StatCache.Records(records)
        let shared = inPlace
        let replaced = inPlace.replaceInPlace(StatCache.Records(part), scope)
        #expect(replaced)
        #expect(Array(inPlace) == mergeScoped(records, part, scope, path: \.path))
        #expect(Array(shared) == records)
        // A path added, a path removed, a tree, or records below a path: refused, nothing touched.
        let refused: [(Set<[UInt8]>, Set<[UInt8]>, [String])] = [
            ([Array("a/new".utf8)], [], ["a/new"]),
            ([Array("a/c".utf8)], [], []),
            ([], [Array("b".utf8)], ["b/x y"]),
            ([Array("a/c".utf8)], [], ["a/d"]),
            // A path with records below it (no longer a directory): the merge drops those.
            ([Array("zz".utf8)], [], ["zz"]),
        ]
        for (paths, trees, names) in refused {
            var s = ScanScope()
            s.paths = paths
            s.trees = trees
            let p = try names.map { StatCache.Record(path: Array($0.utf8), entry: try Self.entry(300)) }
            var r = StatCache.Records(records)
            let replaced = r.replaceInPlace(StatCache.Records(p), s)
            #expect(!replaced)
            #expect(Array(r) == records)
        }
        // A cursor walking a few of the records in order (a watch batch) finds each, skipping the rest.
        var c = StatCache()
        c.entries = StatCache.Records(records)
        var cursor = StatCache.Cursor()
        for i in stride(from: 1, to: records.count, by: 3) {
            #expect(cursor.find(c, Self.paths[i]) == i)
        }
        var late = StatCache.Cursor()
        #expect(late.find(c, Array("zz/zzz".utf8)) == nil)
    }

    @Test("a first scan read while the walk ran reports, caches and journals what a read after it does")
    func readAheadSameResult() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        // Drift of every kind the read decides: a modified code file (its bytes are journaled),
        // an added one, a same-size edit, a mode change, a deletion.
        try sh("echo 'x = 1' >> worker/main.py && echo 'new = 2' > worker/new.py"
               + " && printf 'queue: audio\\n' > config/settings.yaml && chmod -x start_remote.sh"
               + " && rm assets/logo.bin", cwd: f.workspace)
        let (manifest, policy) = try ManifestDirectory(path: f.mdir).load()
        let root = Array(f.workspace.utf8)
        let now = Date()
        let plain = try Scanner(manifest: manifest, policy: policy, root: root, cache: nil).run(now: now)
        let ahead = ReadAhead(reader: FileReader(root: root), workers: 2)
        let walk = try TreeWalk.run(root: root, policy: policy, readAhead: ahead)
        var scanner = Scanner(manifest: manifest, policy: policy, root: root, cache: nil)
        scanner.readAhead = ahead.finish()
        #expect(scanner.readAhead?.isEmpty == false)
        let overlapped = try scanner.compare(walk, now: now)
        #expect(overlapped.changes.map(\.path) == plain.changes.map(\.path))
        #expect(overlapped.changes.map(\.change) == plain.changes.map(\.change))
        #expect(overlapped.changes.map(\.new) == plain.changes.map(\.new))
        #expect(overlapped.contents == plain.contents)
        #expect(overlapped.contents[Array("worker/main.py".utf8)] != nil)
        #expect(overlapped.newCache.entries.count == plain.newCache.entries.count)
        #expect(overlapped.newCache.entries.map(\.path) == plain.newCache.entries.map(\.path))
        #expect(overlapped.filesHashed == plain.filesHashed)
    }
}
