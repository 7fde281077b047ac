import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Many config or data files of one change in one directory, recorded in a snapshot
/// as one entry (`drift.snapshot/2`, docs/journal.md "Summarised directories"), the way
/// `git status` shows an untracked directory as one line: a million unpacked model shards
/// cost one entry, one message line and one Drift-Id input, not a million of each.
public struct SnapshotSummary: Sendable, Equatable {
    /// How many files.
    var count: Int
    /// Their sizes now, summed (a deleted file counts 0).
    var bytes: Int64
    /// SHA-256 of the lines `<escaped path below the directory> <git mode or -> <sha256 or ->\n`
    /// of its files, sorted by path: any file added, removed, renamed or changed changes it.
    var digest: Digest

    /// More files than this of one change and class directly in one directory are one
    /// summary: the threshold `state.json` summarises with (`StateSummary.perDirectory`).
    static let threshold = StateSummary.perDirectory
    /// A snapshot with more entries than this folds config/data by directory depth
    /// (`StateSummary.maxItems`, the state's cap).
    static let maxEntries = StateSummary.maxItems

    /// Whether `change`, withheld for `reason`, may be folded into a summary: config and data
    /// withheld for their class alone. Code (an export needs each file), bytecode evidence,
    /// secrets and anything withheld for another reason (changed while read, unreadable) stay
    /// entries of their own, named one by one.
    static func foldable(_ c: FileChange, _ reason: WithholdReason) -> Bool {
        guard c.fileClass == .config || c.fileClass == .data else { return false }
        return !c.secret && c.change != .bytecode && reason == .notCode(c.fileClass)
    }
}

/// A snapshot's withheld changes with big directories folded (`SnapshotSummary`).
struct SnapshotFold {
    /// The withheld changes that stay entries of their own.
    var kept: [(FileChange, WithholdReason)] = []
    /// One entry a summarised directory (path ending in `/`, `""` for the root), sorted by
    /// path, then change, then class.
    var summaries: [SnapshotEntry] = []

    /// Folds each (directory, change, class) group of more than `SnapshotSummary.threshold`
    /// foldable changes directly in one directory into one summary entry, first seen at its
    /// earliest file's time. When the snapshot would still have more than
    /// `SnapshotSummary.maxEntries` entries (`others`: the entries besides these, e.g. the
    /// code in the tree), foldable changes are folded by directory, deepest level first, as
    /// `state.json` is (`StateSummary`): a summary then covers its files *below* the directory.
    init(_ withheld: [(FileChange, WithholdReason)], others: Int = 0) throws {
        func key(_ k: Int, _ length: Int) -> Key {
            let c = withheld[k].0
            return Key(dir: Array(c.path[..<length]), change: c.change, fileClass: c.fileClass)
        }
        // Per foldable change: its slash positions (files directly in the root have none and
        // stay their own: a summary names a directory), and the length of the directory it
        // is folded into (nil: not folded).
        // The slash positions of all of them in one flat array (`slashes[f.first..<f.first + f.count]`):
        // not an array per drifted path (issue 28, a million of them).
        var slashes: [Int32] = []
        var foldable: [(index: Int, first: Int, count: Int)] = []
        for (k, (c, reason)) in withheld.enumerated() where SnapshotSummary.foldable(c, reason) {
            let first = slashes.count
            for i in c.path.indices where c.path[i] == 0x2F { slashes.append(Int32(i)) }
            if slashes.count > first { foldable.append((k, first, slashes.count - first)) }
        }
        /// The length of the directory of `f`'s `depth`-th slash (1-based), with its `/`.
        func dirLength(_ f: (index: Int, first: Int, count: Int), _ depth: Int) -> Int {
            Int(slashes[f.first + depth - 1]) + 1
        }
        var into = [Int?](repeating: nil, count: withheld.count)
        let byParent = Self.byParent(withheld, foldable.map { ($0.index, dirLength($0, $0.count)) })
        var folded = 0
        var groups: [(Key, [Int])] = []
        for (key, members) in byParent where members.count > SnapshotSummary.threshold {
            for k in members { into[k] = key.dir.count }
            folded += members.count
            groups.append((key, members))
        }
        func entryCount() -> Int {
            var keys = Set<Key>()
            var own = withheld.count
            for f in foldable {
                guard let n = into[f.index] else { continue }
                own -= 1
                keys.insert(key(f.index, n))
            }
            return others + own + keys.count
        }
        // The first count is the groups' (each folded change is in one of them); only a
        // snapshot over the cap counts again by key after each level folded.
        var entries = others + withheld.count - folded + groups.count
        let deepest = foldable.lazy.map(\.count).max() ?? 0
        var depth = deepest
        var deeper = false
        while depth >= 1 && entries > SnapshotSummary.maxEntries {
            for f in foldable where f.count >= depth {
                let n = dirLength(f, depth)
                if (into[f.index] ?? Int.max) > n { into[f.index] = n }
            }
            depth -= 1
            deeper = true
            entries = entryCount()
        }
        if deeper {
            var byKey: [Key: [Int]] = [:]
            for f in foldable {
                if let n = into[f.index] { byKey[key(f.index, n), default: []].append(f.index) }
            }
            groups = byKey.map { ($0.key, $0.value) }
        }
        var made: [(Key, SnapshotEntry)] = []
        var lines = HashedLines(try SHA256Hasher())
        for (key, members) in groups {
            let files = members.sorted { PathBytes.less(withheld[$0].0.path, withheld[$1].0.path) }
            var earliest: Date?
            for k in files where earliest.map({ withheld[k].0.firstSeen < $0 }) ?? true {
                earliest = withheld[k].0.firstSeen
            }
            let summary = try Self.summary(files.lazy.map { withheld[$0].0 }, dir: key.dir, lines: &lines)
            made.append((key, SnapshotEntry(change: key.change, fileClass: key.fileClass,
                                            firstSeen: earliest?.wholeSeconds ?? Date(),
                                            path: key.dir, recorded: .summary(summary))))
        }
        kept = withheld.indices.filter { into[$0] == nil }.map { withheld[$0] }
        made.sort { a, b in
            if a.0.dir != b.0.dir { return PathBytes.less(a.0.dir, b.0.dir) }
            if a.0.change != b.0.change { return a.0.change.rawValue < b.0.change.rawValue }
            return a.0.fileClass.rawValue < b.0.fileClass.rawValue
        }
        summaries = made.map(\.1)
    }

    /// A (directory, change, class) group.
    private struct Key: Hashable {
        /// The directory's bytes with its trailing `/`.
        var dir: [UInt8]
        var change: ChangeKind
        var fileClass: FileClass
    }

    /// The withheld changes `parents` names — (index, length of its directory with the `/`),
    /// in order — grouped by (directory, change, class), each group's members in that order.
    /// A run of changes of one group (a directory's files come together in path order) is
    /// looked up once, not a key made and hashed per change.
    private static func byParent(_ withheld: [(FileChange, WithholdReason)],
                                 _ parents: [(index: Int, length: Int)]) -> [Key: [Int]] {
        var groups: [Key: [Int]] = [:]
        var run: (key: Key, members: [Int])?
        for (k, length) in parents {
            let c = withheld[k].0
            if let r = run, r.key.change == c.change, r.key.fileClass == c.fileClass, r.key.dir.count == length,
               startsWith(c.path, r.key.dir) {
                run?.members.append(k)
                continue
            }
            if let r = run { groups[r.key, default: []] += r.members }
            run = (Key(dir: Array(c.path[..<length]), change: c.change, fileClass: c.fileClass), [k])
        }
        if let r = run { groups[r.key, default: []] += r.members }
        return groups
    }

    /// Whether `path` begins with `prefix` (no longer than it), compared in place.
    private static func startsWith(_ path: [UInt8], _ prefix: [UInt8]) -> Bool {
        path.withUnsafeBufferPointer { p in
            prefix.withUnsafeBufferPointer { d in
                var i = d.count
                // From the end: sibling directories differ in their last bytes.
                while i > 0 {
                    i -= 1
                    if p[i] != d[i] { return false }
                }
                return true
            }
        }
    }

    /// Count, bytes and digest of `files` (sorted by path), all below `dir`.
    static func summary(_ files: [FileChange], dir: [UInt8]) throws -> SnapshotSummary {
        var lines = HashedLines(try SHA256Hasher())
        return try summary(files, dir: dir, lines: &lines)
    }

    /// `summary(_:dir:)` with a hasher reused across summaries.
    static func summary<S: Sequence<FileChange>>(_ files: S, dir: [UInt8],
                                                 lines: inout HashedLines) throws -> SnapshotSummary {
        var bytes: Int64 = 0
        var count = 0
        for c in files {
            count += 1
            bytes += c.new?.size ?? 0
            lines.append(escaped: c.path[dir.count...])
            lines.append(byte: 0x20)
            lines.append(mode: c.new?.gitMode)
            lines.append(byte: 0x20)
            lines.append(digest: c.new?.digest)
            try lines.endLine()
        }
        return SnapshotSummary(count: count, bytes: bytes, digest: try lines.finish())
    }

    /// The Drift-Id input line of a summary entry: `summary <change> <escaped dir/> <class>
    /// <count> <sha256>` (never ending in `code`: `DriftID.withheldCode` reads no summary).
    static func inputLine(_ e: SnapshotEntry) -> String? {
        guard case .summary(let s) = e.recorded else { return nil }
        return "summary \(e.change.rawValue) \(PathBytes.escape(e.path)) \(e.fileClass.rawValue) "
            + "\(s.count) \(s.digest.hex)"
    }
}
