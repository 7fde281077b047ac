import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One `Scanner.compare` in progress: the drift found so far, the files still to read, and
/// where each walk entry's new cache record comes from.
struct Comparison {
    let now: Date
    var changes: [FileChange] = []
    var issues: [WalkIssue]
    /// Manifest entries the walk found (or could not read); the others are deleted.
    var seen: [Bool]
    /// Where each walk entry's new cache record comes from, built in walk (= path) order at
    /// the end: >= 0 an old record (a hit), <= -2 the read record `-(r + 2)` (`reads` in
    /// `Scanner.readAndCompare`), `readNoRecord` a read that left none, -1 none. Four bytes a
    /// file instead of an optional entry a file.
    var source: [Int32]
    /// A file read whose outcome gives no cache record (failed, unsettled, racily clean).
    static let readNoRecord = Int32.min
    /// Regular files whose content must be read, in walk order.
    var toHash: [Queued] = []
    var reverified = 0
    var filesChecked = 0
    /// The merge join's position in the manifest.
    var mi = 0
    var cursor = StatCache.Cursor()

    init(_ walk: TreeWalk, manifestCount: Int, now: Date) {
        self.now = now
        issues = walk.issues
        seen = [Bool](repeating: false, count: manifestCount)
        source = [Int32](repeating: -1, count: walk.entries.count)
        // Room for the most there can be (a change a walk entry, a deletion a manifest entry):
        // never grown by doubling, which holds the old and the new buffer at once (issue 28:
        // 71 + 143 MB at a million drifted files). Capacity never written is never resident.
        changes.reserveCapacity(walk.entries.count + manifestCount)
        toHash.reserveCapacity(walk.entries.count)
    }

    mutating func add(_ e: ClassifiedEntry, _ kind: ChangeKind, old: EntryState?, new: EntryState?,
                      unstable: Bool = false) {
        changes.append(FileChange(path: e.path, change: kind, fileClass: e.fileClass, secret: e.secret,
                                  old: old, new: new, firstSeen: now, unstable: unstable))
    }

    /// The manifest index of a path. Non-directories arrive in byte order (merge join);
    /// a directory's own entry does not, so it is found by binary search.
    mutating func manifestIndex(_ entries: ManifestTable, _ path: [UInt8], isDirectory: Bool) -> Int? {
        if isDirectory {
            var lo = 0, hi = entries.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if entries.comparePath(mid, path) < 0 { lo = mid + 1 } else { hi = mid }
            }
            return lo < entries.count && entries.comparePath(lo, path) == 0 ? lo : nil
        }
        while mi < entries.count && entries.comparePath(mi, path) < 0 { mi += 1 }
        return mi < entries.count && entries.comparePath(mi, path) == 0 ? mi : nil
    }
}

/// A regular file to read: its walk index and manifest index (-1: none), eight bytes, not
/// the 24 of `(Int, Int?)` (a million queued files on a first scan: issue 28).
struct Queued {
    private var walkIndex: Int32
    private var manifestIndex: Int32

    init(_ wi: Int, _ mi: Int?) {
        walkIndex = Int32(wi)
        manifestIndex = Int32(mi ?? -1)
    }

    var wi: Int { Int(walkIndex) }
    var mi: Int? { manifestIndex < 0 ? nil : Int(manifestIndex) }
}

extension EntryState {
    /// What the manifest recorded for an entry.
    init(_ m: ManifestEntry) {
        self.init(kind: m.kind, executable: m.executable, size: m.size, digest: m.digest, target: m.target)
    }
}

/// The present entries: every walk entry is compared with its manifest entry, from what the
/// walk saw or the stat cache; regular files that must be read are queued in `toHash`.
extension Scanner {
    func comparePresent(_ walk: TreeWalk, _ run: inout Comparison, reader: FileReader,
                        oldCache: StatCache) throws {
        let entries = manifest.entries
        for (wi, e) in walk.entries.enumerated() {
            let st = e.stat
            let mi = run.manifestIndex(entries, e.path, isDirectory: st.kind == .directory)
            if let mi { run.seen[mi] = true }
            switch st.kind {
            case .directory:
                if let mi {
                    run.add(e, .type, old: EntryState(entries[mi]),
                            new: EntryState(kind: .directory, executable: false, size: 0))
                }
            case .special:
                let new = EntryState(kind: .special, executable: false, size: st.size)
                if let mi {
                    run.add(e, .type, old: EntryState(entries[mi]), new: new)
                } else {
                    run.add(e, .added, old: nil, new: new)
                }
            case .symlink:
                try compareSymlink(e, mi, &run, reader: reader)
            case .regular:
                compareRegular(e, wi, mi, &run, oldCache: oldCache)
            }
        }
    }

    private func compareSymlink(_ e: ClassifiedEntry, _ mi: Int?, _ run: inout Comparison,
                                reader: FileReader) throws {
        run.filesChecked += 1
        let target: [UInt8]
        do { target = try reader.readLink(e.path) } catch {
            run.issues.append(WalkIssue(path: e.path, message: readFailureReason(error)))
            return
        }
        let new = EntryState(kind: .symlink, executable: false, size: Int64(target.count),
                             digest: try SHA256Hasher.digest(target), target: target)
        if let mi {
            let m = manifest.entries[mi]
            if m.kind != .symlink {
                run.add(e, .type, old: EntryState(m), new: new)
            } else if m.target != target {
                run.add(e, .modified, old: EntryState(m), new: new)
            }
        } else {
            run.add(e, .added, old: nil, new: new)
        }
    }

    /// A regular file: compared from its stat cache record when that still matches, else queued.
    private func compareRegular(_ e: ClassifiedEntry, _ wi: Int, _ mi: Int?, _ run: inout Comparison,
                                oldCache: StatCache) {
        let st = e.stat
        let entries = manifest.entries
        run.filesChecked += 1
        let hit = run.cursor.digest(oldCache, e.path, st)
        if let mi, entries.kind(mi) == .regular, entries.size(mi) != st.size {
            // Size differs: drift for sure, but the journal and diff need the new hash.
            run.toHash.append(Queued(wi, mi))
        } else if let hit, reverify?.contains(e.path) == true {
            _ = hit
            run.reverified += 1
            run.toHash.append(Queued(wi, mi))
        } else if let hit {
            run.source[wi] = Int32(run.cursor.index)
            compareFile(e, mi, hit.digest, st, unstable: false, &run)
            if mi == nil, st.size > Self.readLimit, run.changes.last?.path == e.path {
                run.changes[run.changes.count - 1].overReadLimit = true
            }
        } else {
            run.toHash.append(Queued(wi, mi))
        }
    }

    func compareFile(_ e: ClassifiedEntry, _ mi: Int?, _ d: Digest, _ st: FileStat, unstable: Bool,
                     _ run: inout Comparison) {
        let new = EntryState(kind: .regular, executable: st.isExecutable, size: st.size, digest: d)
        guard let mi else {
            run.add(e, .added, old: nil, new: new, unstable: unstable)
            return
        }
        // Accessors, not the entry: this runs for every unchanged file.
        let t = manifest.entries
        if t.kind(mi) != .regular {
            run.add(e, .type, old: EntryState(t[mi]), new: new, unstable: unstable)
        } else if t.digest(mi) != d || t.size(mi) != st.size {
            run.add(e, .modified, old: EntryState(t[mi]), new: new, unstable: unstable)
        } else if t.executable(mi) != st.isExecutable {
            run.add(e, .mode, old: EntryState(t[mi]), new: new, unstable: unstable)
        }
    }
}
