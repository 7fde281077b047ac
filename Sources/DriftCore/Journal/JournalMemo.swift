import DriftSystem
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a watcher's records derived from the drifted files last time, by group: a folded
/// directory's summary (`SnapshotFold`) and a run of the fingerprint's lines
/// (`Journal.fingerprint`). A batch that edits one code file beside 200,000 drifted data files
/// then hashes their lines again for none of them (issue 28): one pass over the list checks
/// each group against its memo, and only a group whose members moved is derived again.
///
/// A group is found again by `MemberCheck`: its members' count and a 64-bit SipHash of every
/// field the derivation reads, keyed per process (`Hasher`), so a path crafted to collide
/// cannot be made without the process's key; the memo never leaves the process.
final class JournalMemo: Sendable {
    /// A folded directory's summary, by its key and members.
    struct FoldKey: Hashable {
        var dir: [UInt8]
        var change: ChangeKind
        var fileClass: FileClass
        var members: MemberCheck
    }

    struct FoldValue {
        var summary: SnapshotSummary
        var earliest: Date?
    }

    /// A whole fold: its summaries, and which of the changes it may fold it did not (by their
    /// order among those, ascending): its kept list is found again from the changes' fields.
    /// It is the fold of every list whose foldable changes `foldable` checks and whose entries
    /// besides them (`SnapshotFold`'s `others` plus its withheld count) are in `entries`: the
    /// depth fold compares that count alone with the cap (a code edit changes it, not the fold).
    struct Whole {
        var foldable: MemberCheck
        var entries: ClosedRange<Int>
        var summaries: [SnapshotEntry]
        var unfolded: [Int]

        /// Whether this is the fold of `foldable` with `entries`.
        func holds(_ foldable: MemberCheck, entries: Int) -> Bool {
            self.foldable == foldable && self.entries.contains(entries)
        }
    }

    /// One chunk of the fingerprint (`FingerprintChunks`) as the last list had it.
    struct Chunk {
        /// Its first position in that list, and how many changes.
        var start: Int
        var count: Int
        /// Its members' check (`MemberHasher.addForFingerprint`).
        var check: MemberCheck
        /// The SHA-256 of its lines.
        var digest: Digest
        /// The check of its changes the snapshot's fold may fold (`FoldRuns.mayFold`).
        var fold: SequenceCheck
    }

    /// The fingerprint's chunks of the list of `generation` (nil: of no list a splice names).
    struct Chunks {
        var list: [Chunk]
        var generation: UInt64?
    }

    private struct State {
        var folds: [FoldKey: FoldValue] = [:]
        var chunks: Chunks?
        var whole: Whole?
    }

    private let state = Mutex(State())

    init() {}

    /// The summaries the last fold made (emptied: the fold puts back what it uses).
    func takeFolds() -> [FoldKey: FoldValue] {
        state.withLock { st in
            defer { st.folds = [:] }
            return st.folds
        }
    }

    func putFolds(_ folds: [FoldKey: FoldValue]) {
        state.withLock { $0.folds = folds }
    }

    /// The last whole fold (a watcher's record).
    var whole: Whole? {
        get { state.withLock { $0.whole } }
        set { state.withLock { $0.whole = newValue } }
    }

    /// The fingerprint's chunks of last time (emptied: a fingerprint that fails leaves none, and
    /// one that succeeds puts back those of its list).
    func takeChunks() -> Chunks? {
        state.withLock { st in
            defer { st.chunks = nil }
            return st.chunks
        }
    }

    func putChunks(_ chunks: Chunks) {
        state.withLock { $0.chunks = chunks }
    }
}

/// A group of changes in one value: how many, and a SipHash (`Hasher`, keyed per process) of
/// what is fed for each. Equal checks stand for equal members (a false match has a chance of
/// 2^-64 per lookup, and needs the process's key to be made on purpose).
public struct MemberCheck: Hashable, Sendable {
    var count: Int
    var hash: Int
}

/// Feeds changes' fields to a `Hasher` in place, each field framed so that no two member
/// sequences give one stream.
struct MemberHasher {
    private var hasher = Hasher()
    private(set) var count = 0

    /// A run's directory: the first `length` bytes of `path` (its members then feed only
    /// what follows: `addForFold(_:from:)`).
    mutating func addDirectory(_ path: [UInt8], _ length: Int) {
        addBytes(path, 0, length)
    }

    /// A change's fields the fold's summary reads: path (from `from`: the run's directory
    /// before it), mode, digest, size, first sighting; `kind`: its change and class too.
    mutating func addForFold(_ c: FileChange, from: Int, kind: Bool = false) {
        count += 1
        addBytes(c.path, from, c.path.count)
        if kind {
            hasher.combine(c.change)
            hasher.combine(c.fileClass)
        }
        addNew(c.new)
        hasher.combine(c.firstSeen.timeIntervalSinceReferenceDate.bitPattern)
    }

    /// A change's fields the fingerprint's line reads: change, path, digest, mode, unstable.
    /// `from`: the length of the previous change's directory when this one shares it, else 0
    /// (the stream then says which bytes are the previous path's).
    mutating func addForFingerprint(_ c: FileChange, from: Int) {
        count += 1
        hasher.combine(from)
        addBytes(c.path, from, c.path.count)
        hasher.combine(c.change)
        hasher.combine(c.unstable)
        addNew(c.new)
    }

    /// `bytes[start..<end]`, after its length.
    private mutating func addBytes(_ bytes: [UInt8], _ start: Int, _ end: Int) {
        hasher.combine(end - start)
        bytes.withUnsafeBytes { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    private mutating func addNew(_ new: EntryState?) {
        guard let n = new else {
            hasher.combine(UInt8(0))
            return
        }
        // Mode (never 0 when present) and size, one word each.
        hasher.combine(UInt64(n.gitMode?.rawValue ?? 0) | 1 << 32)
        hasher.combine(n.size)
        if let d = n.digest {
            let (a, b, c, e) = d.words
            hasher.combine(a)
            hasher.combine(b)
            hasher.combine(c)
            hasher.combine(e)
        } else {
            hasher.combine(UInt8(0))
        }
    }

    /// The check of everything fed.
    func finish() -> MemberCheck {
        let h = hasher
        return MemberCheck(count: count, hash: h.finalize())
    }
}
