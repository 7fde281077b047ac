import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// The state fold over plain entries (`StateFold`, issue 28 round 11: a one-shot scan's merge
/// makes an item only for what the fold keeps) writes what building every item and folding
/// them as before wrote: random trees of drifted paths, loaded items and summaries with
/// exports, folded by directory and by depth, code too.
@Suite struct StateFoldTests {
    /// A seeded generator, so a failing case can be run again.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// The fold as it was before `StateFold` (main 21a5248), over built items: the reference.
    /// `singles`: the depth fold folds a group of one too (main before incident 12 F8).
    /// `into`: for each path folded, the summary it is in at the end.
    enum Reference {
        /// Returns whether a group of one was folded.
        @discardableResult
        static func apply(_ items: inout [DriftState.Item], singles: Bool = false,
                          into: inout [String: SummaryIndex.Key]) -> Bool {
            if items.count <= StateSummary.perDirectory && !StateSummary.overCaps(items) { return false }
            var foldedOne = false
            items = fold(items, codeToo: false, threshold: StateSummary.perDirectory, into: &into,
                         foldedOne: &foldedOne) { StateSummary.parent($0) }
            for codeToo in [false, true] {
                var d = items.lazy.map { StateSummary.depth($0.path) }.max() ?? 0
                while d >= 0 && StateSummary.overCaps(items) {
                    let level = d
                    items = fold(items, codeToo: codeToo, threshold: singles ? 0 : 1, into: &into,
                                 foldedOne: &foldedOne) { StateSummary.ancestor($0, depth: level) }
                    d -= 1
                }
            }
            return foldedOne
        }

        @discardableResult
        static func apply(_ items: inout [DriftState.Item], singles: Bool = false) -> Bool {
            var into: [String: SummaryIndex.Key] = [:]
            return apply(&items, singles: singles, into: &into)
        }

        static func fold(_ items: [DriftState.Item], codeToo: Bool, threshold: Int,
                         into: inout [String: SummaryIndex.Key], foldedOne: inout Bool,
                         dir: (String) -> String?) -> [DriftState.Item] {
            struct Key: Hashable {
                var dir: String
                var change: ChangeKind
                var fileClass: FileClass?
            }
            var groups: [Key: [Int]] = [:]
            for (k, i) in items.enumerated() where codeToo || i.fileClass != .code {
                guard let d = dir(i.path) else { continue }
                groups[Key(dir: d, change: i.change, fileClass: i.fileClass), default: []].append(k)
            }
            var drop = [Bool](repeating: false, count: items.count)
            var out: [DriftState.Item] = []
            for (key, members) in groups where members.count > threshold {
                if members.count == 1 { foldedOne = true }
                let made = SummaryIndex.Key(path: key.dir, change: key.change, fileClass: key.fileClass)
                for k in members {
                    let m = items[k]
                    if m.count == nil {
                        into[m.path] = made
                    } else {
                        let was = SummaryIndex.Key(m)
                        for (p, s) in into where s == was { into[p] = made }
                    }
                }
                var firstText = items[members[0]].firstSeen
                var first = Timestamp.parse(firstText) ?? .distantFuture
                var total = 0
                for k in members {
                    drop[k] = true
                    total += items[k].count ?? 1
                    if items[k].firstSeen != firstText, let t = Timestamp.parse(items[k].firstSeen), t < first {
                        first = t
                        firstText = items[k].firstSeen
                    }
                }
                var summary = DriftState.Item(path: key.dir, firstSeen: firstText, change: key.change,
                                              fileClass: key.fileClass, count: total)
                let lead = items[members[0]]
                if members.allSatisfy({ items[$0].exportId == lead.exportId && items[$0].pushedAt == lead.pushedAt
                                        && items[$0].exportedAt == lead.exportedAt
                                        && items[$0].exportIdAt == lead.exportIdAt
                                        && items[$0].exportWithheld == lead.exportWithheld }) {
                    summary.exportWithheld = lead.exportWithheld
                    summary.exportedAt = lead.exportedAt
                    summary.exportId = lead.exportId
                    summary.exportIdAt = lead.exportIdAt
                    summary.pushedAt = lead.pushedAt
                }
                summary.clockStarted = members.compactMap { items[$0].clockStarted }.max()
                out.append(summary)
            }
            if out.isEmpty { return items }
            out += items.indices.filter { !drop[$0] }.map { items[$0] }
            return StateSummary.sortedByPath(out)
        }
    }

    /// Summaries of one directory but another change or class share a path: their order comes
    /// from a dictionary's (seeded per process), so it is compared sorted.
    static func normalised(_ items: [DriftState.Item]) -> [DriftState.Item] {
        var out: [DriftState.Item] = []
        var k = 0
        while k < items.count {
            var e = k + 1
            while e < items.count && items[e].path == items[k].path { e += 1 }
            out += items[k..<e].sorted {
                ($0.change.rawValue, $0.fileClass?.rawValue ?? "") < ($1.change.rawValue, $1.fileClass?.rawValue ?? "")
            }
            k = e
        }
        return out
    }

    /// Random raw paths: a few deep directories, some with more than a thousand files, names
    /// that escape (spaces, `%`, bytes over 0x7F).
    static func paths(_ n: Int, _ rng: inout SplitMix) -> [[UInt8]] {
        let dirs = ["a/", "a/b/", "a/b/c d/", "pkg/models/x%y/", "pkg/models/z/", "", "deep/1/2/3/4/",
                    "data/\u{E9}t\u{E9}/"]
        var set = Set<[UInt8]>()
        while set.count < n {
            // Half in one directory: more than a thousand of one change and class there.
            let d = Bool.random(using: &rng) ? "pkg/models/z/" : dirs[Int.random(in: 0..<dirs.count, using: &rng)]
            var name = Array((d + "f\(Int.random(in: 0..<(n * 2), using: &rng))").utf8)
            if Int.random(in: 0..<50, using: &rng) == 0 { name.append(0xFF) }
            if Int.random(in: 0..<4, using: &rng) == 0 { name += Array(".py".utf8) }
            set.insert(name)
        }
        return set.sorted(by: PathBytes.less)
    }

    static func change(_ p: [UInt8], _ rng: inout SplitMix) throws -> FileChange {
        let kinds: [ChangeKind] = [.added, .added, .added, .modified, .deleted]
        let classes: [FileClass] = [.data, .data, .config, .code]
        let d = try SHA256Hasher.digest(p)
        return FileChange(path: p, change: kinds[Int.random(in: 0..<kinds.count, using: &rng)],
                          fileClass: classes[Int.random(in: 0..<classes.count, using: &rng)], secret: false,
                          old: nil, new: EntryState(kind: .regular, executable: false, size: 1, digest: d, target: nil),
                          firstSeen: now.addingTimeInterval(Double(Int.random(in: 0..<3, using: &rng)) * -3_600))
    }

    /// Loaded items: some of the paths with earlier sightings and exports, and summaries over
    /// some directories (with and without an export).
    static func loaded(_ paths: [[UInt8]], _ rng: inout SplitMix) -> [DriftState.Item] {
        var items: [DriftState.Item] = []
        let early = Timestamp.format(now.addingTimeInterval(-86_400 * 3))
        for p in paths where Int.random(in: 0..<40, using: &rng) == 0 {
            var i = DriftState.Item(path: PathBytes.escape(p), firstSeen: early, change: .added, fileClass: .data)
            if Bool.random(using: &rng) {
                i.exportedAt = early
                i.exportId = "drift-\(Int.random(in: 0..<2, using: &rng))"
                i.exportedFingerprint = Bool.random(using: &rng) ? Digest(bytes: [UInt8](repeating: 1, count: 32)) : nil
            }
            if Int.random(in: 0..<3, using: &rng) == 0 {
                i.clockStarted = Timestamp.format(now.addingTimeInterval(-60))
            }
            items.append(i)
        }
        for dir in ["pkg/models/z/", "a/b/", "deep/1/"] where Bool.random(using: &rng) {
            var s = DriftState.Item(path: dir, firstSeen: early, change: .added, fileClass: .data, count: 1_500)
            if Bool.random(using: &rng) {
                s.exportedAt = early
                s.exportId = "drift-9"
            }
            items.append(s)
        }
        return StateSummary.sortedByPath(items)
    }

    @Test("folding built items folds as before: random sets under and over the caps")
    func applyAsBefore() throws {
        for seed in UInt64(1)...6 {
            var rng = SplitMix(state: seed)
            let n = [900, 2_500, 21_000][Int(seed % 3)]
            var items: [DriftState.Item] = []
            for p in Self.paths(n, &rng) {
                var i = DriftState.Item(path: PathBytes.escape(p), firstSeen: Timestamp.format(
                    Self.now.addingTimeInterval(Double(Int.random(in: 0..<3, using: &rng)) * -60)),
                                        change: Bool.random(using: &rng) ? .added : .modified,
                                        fileClass: [FileClass.data, .config, .code][Int.random(in: 0..<3, using: &rng)])
                if Int.random(in: 0..<20, using: &rng) == 0 {
                    i.exportId = "drift-\(Int.random(in: 0..<2, using: &rng))"
                    i.exportedAt = i.firstSeen
                }
                if Int.random(in: 0..<30, using: &rng) == 0 { i.clockStarted = Timestamp.format(Self.now) }
                items.append(i)
            }
            var old = items
            Reference.apply(&old)
            var new = items
            StateSummary.apply(&new)
            #expect(Self.normalised(new) == Self.normalised(old), "seed \(seed)")
            // The fold before incident 12 F8 (groups of one folded too): the same items whenever
            // it folded no group of one.
            var before = items
            if !Reference.apply(&before, singles: true) {
                #expect(Self.normalised(new) == Self.normalised(before), "seed \(seed)")
            }
        }
    }

    /// Random drifted items over `paths`: any change and class, a few exported.
    static func randomItems(_ paths: [[UInt8]], _ rng: inout SplitMix) -> [DriftState.Item] {
        paths.map { p in
            var i = DriftState.Item(path: PathBytes.escape(p), firstSeen: Timestamp.format(
                Self.now.addingTimeInterval(Double(Int.random(in: 0..<3, using: &rng)) * -60)),
                                    change: [ChangeKind.added, .modified, .deleted][Int.random(in: 0..<3, using: &rng)],
                                    fileClass: [FileClass.data, .config, .code][Int.random(in: 0..<3, using: &rng)])
            if Int.random(in: 0..<20, using: &rng) == 0 {
                i.exportId = "drift-1"
                i.exportedAt = i.firstSeen
            }
            return i
        }
    }

    @Test("a summary stands for exactly the paths folded into it, and for no path of another change or class")
    func coveredIsFoldedInto() throws {
        for seed in UInt64(1)...6 {
            var rng = SplitMix(state: seed)
            var paths = Self.paths([2_500, 21_000, 24_000][Int(seed % 3)], &rng)
            // Lone items at the root and in a directory of their own, beside many code paths: the
            // depth fold must not make a summary of one of them (incident 12 F8: `.env` -> "").
            paths += [Array(".env".utf8), Array("etc/one.conf".utf8)]
            paths.sort(by: PathBytes.less)
            let items = Self.randomItems(paths, &rng)
            var into: [String: SummaryIndex.Key] = [:]
            var reference = items
            Reference.apply(&reference, into: &into)
            var folded = items
            StateSummary.apply(&folded)
            #expect(Self.normalised(folded) == Self.normalised(reference), "seed \(seed)")
            #expect(!folded.contains { $0.count == 1 }, "seed \(seed): a summary of one item")
            let index = SummaryIndex(folded)
            let own = Set(folded.filter { $0.count == nil }.map(\.path))
            var mismatches: [String] = []
            for i in items {
                let covering = index.covering(i.path, change: i.change, fileClass: i.fileClass)
                if let key = into[i.path] {
                    if covering.map(SummaryIndex.Key.init) != key { mismatches.append(i.path) }
                } else if !own.contains(i.path) {
                    mismatches.append(i.path)
                }
            }
            #expect(mismatches.isEmpty, "seed \(seed): \(mismatches.prefix(5))")
            // New paths anywhere: a summary that stands for one is of its change and class, above it.
            for n in 0..<2_000 {
                let dir = ["", "a/", "a/b/", "pkg/models/z/", "deep/1/2/", "src/"][n % 6]
                let key = dir + "new\(n)"
                let change = [ChangeKind.added, .modified, .deleted][n % 3]
                let fileClass = [FileClass.data, .config, .code][(n / 3) % 3]
                guard let s = index.covering(key, change: change, fileClass: fileClass) else { continue }
                #expect(s.change == change && s.fileClass == fileClass && key.hasPrefix(s.path) && (s.count ?? 0) > 1)
            }
        }
    }

    @Test("incident 12 F8: a lone root config beside 25,000 code files stays its own item; new code is its own")
    func loneRootConfig() throws {
        let early = Timestamp.format(Self.now.addingTimeInterval(-3_600))
        var items = [DriftState.Item(path: ".env", firstSeen: early, change: .added, fileClass: .config)]
        for a in 0..<250 {
            for b in 0..<100 {
                items.append(DriftState.Item(path: String(format: "vendor/p%03d/f%03d.py", a, b), firstSeen: early,
                                             change: .added, fileClass: .code))
            }
        }
        items = StateSummary.sortedByPath(items)
        StateSummary.apply(&items)
        #expect(!StateSummary.overCaps(items))
        #expect(items.contains { $0.path == ".env" && $0.count == nil })
        #expect(!items.contains { $0.path.isEmpty })
        let index = SummaryIndex(items)
        #expect(index.covering(".env", change: .added, fileClass: .config) == nil)
        #expect(index.covering("src/newmod.py", change: .added, fileClass: .code) == nil)
        #expect(index.covering("vendor/p001/f001.py", change: .added, fileClass: .code)?.path == "vendor/p001/")
        #expect(index.covering("vendor/p001/f001.py", change: .modified, fileClass: .code) == nil)
        // A state the older fold wrote: `.env` as the summary "" of one. The summary keeps standing
        // for `.env` (its member), never for code, and a path that took its sighting is seen afresh.
        let bad = DriftState.Item(path: "", firstSeen: early, change: .added, fileClass: .config, count: 1)
        let old = SummaryIndex([bad])
        #expect(old.covering(".env", change: .added, fileClass: .config) == bad)
        #expect(old.covering("src/newmod.py", change: .added, fileClass: .code) == nil)
        let took = DriftState.Item(path: "src/m.py", firstSeen: early, change: .modified, fileClass: .code)
        #expect(old.inheritedWrongly("src/m.py", took, change: .modified, fileClass: .code))
        let own = DriftState.Item(path: "src/m.py", firstSeen: Timestamp.format(Self.now), change: .modified,
                                  fileClass: .code)
        #expect(!old.inheritedWrongly("src/m.py", own, change: .modified, fileClass: .code))
        #expect(!SummaryIndex(items).inheritedWrongly("src/m.py", took, change: .modified, fileClass: .code))
    }

    @Test("a merge without a memo (plain entries) writes what a merge building every item writes")
    func mergeAsBefore() throws {
        for seed in UInt64(1)...8 {
            var rng = SplitMix(state: seed)
            let n = [500, 1_800, 4_000, 22_000][Int(seed % 4)]
            let paths = Self.paths(n, &rng)
            let changes = try paths.map { try Self.change($0, &rng) }
            var state = DriftState(commit: String(repeating: "c", count: 40))
            state.items = Self.loaded(paths, &rng)
            // Some paths unreadable now (kept items) in every other case.
            let unreadable = seed % 2 == 0 ? state.items.filter { $0.count == nil }.prefix(3)
                .compactMap { PathBytes.unescape($0.path.utf8) } : []
            var lean = state
            var leanChanges = changes
            let keptLean = try lean.merge(&leanChanges, unreadable: unreadable)
            // The reference: every item built (the memo path, which keeps them unfolded), and
            // folded as before.
            var full = state
            var fullChanges = changes
            let memo = DerivationMemo()
            let keptFull = try full.merge(&fullChanges, unreadable: unreadable, memo: memo)
            if let built = try memo.takeMerged()?.items(fullChanges) {
                var folded = built
                Reference.apply(&folded)
                #expect(Self.normalised(lean.items) == Self.normalised(folded), "seed \(seed)")
            }
            #expect(keptLean == keptFull)
            #expect(Self.normalised(lean.items) == Self.normalised(full.items), "seed \(seed)")
            #expect(leanChanges.map(\.firstSeen) == fullChanges.map(\.firstSeen))
            #expect(n < 20_000 || lean.items.contains { ($0.count ?? 0) > 1_000 }, "folded")
        }
    }

    @Test("a state the older fold wrote (`.env` as the summary \"\" of one) heals: later code gets its own clock",
          arguments: [false, true])
    func healsSummaryOfOne(memo: Bool) throws {
        let early = Self.now.addingTimeInterval(-3_600)
        let exported = Timestamp.format(early.addingTimeInterval(5))
        var bad = DriftState.Item(path: "", firstSeen: Timestamp.format(early), change: .modified,
                                  fileClass: .config, count: 1)
        bad.exportedAt = exported
        bad.exportId = "drift-1"
        // What the older merge made of a hotfix after that: the summary's sighting and export.
        var took = DriftState.Item(path: "src/m.py", firstSeen: Timestamp.format(early), change: .modified,
                                   fileClass: .code)
        took.exportedAt = exported
        took.exportId = "drift-1"
        var state = DriftState(commit: String(repeating: "c", count: 40))
        func change(_ p: String, _ k: ChangeKind, _ c: FileClass) throws -> FileChange {
            FileChange(path: Array(p.utf8), change: k, fileClass: c, secret: false, old: nil,
                       new: EntryState(kind: .regular, executable: false, size: 1,
                                       digest: try SHA256Hasher.digest(Array(p.utf8)), target: nil),
                       firstSeen: Self.now)
        }
        var changes = try [change(".env", .modified, .config), change("src/m.py", .modified, .code),
                           change("src/new.py", .added, .code)]
        took.fingerprint = try ExportDuty.fingerprint(changes[1])
        took.exportedFingerprint = took.fingerprint
        state.items = [bad, took]
        try state.merge(&changes, memo: memo ? DerivationMemo() : nil)
        let byPath = Dictionary(uniqueKeysWithValues: state.items.map { ($0.path, $0) })
        #expect(!state.items.contains { $0.count != nil })
        // `.env`, the summary's one member, keeps its sighting and export.
        #expect(byPath[".env"]?.firstSeen == Timestamp.format(early) && byPath[".env"]?.exportId == "drift-1")
        // The hotfix keeps the sighting it had (no later than its own: its deadline is not moved
        // on) without the summary's export; a path new now is seen now.
        #expect(byPath["src/m.py"]?.firstSeen == Timestamp.format(early))
        #expect(byPath["src/new.py"]?.firstSeen == Timestamp.format(Self.now))
        for p in ["src/m.py", "src/new.py"] {
            #expect(byPath[p]?.exportedAt == nil && byPath[p]?.exportId == nil, "\(p)")
        }
    }
}
