import DriftGit
import DriftSystem
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `state.json` as a base plus `state.log`, the changes of `drift watch`'s batches since
/// (docs/state.md, "Incremental updates"): a batch that changed one path appends one small
/// record instead of rewriting every item. A full scan (cron, `drift scan`, the watcher's
/// start-up and periodic scans), export, push and forget write `state.json` whole and remove
/// the log; so does a batch whose log would pass `StateLog.bound`.
///
/// The log is `DRIFTST1` + the SHA-256 of the `state.json` it extends, then `AppendLog`
/// frames, each one JSON `StateLog.Delta`: every field but the items, the items put
/// (added or changed) and the keys of those removed. A log naming another `state.json` is
/// stale (a crash between the new base's rename and the log's removal) and ignored.
enum StateLog {
    static let name = "state.log"
    static let magic: [UInt8] = Array("DRIFTST1".utf8)
    static let headerSize = 8 + 32

    /// What identifies an item: its path, and for a summary its change and class too
    /// (one directory can hold summaries of several).
    struct Key: Codable, Hashable {
        var path: String
        var change: ChangeKind?
        var fileClass: FileClass?
        enum CodingKeys: String, CodingKey {
            case path, change
            case fileClass = "class"
        }

        init(_ i: DriftState.Item) {
            path = i.path
            change = i.count == nil ? nil : i.change
            fileClass = i.count == nil ? nil : i.fileClass
        }
    }

    /// One batch's changes.
    struct Delta: Codable {
        /// Every field but `items` (encoded with none).
        var fields: DriftState
        var put: [DriftState.Item]
        var remove: [Key]
    }

    /// A log may grow to the size of the `state.json` it extends (at least 64 KiB) before a
    /// batch writes a new base: reading costs at most twice the base, and a byte appended is
    /// rewritten at most once more.
    static func bound(baseSize: Int) -> Int { max(64 << 10, baseSize) }

    /// Where a loaded state came from: what an append must still find on disk.
    struct Origin: Sendable, Equatable {
        var baseID: [UInt8]
        var baseSize: Int
        var baseStat: FileStat
        /// The log's valid length (0: none for this base).
        var logEnd: Int
        /// A log file is there that is not wholly valid for this base (torn or stale).
        var logDamaged: Bool
    }

    /// The changes from `old` to `new` items.
    static func delta(_ old: [DriftState.Item], _ new: [DriftState.Item]) -> (put: [DriftState.Item], remove: [Key]) {
        var before: [Key: DriftState.Item] = [:]
        for i in old { before[Key(i)] = i }
        var put: [DriftState.Item] = []
        for i in new {
            let k = Key(i)
            if before.removeValue(forKey: k) != i { put.append(i) }
        }
        let remove = before.keys.sorted { a, b in
            (a.path, a.change?.rawValue ?? "", a.fileClass?.rawValue ?? "")
                < (b.path, b.change?.rawValue ?? "", b.fileClass?.rawValue ?? "")
        }
        return (put, remove)
    }

    /// What a fold read: the log's valid length (0 when it belongs to another base) and the
    /// whole records it could not use.
    struct Folded {
        var end: Int
        /// Why each skipped record was skipped ("record 2 of 3 does not decode (…)").
        var skipped: [String] = []
    }

    /// Folds the log `bytes` into `s` (read from a base whose SHA-256 is `baseID`). A record
    /// that checksums but does not decode, or names another state, is skipped and said
    /// (`Folded.skipped`): the records after it still fold, each carrying every field, and
    /// the caller recovers what the skipped one put (`StateRecovery.refill`) instead of
    /// stopping there for good.
    static func fold(_ bytes: [UInt8], into s: inout DriftState, baseID: [UInt8]) -> Folded {
        guard bytes.count >= headerSize, bytes.starts(with: magic),
              bytes[8..<headerSize].elementsEqual(baseID) else { return Folded(end: 0) }
        let (payloads, end) = AppendLog.frames(bytes, from: headerSize)
        var out = Folded(end: end)
        if payloads.isEmpty { return out }
        var items: [Key: DriftState.Item] = [:]
        for i in s.items { items[Key(i)] = i }
        var fields = s
        for (n, p) in payloads.enumerated() {
            let d: Delta
            do { d = try JSONDecoder().decode(Delta.self, from: Data(p)) } catch {
                out.skipped.append("record \(n + 1) of \(payloads.count) does not decode (\(errorText(error)))")
                continue
            }
            guard d.fields.schema == s.schema, d.fields.commit == s.commit else {
                out.skipped.append("record \(n + 1) of \(payloads.count) is for another state "
                                   + "(\(d.fields.schema), \(d.fields.commit))")
                continue
            }
            fields = d.fields
            for k in d.remove { items[k] = nil }
            for i in d.put { items[Key(i)] = i }
        }
        let recovered = s.recovered
        s = fields
        s.recovered = recovered
        s.items = Array(items.values)
        canonicalOrder(&s.items)
        return out
    }

    /// Items by path bytes; a directory's summaries (same path) by change, then class.
    static func canonicalOrder(_ items: inout [DriftState.Item]) {
        items.sort { a, b in
            if a.path != b.path {
                return PathBytes.less(PathBytes.unescape(a.path.utf8) ?? [], PathBytes.unescape(b.path.utf8) ?? [])
            }
            if (a.count == nil) != (b.count == nil) { return a.count != nil }
            if a.change != b.change { return a.change.rawValue < b.change.rawValue }
            return (a.fileClass?.rawValue ?? "") < (b.fileClass?.rawValue ?? "")
        }
    }
}

/// The state a long-running recorder (`drift watch`) last read or wrote, with the stats of
/// `state.json` and `state.log` then: while both are unchanged on disk, the next batch uses
/// it instead of reading and decoding the files again.
final class StateMemo: Sendable {
    private struct Held {
        var state: DriftState
        var base: FileStat
        var log: FileStat?
    }
    private let held = Mutex<Held?>(nil)

    init() {}

    func get(_ dir: StateDirectory) -> DriftState? {
        guard let h = held.withLock({ $0 }),
              case .success(let base) = lstatBytes(dir.file("state.json")), base == h.base,
              Self.logStat(dir) == h.log else { return nil }
        return h.state
    }

    func set(_ s: DriftState?, _ dir: StateDirectory) {
        guard let s, case .success(let base) = lstatBytes(dir.file("state.json")) else {
            held.withLock { $0 = nil }
            return
        }
        let log = Self.logStat(dir)
        held.withLock { $0 = Held(state: s, base: base, log: log) }
    }

    private static func logStat(_ dir: StateDirectory) -> FileStat? {
        if case .success(let st) = lstatBytes(dir.file(StateLog.name)) { return st }
        return nil
    }
}
