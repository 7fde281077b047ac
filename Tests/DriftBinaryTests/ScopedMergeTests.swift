import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// The watcher's lists edited in place (issue 28 round 11) against the copies they replace, on
/// random paths (bytes that are not UTF-8 included): `mergeScoped(into:)` and
/// `Records.mergeScoped` against `mergeScoped`, `KeptEntries` against the dictionary of whole
/// entries it was, `SliceIndex` over a cache's records against the one over path arrays.
@Suite("drift watch: lists edited in place, the same as the copies")
struct ScopedMergeTests {
    /// A small deterministic generator (splitmix64): a failure names its seed.
    struct Rand: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// Names that sort around `/` (`-` before it, `0` after it) and are not UTF-8.
    static let names: [[UInt8]] = [[0x61], [0x62], [0x61, 0x2D, 0x62], [0x30], [0xFF], [0x80, 0x61], [0x61, 0x30],
                                   [0xC3], [0x61, 0x62, 0x63], [0x2E, 0x65, 0x6E, 0x76]]

    static func path(_ r: inout Rand) -> [UInt8] {
        var p: [UInt8] = []
        for k in 0...r.below(3) {
            if k > 0 { p.append(UInt8(ascii: "/")) }
            p += names[r.below(names.count)]
        }
        return p
    }

    static func sortedPaths(_ r: inout Rand, _ n: Int) -> [[UInt8]] {
        Array(Set((0..<n).map { _ in path(&r) })).sorted(by: bytesLess)
    }

    /// A scope of a few paths and trees, some of them paths of `base` or their directories.
    static func scope(_ r: inout Rand, _ base: [[UInt8]]) -> ScanScope {
        var s = ScanScope()
        for _ in 0..<(1 + r.below(4)) {
            var p = base.isEmpty || r.below(3) == 0 ? path(&r) : base[r.below(base.count)]
            if r.below(3) == 0, let slash = p.lastIndex(of: UInt8(ascii: "/")) { p = Array(p[..<slash]) }
            if r.below(2) == 0 { s.paths.insert(p) } else { s.trees.insert(p) }
        }
        return s
    }

    /// Sorted paths at or below the scope's members (what a rescan of it can find).
    static func part(_ r: inout Rand, _ scope: ScanScope) -> [[UInt8]] {
        let members = Array(scope.paths) + Array(scope.trees)
        var out = Set<[UInt8]>()
        for _ in 0..<r.below(6) {
            let m = members[r.below(members.count)]
            out.insert(r.below(2) == 0 ? m : m + [UInt8(ascii: "/")] + path(&r))
        }
        return out.sorted(by: bytesLess)
    }

    static func entry(_ r: inout Rand) -> StatCache.Entry {
        StatCache.Entry(size: Int64(r.below(1000)), mtimeNs: Int64(r.below(1 << 20)), ctimeNs: 7,
                        inode: r.next(), device: 1, digest: Digest(words: r.next(), r.next(), 0, 1))
    }

    @Test("mergeScoped(into:) and Records.mergeScoped give what mergeScoped gives", arguments: 0..<40)
    func inPlaceMerges(seed: UInt64) {
        var r = Rand(state: seed)
        let basePaths = Self.sortedPaths(&r, 1 + r.below(60))
        let scope = Self.scope(&r, basePaths)
        // The batch's case (a part inside the scope) and any part (the copy's rule for ties).
        let partPaths = seed % 4 == 3 ? Self.sortedPaths(&r, r.below(8)) : Self.part(&r, scope)
        let base = basePaths.enumerated().map { ($0.element, $0.offset) }
        let part = partPaths.enumerated().map { ($0.element, 1000 + $0.offset) }
        let want = mergeScoped(base, part, scope, path: \.0)
        var got = base
        mergeScoped(into: &got, part, scope, path: \.0)
        #expect(got.map(\.0) == want.map(\.0) && got.map(\.1) == want.map(\.1), "seed \(seed)")
        // A copy held elsewhere is left as it was.
        var shared = base
        let held = shared
        mergeScoped(into: &shared, part, scope, path: \.0)
        #expect(held.map(\.1) == base.map(\.1))

        let baseRecords = StatCache.Records(basePaths.map { StatCache.Record(path: $0, entry: Self.entry(&r)) })
        let partRecords = StatCache.Records(partPaths.map { StatCache.Record(path: $0, entry: Self.entry(&r)) })
        let wantRecords = mergeScoped(baseRecords, partRecords, scope)
        var gotRecords = baseRecords
        gotRecords.mergeScoped(partRecords, scope)
        #expect(gotRecords == wantRecords, "seed \(seed)")
        #expect(Array(gotRecords) == Array(wantRecords), "seed \(seed)")
        #expect(baseRecords == StatCache.Records(basePaths.enumerated().map {
            StatCache.Record(path: $0.element, entry: baseRecords[$0.offset].entry)
        }))
    }

    /// The kept entries as they were: a dictionary of whole walk entries by path.
    struct OldKept {
        var byPath: [[UInt8]: ClassifiedEntry] = [:]
        init(_ entries: [ClassifiedEntry], drifted: [FileChange]) {
            let d = Set(drifted.map(\.path))
            for e in entries where e.secret || d.contains(e.path) { byPath[e.path] = e }
        }
        func replacing(_ scope: ScanScope, with scanned: [ClassifiedEntry]) -> [ClassifiedEntry] {
            byPath.values.filter { !scope.contains($0.path) } + scanned
        }
        mutating func update(_ scope: ScanScope, with scanned: [ClassifiedEntry], drifted: [FileChange]) {
            let d = Set(drifted.map(\.path))
            byPath = byPath.filter { !scope.contains($0.key) && ($0.value.secret || d.contains($0.key)) }
            for e in scanned where e.secret || d.contains(e.path) { byPath[e.path] = e }
        }
    }

    /// What the secret check reads of a walk (`SecretIndex`): every secret-class entry whole,
    /// and the other regular files whose inode is a secret-class regular file's, by path.
    static func secretView(_ entries: [ClassifiedEntry]) -> (secrets: [String], linked: [[UInt8]]) {
        let secret = entries.filter(\.secret)
        let inodes = Set(secret.filter { $0.stat.kind == .regular }.map { [$0.stat.device, $0.stat.inode] })
        let linked = entries.filter {
            !$0.secret && $0.stat.kind == .regular && inodes.contains([$0.stat.device, $0.stat.inode])
        }.map(\.path)
        let described = secret.map { e in
            "\(e.path.map(String.init).joined(separator: ",")) \(String(describing: e.stat)) \(e.fileClass.rawValue)"
        }
        return (described.sorted(), linked.sorted(by: bytesLess))
    }

    static func walk(_ r: inout Rand, _ paths: [[UInt8]]) -> [ClassifiedEntry] {
        // Few inodes, so links to secret files occur; walk order is not sorted.
        paths.shuffled(using: &r).map { p in
            let kind: FileKind = r.below(6) == 0 ? .directory : .regular
            let st = FileStat(kind: kind, mode: 0o644, size: Int64(r.below(99)), mtimeNs: 5, ctimeNs: 6,
                              inode: UInt64(r.below(12)), device: UInt64(r.below(2)))
            return ClassifiedEntry(path: p, stat: st, fileClass: r.below(2) == 0 ? .data : .code,
                                   secret: r.below(5) == 0)
        }
    }

    static func changes(_ r: inout Rand, _ paths: [[UInt8]]) -> [FileChange] {
        paths.filter { _ in r.below(3) != 0 }.map {
            FileChange(path: $0, change: .added, fileClass: .data, secret: false, old: nil, new: nil,
                       firstSeen: Date(timeIntervalSince1970: 0))
        }
    }

    @Test("KeptEntries hands the secret check what the dictionary of whole entries did", arguments: 0..<30)
    func keptEntries(seed: UInt64) {
        var r = Rand(state: seed)
        let paths = Self.sortedPaths(&r, 5 + r.below(60))
        let first = Self.walk(&r, paths)
        let drifted = Self.changes(&r, paths)
        var old = OldKept(first, drifted: drifted)
        // As `Watcher.fullScan` builds it: every regular file first, the recorded drift after.
        var new = KeptEntries(first, drifted: { _ in true })
        new.retain(drifted: drifted)
        #expect(Self.secretView(new.entries) == Self.secretView(Array(old.byPath.values)), "seed \(seed)")
        for _ in 0..<4 {
            let scope = Self.scope(&r, paths)
            let scanned = Self.walk(&r, Self.part(&r, scope))
            #expect(Self.secretView(new.replacing(scope, with: scanned))
                    == Self.secretView(old.replacing(scope, with: scanned)), "seed \(seed)")
            let now = Self.changes(&r, Array(Set(paths + scanned.map(\.path))).sorted(by: bytesLess))
            old.update(scope, with: scanned, drifted: now)
            new.update(scope, with: scanned, drifted: now)
            #expect(Self.secretView(new.entries) == Self.secretView(Array(old.byPath.values)), "seed \(seed)")
            // What is kept is exactly the old keys that matter: secret ones and drifted regular files.
            let oldKeys = old.byPath.values.filter { $0.secret || $0.stat.kind == .regular }.map(\.path)
            #expect((new.secrets.map(\.path) + new.links.map(\.path)).sorted(by: bytesLess)
                    == oldKeys.sorted(by: bytesLess), "seed \(seed)")
        }
    }

    /// A batch changes the drifted list inside its scope alone: the links outside it are not
    /// checked again (issue 28 round 13), and the kept entries are those a whole check keeps.
    @Test("KeptEntries.update checking only the scope keeps what a whole check keeps", arguments: 0..<30)
    func keptEntriesInScope(seed: UInt64) {
        var r = Rand(state: seed)
        let paths = Self.sortedPaths(&r, 5 + r.below(60))
        var drifted = Self.changes(&r, paths)
        var whole = KeptEntries(Self.walk(&r, paths), drifted: { _ in true })
        whole.retain(drifted: drifted)
        var scoped = whole
        for _ in 0..<6 {
            let scope = Self.scope(&r, paths)
            let scanned = Self.walk(&r, Self.part(&r, scope))
            let part = Self.changes(&r, Array(Set(scanned.map(\.path))).sorted(by: bytesLess))
            mergeScoped(into: &drifted, part, scope, path: \.path)
            whole.update(scope, with: scanned, drifted: drifted)
            scoped.update(scope, with: scanned, drifted: drifted, outside: false)
            #expect(scoped.links.map(\.path) == whole.links.map(\.path), "seed \(seed)")
            #expect(scoped.secrets.map(\.path) == whole.secrets.map(\.path), "seed \(seed)")
            #expect(Self.secretView(scoped.entries) == Self.secretView(whole.entries), "seed \(seed)")
        }
    }

    /// `AheadVerification.disagreeing` looks each slice path up in the sorted model (issue 28 round
    /// 13) and says what a set test of every model path said.
    @Test("ahead verification's lookups in the model give the set test's verdicts", arguments: 0..<30)
    func aheadLookups(seed: UInt64) {
        var r = Rand(state: seed)
        let paths = Self.sortedPaths(&r, 5 + r.below(60))
        func result(_ changes: [FileChange]) -> DriftCore.Scanner.Result {
            DriftCore.Scanner.Result(changes: changes, issues: [], newCache: StatCache(), filesChecked: 0,
                                     filesHashed: 0)
        }
        func drifted(_ ps: [[UInt8]]) -> [FileChange] {
            ps.filter { _ in r.below(3) != 0 }.map {
                FileChange(path: $0, change: r.below(2) == 0 ? .added : .modified, fileClass: .data, secret: false,
                           old: nil, new: EntryState(kind: .regular, executable: false, size: Int64(r.below(3))),
                           firstSeen: Date(timeIntervalSince1970: 0))
            }
        }
        let model = result(drifted(paths))
        var scope = ScanScope()
        for p in paths where r.below(4) == 0 { scope.paths.insert(p) }
        let part = PartialScan.Outcome(result: result(drifted(paths.filter(scope.paths.contains))),
                                       walk: TreeWalk(entries: [], issues: [], unreadableDirectories: []),
                                       unreadable: [])
        // The set test, as it was.
        func verdicts(_ cs: [FileChange]) -> [[UInt8]: (ChangeKind, EntryState?)] {
            var out: [[UInt8]: (ChangeKind, EntryState?)] = [:]
            for c in cs where scope.paths.contains(c.path) { out[c.path] = (c.change, c.new) }
            return out
        }
        let now = verdicts(part.result.changes)
        let then = verdicts(model.changes)
        let want = Set(scope.paths.filter { p in
            now[p]?.0 != then[p]?.0 || now[p]?.1 != then[p]?.1 || (now[p] == nil) != (then[p] == nil)
        })
        #expect(AheadVerification.disagreeing(scope, part: part, model: model) == want, "seed \(seed)")
    }

    @Test("the slice index reads its paths from the cache it was built from, edited since or not", arguments: 0..<10)
    func sliceIndexOverRecords(seed: UInt64) {
        var r = Rand(state: seed)
        let paths = Self.sortedPaths(&r, 200 + r.below(400))
        var records = StatCache.Records(paths.map { StatCache.Record(path: $0, entry: Self.entry(&r)) })
        let every = 3 + r.below(20)
        let index = SliceIndex(records, every: every)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        func check(_ of: StatCache.Records) {
            for scan in 0..<every {
                let slice = ReverifySlice(every: every, scan: scan, last: t0,
                                          now: t0.addingTimeInterval(Double(900 * scan)))
                let got = index.paths(in: slice, of: of)
                let want = paths.filter(slice.contains)
                #expect(got.map { Set($0) } == Set(want) && got?.count == want.count, "seed \(seed) scan \(scan)")
            }
        }
        check(records)
        // A batch's in-place edit (records dropped, added, re-entered): the spans still name the
        // full scan's paths; records made anew (another layout) are refused.
        let scope = Self.scope(&r, paths)
        let part = Self.part(&r, scope)
        records.mergeScoped(StatCache.Records(part.map { StatCache.Record(path: $0, entry: Self.entry(&r)) }), scope)
        check(records)
        let other = StatCache.Records(paths.map { StatCache.Record(path: $0, entry: Self.entry(&r)) })
        #expect(index.paths(in: ReverifySlice(every: every, scan: 1), of: other) == nil)
        #expect(SliceIndex().paths(in: ReverifySlice(every: 1, scan: 0), of: records) == nil)
    }
}
