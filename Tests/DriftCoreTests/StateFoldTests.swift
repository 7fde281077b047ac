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
    enum Reference {
        static func apply(_ items: inout [DriftState.Item]) {
            if items.count <= StateSummary.perDirectory && !StateSummary.overCaps(items) { return }
            items = fold(items, codeToo: false, threshold: StateSummary.perDirectory) { StateSummary.parent($0) }
            for codeToo in [false, true] {
                var d = items.lazy.map { StateSummary.depth($0.path) }.max() ?? 0
                while d >= 0 && StateSummary.overCaps(items) {
                    let level = d
                    items = fold(items, codeToo: codeToo, threshold: 0) { StateSummary.ancestor($0, depth: level) }
                    d -= 1
                }
            }
        }

        static func fold(_ items: [DriftState.Item], codeToo: Bool, threshold: Int,
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
        }
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
}
