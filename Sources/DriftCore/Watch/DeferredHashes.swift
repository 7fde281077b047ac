import DriftGit
import DriftSystem
import Dispatch
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Files a watch batch left unread (over its hash budget), hashed one at a time on a thread of
/// their own while batches go on: a big file never holds back the small ones behind it.
///
/// A finished hash becomes a stat-cache record (`ready`), and its path is rescanned by a later
/// batch, which then finds it cached. Any event on the path after its hash was started makes
/// that hash stale: it is dropped, and the event's own batch defers the path again. A queued
/// hash that went stale before it started is skipped (`current`): one full hash per `touch`
/// of a big baked file would otherwise pile up on the queue, all but the last thrown away,
/// hours of hashing behind which every other big file waits (incident 13, F6).
final class DeferredHashes {
    /// Wakes the watcher's `poll` when a hash is done.
    let wake: WakePipe
    private let queue = DispatchQueue(label: "drift.watch.deferred-hashes")
    private let reader: FileReader
    private let done = Mailbox()
    /// Paths being hashed (or waiting to be), with the generation their current hash has;
    /// -1: an event made the hash under way stale.
    private var running: [[UInt8]: Int] = [:]
    private var generation = 0
    /// Finished, still valid hashes, as the stat-cache records the next batch uses.
    private(set) var ready: [[UInt8]: StatCache.Entry] = [:]
    /// `running`'s valid generations, read by the hashing thread before it starts a job.
    private let current = Current()
    /// Hashes the thread actually started (tests: stale jobs are skipped, not run).
    var hashesStarted: Int { current.started }

    init(root: [UInt8]) throws {
        wake = try WakePipe()
        reader = FileReader(root: root)
    }

    /// Paths whose verdict waits for a hash here (running or queued; stale ones are not counted).
    var examining: Int { running.values.filter { $0 >= 0 }.count }

    /// Queues the jobs not already under way with a valid hash.
    func submit(_ jobs: [ReadJob]) {
        for j in jobs {
            if let g = running[j.path], g >= 0 { continue }
            ready[j.path] = nil
            generation += 1
            let g = generation
            running[j.path] = g
            current.set(j.path, g)
            var one = j
            one.reader = 0
            let job = one
            let reader = self.reader, done = self.done, wake = self.wake, current = self.current
            queue.async {
                // Stale already (an event since it was queued): nil, as `takeFinished` drops it.
                let outcome = current.begin(job.path, g)
                    ? ParallelHasher.read([job], readers: [reader], workers: 1).first : nil
                done.post(Mailbox.Item(path: job.path, generation: g, outcome: outcome))
                wake.wake()
            }
        }
    }

    /// Something happened to `path` (or below it, for a directory): a hash under way is stale,
    /// a finished one no longer describes the file.
    func invalidate(_ path: [UInt8], tree: Bool = false) {
        for p in running.keys where p == path || tree && PathBytes.isWithin(p, path) {
            running[p] = -1
            current.set(p, nil)
        }
        for p in ready.keys where p == path || tree && PathBytes.isWithin(p, path) { ready[p] = nil }
    }

    /// The paths whose hash finished validly since the last call (their records are in `ready`).
    /// A file that failed to read or changed while read is returned too, without a record: its
    /// rescan reads it again within the budget's rules.
    func takeFinished() -> [[UInt8]] {
        wake.drain()
        var out: [[UInt8]] = []
        for item in done.take() {
            guard running[item.path] == item.generation else {
                if running[item.path] == -1 { running[item.path] = nil }
                continue
            }
            running[item.path] = nil
            current.set(item.path, nil)
            if case .read(let c)? = item.outcome, c.stable {
                ready[item.path] = StatCache.Entry(size: c.stat.size, mtimeNs: c.stat.mtimeNs, ctimeNs: c.stat.ctimeNs,
                                                   inode: c.stat.inode, device: c.stat.device, digest: c.digest)
            }
            out.append(item.path)
        }
        return out
    }

    /// `cache` with the finished hashes in it (sorted by path, as the scanner looks them up).
    func merged(into cache: StatCache) -> StatCache {
        if ready.isEmpty { return cache }
        var c = cache
        for (path, entry) in ready {
            let i = c.entries.lowerBound(path)
            if i < c.entries.count && c.entries.comparePath(i, path) == 0 {
                c.entries[i].entry = entry
            } else {
                c.entries.insert(StatCache.Record(path: path, entry: entry), at: i)
            }
        }
        return c
    }

    /// A batch used these records: they are in its result's cache now.
    func consumed(_ scope: ScanScope) {
        for p in ready.keys where scope.contains(p) { ready[p] = nil }
    }

    /// A full scan read everything itself: nothing here is needed any more.
    func reset() {
        for p in running.keys { running[p] = -1 }
        current.clear()
        ready.removeAll()
    }

    /// The generation each path's valid hash has, shared with the hashing thread.
    private final class Current: Sendable {
        private let state = Mutex<(wanted: [[UInt8]: Int], started: Int)>(([:], 0))

        func set(_ path: [UInt8], _ generation: Int?) {
            state.withLock { $0.wanted[path] = generation }
        }

        func clear() {
            state.withLock { $0.wanted.removeAll() }
        }

        /// Whether generation `g` of `path` is still wanted; counts it as started when it is.
        func begin(_ path: [UInt8], _ g: Int) -> Bool {
            state.withLock { s in
                guard s.wanted[path] == g else { return false }
                s.started += 1
                return true
            }
        }

        var started: Int { state.withLock { $0.started } }
    }

    /// Finished hashes handed from the hashing thread to the watcher's.
    private final class Mailbox: Sendable {
        struct Item: Sendable {
            var path: [UInt8]
            var generation: Int
            var outcome: ReadOutcome?
        }

        private let items = Mutex<[Item]>([])

        func post(_ item: Item) {
            items.withLock { $0.append(item) }
        }

        func take() -> [Item] {
            items.withLock { all in
                defer { all.removeAll() }
                return all
            }
        }
    }
}

extension Scanner.Result {
    /// The changes at `paths` (none when there are none: the whole list is not gone through).
    func changes(at paths: [[UInt8]]) -> [FileChange] {
        if paths.isEmpty { return [] }
        let want = Set(paths)
        return changes.filter { want.contains($0.path) }
    }

    /// Puts back what `previous` (the last result's changes) said about `paths` (files a
    /// budgeted rescan left unread keep their last verdict, and their first sighting, until
    /// their hash is done).
    mutating func keepVerdicts(of paths: [[UInt8]], from previous: [FileChange]) {
        if paths.isEmpty { return }
        let want = Set(paths)
        let old = previous.filter { want.contains($0.path) }
        if old.isEmpty { return }
        changes = (changes.filter { !want.contains($0.path) } + old).sorted { PathBytes.less($0.path, $1.path) }
    }
}
