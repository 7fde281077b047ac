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
    /// Files read at once: the outcomes (~100 bytes a file) and jobs (~70) of a first scan
    /// of a million files are never held all at once, only this many (issue 28).
    var readChunk = 1 << 14

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
        /// What turns the cache this comparison took over (`compareTakingCache`) into
        /// `newCache`, in path order (a nil entry removes): what a save appends. nil when not
        /// taken over, or when that cache was not loaded from the state dir.
        var cacheDelta: [([UInt8], StatCache.Entry?)]?
    }

    /// Walks the root and compares.
    public func run(now: Date) throws -> Result {
        try compare(TreeWalk.run(root: root, classifier: Classifier(policy: policy)), now: now)
    }

    /// Compares a finished walk of the root with the manifest.
    func compare(_ walk: TreeWalk, now: Date) throws -> Result {
        try compare(walk, now: now, old: cache ?? StatCache(), delta: false)
    }

    /// `compare`, taking `cache` over (nil afterwards): when nothing else holds it, the new
    /// cache is its records edited in place, not a copy of 200,000 slots, and the result says
    /// what changed (`Result.cacheDelta`), so the save compares nothing.
    mutating func compareTakingCache(_ walk: TreeWalk, now: Date) throws -> Result {
        let old = cache ?? StatCache()
        cache = nil
        return try compare(walk, now: now, old: consume old, delta: true)
    }

    private func compare(_ walk: TreeWalk, now: Date, old oldCache: consuming StatCache,
                         delta: Bool) throws -> Result {
        let reader = FileReader(root: root, strategy: strategy)
        let hashedAt = Int64(Date().timeIntervalSince1970 * 1e9)
        var run = Comparison(walk, manifestCount: manifest.entries.count, now: now)
        try comparePresent(walk, &run, reader: reader, oldCache: oldCache)
        // A file the budget defers has no cache record this time (its source stays -1).
        let deferred = applyBudget(walk, &run.toHash)
        let (reads, contents) = readAndCompare(walk, &run, reader: reader, hashedAt: hashedAt)
        let wantDelta = delta && oldCache.origin != nil
        let (newCache, cacheDelta) = Self.newCache(walk, run.source, consume reads, old: consume oldCache,
                                                   delta: wantDelta)
        addDeletions(walk, &run)
        run.changes.sort { PathBytes.less($0.path, $1.path) }
        run.issues.sort { PathBytes.less($0.path, $1.path) }
        // Few contents, many changes (sorted): each content looked up, no set of every drifted path.
        let changes = run.changes
        let kept = contents.filter { key, _ in
            let k = lowerBound(changes.count) { PathBytes.less(changes[$0].path, key) }
            return k < changes.count && changes[k].path == key
        }
        return Result(changes: run.changes, issues: run.issues, newCache: newCache,
                      filesChecked: run.filesChecked, filesHashed: run.toHash.count, filesReverified: run.reverified,
                      contents: kept, deferred: deferred, cacheDelta: cacheDelta)
    }

    /// What to read of each queued file: its bytes when they would be journaled, nothing when
    /// it still matches the manifest, a summary when it is too big for its content to matter.
    private func readJobs(_ walk: TreeWalk, _ toHash: ArraySlice<Queued>) -> [ReadJob] {
        let entries = manifest.entries
        return toHash.map { q -> ReadJob in
            let e = walk.entries[q.wi]
            let mi = q.mi
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
    }

    /// Reads the queued files a chunk at a time and compares each; returns the cache record of
    /// every stable read, in walk order (`run.source` names them), and the bytes kept of them.
    private func readAndCompare(_ walk: TreeWalk, _ run: inout Comparison, reader: FileReader,
                                hashedAt: Int64) -> (StatCache.Records, [[UInt8]: [UInt8]]) {
        var reads = StatCache.Records()
        // Reserved exactly, once: never grown by doubling (the old and new buffer at once).
        reads.reserve(run.toHash.count, pathBytes: run.toHash.reduce(0) { $0 + walk.entries[$1.wi].path.count })
        var contents: [[UInt8]: [UInt8]] = [:]
        var start = 0
        while start < run.toHash.count {
            let end = min(run.toHash.count, start + readChunk)
            var jobs = readJobs(walk, run.toHash[start..<end])
            let outcomes = readAll(&jobs, reader)
            compareRead(walk, outcomes, from: start, &run, reads: &reads, contents: &contents, hashedAt: hashedAt)
            start = end
        }
        return (reads, contents)
    }

    /// Keeps the queued files within `hashBudget` (all without one) and returns the jobs of
    /// those left unread.
    private func applyBudget(_ walk: TreeWalk, _ toHash: inout [Queued]) -> [ReadJob] {
        guard let budget = hashBudget else { return [] }
        let jobs = readJobs(walk, toHash[...])
        let costs = jobs.indices.map { hashCost(jobs[$0], walk.entries[toHash[$0].wi].stat) }
        let kept = Self.withinBudget(costs, budget)
        let deferred = jobs.indices.filter { !kept.contains($0) }.map { jobs[$0] }
        let queued = toHash
        toHash = queued.indices.filter { kept.contains($0) }.map { queued[$0] }
        return deferred
    }

    /// Compares the files just read (queued files `from` on), notes the cache record of each
    /// (`run.source`: appended to `reads`, or `Comparison.readNoRecord`) and keeps their bytes.
    private func compareRead(_ walk: TreeWalk, _ outcomes: [ReadOutcome], from: Int, _ run: inout Comparison,
                             reads: inout StatCache.Records, contents: inout [[UInt8]: [UInt8]],
                             hashedAt: Int64) {
        for (k, outcome) in outcomes.enumerated() {
            let q = run.toHash[from + k]
            let wi = q.wi, mi = q.mi
            let e = walk.entries[wi]
            run.source[wi] = Comparison.readNoRecord
            switch outcome {
            case .failed(let msg):
                run.issues.append(WalkIssue(path: e.path, message: msg))
                if let mi { run.seen[mi] = true }
            case .read(let c):
                if let b = c.bytes { contents[e.path] = b }
                var e2 = e
                e2.stat = c.stat
                compareFile(e2, mi, c.digest, c.stat, unstable: !c.stable, &run)
                if c.summarized, run.changes.last?.path == e.path {
                    run.changes[run.changes.count - 1].overReadLimit = true
                }
                if c.stable, let entry = StatCache.entry(c.stat, c.digest, hashedAtNs: hashedAt) {
                    run.source[wi] = Int32(-(reads.count + 2))
                    reads.append(e.path, entry)
                }
            }
        }
    }

    /// The new stat cache, in walk order: each entry's old record or the read that hashed it
    /// (`reads`); with `delta`, also what turns the old records into it (else nil).
    private static func newCache(_ walk: TreeWalk, _ source: [Int32], _ reads: consuming StatCache.Records,
                                 old oldCache: consuming StatCache,
                                 delta: Bool) -> (StatCache, [([UInt8], StatCache.Entry?)]?) {
        var newCache = StatCache()
        if everyRecordHit(source, oldCount: oldCache.entries.count) {
            // Nothing read, every old record found again: the new cache holds the old records,
            // shared (not where they were loaded from: a save decides that from the old cache).
            newCache.entries = oldCache.entries
            return (newCache, delta ? [] : nil)
        }
        if let plan = patchPlan(walk, source, reads, old: oldCache) {
            // The delta first, from the old records; then they become the new cache, edited in
            // place when this was their last holder (a copy-on-write of the slots otherwise).
            let changed = delta ? plan.delta(oldCache.entries) : nil
            newCache = consume oldCache
            newCache.origin = nil
            newCache.entries.patch(replace: plan.replace, insert: plan.insert)
            return (newCache, changed)
        }
        if oldCache.entries.isEmpty {
            // Every record is a read, in walk order: the reads are the new cache, not copied
            // (a first scan holds one set of a million records, not two).
            newCache.entries = consume reads
            return (newCache, delta ? StatCache.delta(from: oldCache.entries, to: newCache.entries) : nil)
        }
        // Path bytes in proportion to the walk: a watch batch over a few paths of a big cache
        // must not reserve the whole cache's.
        let old = oldCache.entries
        let perPath = old.isEmpty ? 64 : old.paths.count / old.count + 1
        newCache.entries.reserve(walk.entries.count, pathBytes: walk.entries.count * perPath)
        for s in source where s != -1 && s != Comparison.readNoRecord {
            if s >= 0 {
                newCache.entries.append(from: oldCache.entries, Int(s))
            } else {
                newCache.entries.append(from: reads, Int(-(s + 2)))
            }
        }
        return (newCache, delta ? StatCache.delta(from: oldCache.entries, to: newCache.entries) : nil)
    }

    /// The edits `Records.patch` makes of the old records into the new ones.
    struct PatchPlan {
        var replace: [(Int, StatCache.Entry?)] = []
        var insert: [(at: Int, path: [UInt8], entry: StatCache.Entry)] = []

        /// The same change as `StatCache.delta(from: old, to: patched old)`, in path order, from
        /// the edits alone (an insertion at `at` sorts before old record `at`).
        func delta(_ old: StatCache.Records) -> [([UInt8], StatCache.Entry?)] {
            var out: [([UInt8], StatCache.Entry?)] = []
            out.reserveCapacity(replace.count + insert.count)
            var k = 0
            for (i, e) in replace {
                while k < insert.count && insert[k].at <= i {
                    out.append((insert[k].path, insert[k].entry))
                    k += 1
                }
                out.append((old.path(i), e))
            }
            for n in k..<insert.count { out.append((insert[n].path, insert[n].entry)) }
            return out
        }
    }

    /// The same cache as the copy below, as the old records edited in place (`Records.patch`):
    /// the slots of records dropped, re-read or added, the path bytes shared with the old cache,
    /// so ten edited files do not copy 200,000 paths (and the save compares spans, not paths).
    /// nil, for the copy, when the walk's regular files do not come in the old cache's order,
    /// or when more than an eighth of the records change (a `drift watch` batch walks a few
    /// paths of a big cache: its new cache must not keep the whole cache's path bytes).
    private static func patchPlan(_ walk: TreeWalk, _ source: [Int32], _ reads: StatCache.Records,
                                  old oldCache: StatCache) -> PatchPlan? {
        let old = oldCache.entries
        let bound = max(64, old.count / 8)
        var replace: [(Int, StatCache.Entry?)] = []
        var insert: [(at: Int, path: [UInt8], entry: StatCache.Entry)] = []
        var next = 0
        // Whether dropping the records up to `end` keeps the plan within its bound: checked before
        // the drop, not after (a watch batch's walk of one path past 1,000,000 cached ones built
        // a million-slot list only to return nil: 170 MB and 0.1 s a batch, issue 28).
        func fits(upTo end: Int) -> Bool { replace.count + insert.count + max(0, end - next) <= bound }
        func drop(upTo end: Int) {
            while next < end {
                replace.append((next, nil))
                next += 1
            }
        }
        for (wi, s) in source.enumerated() where s != -1 {
            if s >= 0 {
                guard Int(s) >= next, fits(upTo: Int(s)) else { return nil }
                drop(upTo: Int(s))
                next += 1
                if replace.count > bound { return nil }
                continue
            }
            let entry = s == Comparison.readNoRecord ? nil : reads.entry(Int(-(s + 2)))
            let path = walk.entries[wi].path
            // Out of order (a path at or before one already passed): the copy sorts nothing either.
            if next > 0 && old.comparePath(next - 1, path) >= 0 { return nil }
            if let last = insert.last, !bytesLess(last.path, path) { return nil }
            let at = old.lowerBound(path, from: next)
            guard fits(upTo: at) else { return nil }
            drop(upTo: at)
            if at < old.count && old.comparePath(at, path) == 0 {
                // A re-verification read that found the file as cached changes nothing: an
                // unchanged scan's new cache stays the old one, shared.
                if entry != old.entry(at) { replace.append((at, entry)) }
                next += 1
            } else if let entry {
                insert.append((at, path, entry))
            }
            if replace.count + insert.count > bound { return nil }
        }
        guard fits(upTo: old.count) else { return nil }
        drop(upTo: old.count)
        if replace.count + insert.count > bound { return nil }
        return PatchPlan(replace: replace, insert: insert)
    }

    /// Manifest entries not found are deleted, unless their directory could not be read.
    private func addDeletions(_ walk: TreeWalk, _ run: inout Comparison) {
        let classifier = Classifier(policy: policy)
        let entries = manifest.entries
        for i in 0..<entries.count where !run.seen[i] {
            let m = entries[i]
            if walk.unreadableDirectories.contains(where: { PathBytes.isWithin(m.path, $0) }) { continue }
            run.changes.append(FileChange(path: m.path, change: .deleted,
                                          fileClass: classifier.classify(m.path), secret: classifier.isSecret(m.path),
                                          old: EntryState(m), new: nil, firstSeen: run.now))
        }
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
}
