import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Compares the root with the manifest and returns every drifted path.
public struct Scanner {
    public var manifest: Manifest
    public var policy: Policy
    public var root: [UInt8]
    /// Previous cache; nil (or `full`) rehashes everything.
    public var cache: StatCache?
    var workers: Int = ParallelHasher.defaultWorkers
    /// Counters for a progress line; nil for none.
    public var progress: ProgressCounters?
    /// Which slice of cached files this scan re-hashes anyway (nil: none).
    var reverify: ReverifySlice?
    /// Files read while the walk ran (`ReadAhead`), used instead of reading them again.
    var readAhead: [[UInt8]: FileReader.Content]?
    /// How files below the root are opened (tests run both strategies).
    var strategy: ResolveStrategy = .automatic
    /// Files larger than this that are added or changed size are not read (`overReadLimit`).
    static let readLimit: Int64 = 1 << 30
    /// Nominal bytes this comparison may hash (nil: no bound). Files that would go over it,
    /// largest first, are not read: they come back in `Result.deferred` with no verdict
    /// (`drift watch` hashes them apart, so big files never starve small ones).
    var hashBudget: Int64?

    public init(manifest: Manifest, policy: Policy, root: [UInt8], cache: StatCache?) {
        self.manifest = manifest
        self.policy = policy
        self.root = root
        self.cache = cache
    }

    public struct Result: Sendable {
        /// Sorted by path bytes; `firstSeen` is the scan time (the state layer keeps older ones).
        public var changes: [FileChange]
        var issues: [WalkIssue]
        var newCache: StatCache
        var filesChecked: Int
        var filesHashed: Int
        /// Cache hits re-hashed because they were in this scan's re-verification slice.
        var filesReverified: Int = 0
        /// The bytes of drifted code files from the very read that hashed them (journaled as is).
        var contents: [[UInt8]: [UInt8]] = [:]
        /// Files left unread by `hashBudget`: neither drifted nor clean in this result.
        var deferred: [ReadJob] = []
    }

    /// Walks the root and compares.
    public func run(now: Date) throws -> Result {
        try compare(TreeWalk.run(root: root, classifier: Classifier(policy: policy)), now: now)
    }

    /// Compares a finished walk of the root with the manifest.
    func compare(_ walk: TreeWalk, now: Date) throws -> Result {
        let classifier = Classifier(policy: policy)
        let reader = FileReader(root: root, strategy: strategy)
        let entries = manifest.entries
        var seen = [Bool](repeating: false, count: entries.count)

        var changes: [FileChange] = []
        var issues = walk.issues
        // Where each walk entry's new cache record comes from, built in walk (= path) order at
        // the end: >= 0 an old record (a hit), <= -2 the read `-(k + 2)`, -1 none. Four bytes a
        // file instead of an optional entry a file.
        var source = [Int32](repeating: -1, count: walk.entries.count)
        let hashedAt = Int64(Date().timeIntervalSince1970 * 1e9)
        // Regular files whose content must be read: (walk index, manifest index or nil).
        var toHash: [(Int, Int?)] = []
        var reverified = 0
        var filesChecked = 0
        var mi = 0
        var cursor = StatCache.Cursor()
        let oldCache = cache ?? StatCache()

        func state(_ m: ManifestEntry) -> EntryState {
            EntryState(kind: m.kind, executable: m.executable, size: m.size, digest: m.digest, target: m.target)
        }
        func add(_ e: ClassifiedEntry, _ kind: ChangeKind, old: EntryState?, new: EntryState?, unstable: Bool = false) {
            changes.append(FileChange(path: e.path, change: kind, fileClass: e.fileClass, secret: e.secret,
                                      old: old, new: new, firstSeen: now, unstable: unstable))
        }
        /// The manifest index of a path. Non-directories arrive in byte order (merge join);
        /// a directory's own entry does not, so it is found by binary search.
        func manifestIndex(_ path: [UInt8], isDirectory: Bool) -> Int? {
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

        for (wi, e) in walk.entries.enumerated() {
            let st = e.stat
            let mi = manifestIndex(e.path, isDirectory: st.kind == .directory)
            if let mi { seen[mi] = true }
            switch st.kind {
            case .directory:
                if let mi {
                    add(e, .type, old: state(entries[mi]),
                        new: EntryState(kind: .directory, executable: false, size: 0))
                }
            case .special:
                let new = EntryState(kind: .special, executable: false, size: st.size)
                if let mi {
                    add(e, .type, old: state(entries[mi]), new: new)
                } else {
                    add(e, .added, old: nil, new: new)
                }
            case .symlink:
                filesChecked += 1
                let target: [UInt8]
                do { target = try reader.readLink(e.path) } catch {
                    issues.append(WalkIssue(path: e.path, message: readFailureReason(error)))
                    continue
                }
                let new = EntryState(kind: .symlink, executable: false, size: Int64(target.count),
                                     digest: try SHA256Hasher.digest(target), target: target)
                if let mi {
                    let m = entries[mi]
                    if m.kind != .symlink {
                        add(e, .type, old: state(m), new: new)
                    } else if m.target != target {
                        add(e, .modified, old: state(m), new: new)
                    }
                } else {
                    add(e, .added, old: nil, new: new)
                }
            case .regular:
                filesChecked += 1
                let hit = cursor.digest(oldCache, e.path, st)
                if let mi, entries.kind(mi) == .regular, entries.size(mi) != st.size {
                    // Size differs: drift for sure, but the journal and diff need the new hash.
                    toHash.append((wi, mi))
                } else if let hit, reverify?.contains(e.path) == true {
                    _ = hit
                    reverified += 1
                    toHash.append((wi, mi))
                } else if let hit {
                    source[wi] = Int32(cursor.index)
                    compareFile(e, mi, hit.digest, st, unstable: false, add: add, state: state)
                    if mi == nil, st.size > Self.readLimit, changes.last?.path == e.path {
                        changes[changes.count - 1].overReadLimit = true
                    }
                } else {
                    toHash.append((wi, mi))
                }
            }
        }

        var jobs = toHash.map { (wi, mi) -> ReadJob in
            let e = walk.entries[wi]
            let keep = DriftTreeBuilder.carriesContent(fileClass: e.fileClass, secret: e.secret) ? policy.sizeLimit : -1
            let same = mi.flatMap { entries.kind($0) == .regular ? entries.digest($0) : nil }
            var job = ReadJob(path: e.path, keepUpTo: keep, unlessDigest: same)
            // Content decides nothing for a file that is new or changed size: over the read
            // limit it is summarised (size, mtime, data extents), so a 1 TiB sparse file
            // costs a few lseeks, not an hour of hashing zeros.
            if mi.map({ entries.kind($0) != .regular || entries.size($0) != e.stat.size }) ?? true {
                job.summarizeOver = Self.readLimit
            }
            return job
        }
        var deferred: [ReadJob] = []
        if let budget = hashBudget {
            // `jobs` and `toHash` share their indices.
            let costs = jobs.indices.map { hashCost(jobs[$0], walk.entries[toHash[$0].0].stat) }
            let kept = Self.withinBudget(costs, budget)
            deferred = jobs.indices.filter { !kept.contains($0) }.map { jobs[$0] }
            let keep = jobs.indices.filter { kept.contains($0) }
            toHash = keep.map { toHash[$0] }
            jobs = keep.map { jobs[$0] }
        }
        // After the budget: a deferred file has no cache record this time.
        for (k, (wi, _)) in toHash.enumerated() { source[wi] = Int32(-(k + 2)) }
        let outcomes = readAll(&jobs, reader)
        var contents: [[UInt8]: [UInt8]] = [:]
        for (k, (wi, mi)) in toHash.enumerated() {
            let e = walk.entries[wi]
            switch outcomes[k] {
            case .failed(let msg):
                issues.append(WalkIssue(path: e.path, message: msg))
                if let mi { seen[mi] = true }
            case .read(let c):
                if let b = c.bytes { contents[e.path] = b }
                var e2 = e
                e2.stat = c.stat
                compareFile(e2, mi, c.digest, c.stat, unstable: !c.stable, add: add, state: state)
                if c.summarized, changes.last?.path == e.path { changes[changes.count - 1].overReadLimit = true }
            }
        }
        var newCache = StatCache()
        if Self.everyRecordHit(source, oldCount: oldCache.entries.count) {
            // Nothing read, every old record found again: the new cache holds the old records,
            // shared (not where they were loaded from: a save decides that from the old cache).
            newCache.entries = oldCache.entries
        } else {
            // Path bytes in proportion to the walk: a watch batch over a few paths of a big cache
            // must not reserve the whole cache's.
            let old = oldCache.entries
            let perPath = old.isEmpty ? 64 : old.paths.count / old.count + 1
            newCache.entries.reserve(walk.entries.count, pathBytes: walk.entries.count * perPath)
            for (wi, s) in source.enumerated() where s != -1 {
                if s >= 0 {
                    newCache.entries.append(from: oldCache.entries, Int(s))
                } else if case .read(let c) = outcomes[Int(-(s + 2))], c.stable,
                          let entry = StatCache.entry(c.stat, c.digest, hashedAtNs: hashedAt) {
                    newCache.entries.append(walk.entries[wi].path, entry)
                }
            }
        }

        // Manifest entries not found are deleted, unless their directory could not be read.
        for i in 0..<entries.count where !seen[i] {
            let m = entries[i]
            if walk.unreadableDirectories.contains(where: { PathBytes.isWithin(m.path, $0) }) { continue }
            changes.append(FileChange(path: m.path, change: .deleted,
                                      fileClass: classifier.classify(m.path), secret: classifier.isSecret(m.path),
                                      old: state(m), new: nil, firstSeen: now))
        }
        changes.sort { PathBytes.less($0.path, $1.path) }
        issues.sort { PathBytes.less($0.path, $1.path) }
        let drifted = Set(changes.map(\.path))
        return Result(changes: changes, issues: issues, newCache: newCache,
                      filesChecked: filesChecked, filesHashed: toHash.count, filesReverified: reverified,
                      contents: contents.filter { drifted.contains($0.key) }, deferred: deferred)
    }

    /// What reading a file costs: its size, unless it is only summarised (a few `lseek`s).
    private func hashCost(_ job: ReadJob, _ st: FileStat) -> Int64 {
        job.summarizeOver >= 0 && st.size > job.summarizeOver ? 0 : max(0, st.size)
    }

    /// The jobs (by index) that fit the budget, cheapest first; free ones always do.
    static func withinBudget(_ costs: [Int64], _ budget: Int64) -> Set<Int> {
        var kept = Set<Int>()
        var spent: Int64 = 0
        for k in costs.indices.sorted(by: { costs[$0] < costs[$1] }) {
            guard costs[k] == 0 || spent + costs[k] <= budget else { break }
            spent += costs[k]
            kept.insert(k)
        }
        return kept
    }

    /// Whether the walk's cache sources are exactly the old records 0, 1, 2, … (no read, no gap).
    static func everyRecordHit(_ source: [Int32], oldCount: Int) -> Bool {
        var next: Int32 = 0
        for s in source where s != -1 {
            guard s == next else { return false }
            next += 1
        }
        return Int(next) == oldCount
    }

    /// The outcome of every job: from the read-ahead when it read that file and the job needs
    /// nothing more of it (no bytes to journal), else read now. `jobs` is emptied.
    private func readAll(_ jobs: inout [ReadJob], _ reader: FileReader) -> [ReadOutcome] {
        guard let ahead = readAhead else {
            defer { jobs = [] }
            return ParallelHasher.read(jobs, readers: [reader], workers: workers, progress: progress)
        }
        var outcomes = [ReadOutcome](repeating: .failed(""), count: jobs.count)
        var again: [Int] = []
        for (k, job) in jobs.enumerated() {
            // Kept bytes are for a file that differs from the manifest; a settled read that
            // matches needs none, and an unsettled one keeps none.
            if let c = ahead[job.path],
               job.keepUpTo < 0 || c.stat.size > job.keepUpTo || !c.stable || c.digest == job.unlessDigest,
               job.summarizeOver < 0 || c.stat.size <= job.summarizeOver {
                outcomes[k] = .read(c)
            } else {
                again.append(k)
            }
        }
        let read = ParallelHasher.read(again.map { jobs[$0] }, readers: [reader], workers: workers,
                                       progress: progress)
        jobs = []
        for (j, k) in again.enumerated() { outcomes[k] = read[j] }
        return outcomes
    }

    private func compareFile(_ e: ClassifiedEntry, _ mi: Int?, _ d: Digest, _ st: FileStat, unstable: Bool,
                             add: (ClassifiedEntry, ChangeKind, EntryState?, EntryState?, Bool) -> Void,
                             state: (ManifestEntry) -> EntryState) {
        let new = EntryState(kind: .regular, executable: st.isExecutable, size: st.size, digest: d)
        guard let mi else {
            add(e, .added, nil, new, unstable)
            return
        }
        // Accessors, not the entry: this runs for every unchanged file.
        let t = manifest.entries
        if t.kind(mi) != .regular {
            add(e, .type, state(t[mi]), new, unstable)
        } else if t.digest(mi) != d || t.size(mi) != st.size {
            add(e, .modified, state(t[mi]), new, unstable)
        } else if t.executable(mi) != st.isExecutable {
            add(e, .mode, state(t[mi]), new, unstable)
        }
    }
}
