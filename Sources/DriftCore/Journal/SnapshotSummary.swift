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
        // Per foldable change: its path and (change, class), taken out once (an element of
        // the list read again is a copy of the whole change, per access: most of a batch's
        // fold at 200,000 files, issue 28), and its slash positions (files directly in the
        // root have none and stay their own: a summary names a directory), all of them in one
        // flat array (`slashes[f.first..<f.first + f.count]`), not an array per drifted path.
        var slashes: [Int32] = []
        var foldable: [(index: Int, first: Int, count: Int)] = []
        var paths: [[UInt8]] = []
        var kinds: [(ChangeKind, FileClass)] = []
        for (k, (c, reason)) in withheld.enumerated() where SnapshotSummary.foldable(c, reason) {
            let first = slashes.count
            c.path.withUnsafeBufferPointer { p in
                for i in p.indices where p[i] == 0x2F { slashes.append(Int32(i)) }
            }
            guard slashes.count > first else { continue }
            foldable.append((k, first, slashes.count - first))
            paths.append(c.path)
            kinds.append((c.change, c.fileClass))
        }
        /// The length of the directory of `f`'s `depth`-th slash (1-based), with its `/`.
        func dirLength(_ f: Int, _ depth: Int) -> Int {
            Int(slashes[foldable[f].first + depth - 1]) + 1
        }
        // Per foldable change (by its place in `foldable`): the length of the directory it is
        // folded into (nil: not folded).
        var into = [Int?](repeating: nil, count: foldable.count)
        var groups: [(Key, [Int])] = []
        var folded = 0
        let parents = foldable.indices.lazy.map { ($0, dirLength($0, foldable[$0].count)) }
        for (key, members) in Self.group(paths, kinds, parents) where members.count > SnapshotSummary.threshold {
            for f in members { into[f] = key.dir.count }
            folded += members.count
            groups.append((key, members))
        }
        // Entries: the others, the changes not folded, and one a (directory, change, class) folded.
        var entries = others + withheld.count - folded + groups.count
        var depth = foldable.lazy.map(\.count).max() ?? 0
        while depth >= 1 && entries > SnapshotSummary.maxEntries {
            for f in foldable.indices where foldable[f].count >= depth {
                let n = dirLength(f, depth)
                if (into[f] ?? Int.max) > n { into[f] = n }
            }
            depth -= 1
            groups = Self.group(paths, kinds, foldable.indices.lazy.compactMap { f in into[f].map { (f, $0) } })
                .map { ($0, $1) }
            folded = groups.reduce(0) { $0 + $1.1.count }
            entries = others + withheld.count - folded + groups.count
        }
        var made: [(Key, SnapshotEntry)] = []
        let hasher = try SHA256Hasher()
        for (key, members) in groups {
            let files = members.sorted { PathBytes.less(paths[$0], paths[$1]) }
            let (summary, earliest) = try Self.summary(files.lazy.map { withheld[foldable[$0].index].0 },
                                                       dir: key.dir, hasher)
            made.append((key, SnapshotEntry(change: key.change, fileClass: key.fileClass,
                                            firstSeen: earliest?.wholeSeconds ?? Date(), path: key.dir,
                                            recorded: .summary(summary))))
        }
        var folds = [Bool](repeating: false, count: withheld.count)
        for f in foldable.indices where into[f] != nil { folds[foldable[f].index] = true }
        kept = withheld.indices.filter { !folds[$0] }.map { withheld[$0] }
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

    /// The changes `parents` names — (place, length of the directory it folds into, with
    /// the `/`), in order — grouped by (directory, change, class), each group's members in
    /// that order. A run of one group's changes (a directory's files come together in path
    /// order) is looked up once, not a key made and hashed per change.
    private static func group(_ paths: [[UInt8]], _ kinds: [(ChangeKind, FileClass)],
                              _ parents: some Sequence<(Int, Int)>) -> [Key: [Int]] {
        var groups: [Key: [Int]] = [:]
        // The run's key and members apart: a copy of the run held while appending to it would
        // copy its members on every append.
        var key: Key?
        var members: [Int] = []
        for (f, length) in parents {
            let (change, fileClass) = kinds[f]
            if let k = key, k.change == change, k.fileClass == fileClass, k.dir.count == length,
               startsWith(paths[f], k.dir) {
                members.append(f)
                continue
            }
            if let k = key { groups[k, default: []] += members }
            key = Key(dir: Array(paths[f][..<length]), change: change, fileClass: fileClass)
            members = [f]
        }
        if let k = key { groups[k, default: []] += members }
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

    /// Count, bytes and digest of `files` (sorted by path), all below `dir`: SHA-256 of the
    /// lines `<escaped path below dir> <git mode or -> <sha256 or ->\n`; and their earliest
    /// first sighting.
    private static func summary(_ files: some Sequence<FileChange>, dir: [UInt8],
                                _ hasher: SHA256Hasher) throws -> (SnapshotSummary, earliest: Date?) {
        var lines = HashedLines(hasher)
        var bytes: Int64 = 0
        var count = 0
        var earliest: Date?
        for c in files {
            count += 1
            bytes += c.new?.size ?? 0
            if earliest.map({ c.firstSeen < $0 }) ?? true { earliest = c.firstSeen }
            lines.append(escaped: c.path[dir.count...])
            lines.append(byte: 0x20)
            lines.append(mode: c.new?.gitMode)
            lines.append(byte: 0x20)
            lines.append(digest: c.new?.digest)
            try lines.endLine()
        }
        return (SnapshotSummary(count: count, bytes: bytes, digest: try lines.finish()), earliest)
    }

    /// The Drift-Id input line of a summary entry: `summary <change> <escaped dir/> <class>
    /// <count> <sha256>` (never ending in `code`: `DriftID.withheldCode` reads no summary).
    static func inputLine(_ e: SnapshotEntry) -> String? {
        guard case .summary(let s) = e.recorded else { return nil }
        return "summary \(e.change.rawValue) \(PathBytes.escape(e.path)) \(e.fileClass.rawValue) "
            + "\(s.count) \(s.digest.hex)"
    }
}
