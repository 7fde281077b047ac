import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The RECORD check: every queued entry is stat'ed, compared from its cached digest when
/// the stat still matches, else hashed.
extension PipScanner {
    /// Verifies `pass.checks` (sorted by path); files that differ are added to `modified`
    /// (per owner), unreadable ones to `pass.issues`.
    /// - Returns: the stat cache records of the entries verified, and how many were read.
    func verifyRecords(_ pass: inout PipPass, modified: inout [Int: [String]]) -> (cache: StatCache, hashed: Int) {
        let checks = pass.checks
        var cursor = StatCache.Cursor()
        let old = cache ?? StatCache()
        var newCache = StatCache()
        var toHash: [Int] = []
        let hashedAt = Int64(Date().timeIntervalSince1970 * 1e9)
        for (k, c) in checks.enumerated() {
            switch lstatBytes(c.path) {
            case .failure:
                modified[c.owner, default: []].append(PathBytes.display(c.path) + " (missing)")
            case .success(let st):
                if st.kind != .regular || (c.size != nil && c.size != st.size) {
                    modified[c.owner, default: []].append(PathBytes.display(c.path))
                } else if let hit = cursor.digest(old, c.path, st), reverify?.contains(c.path) != true {
                    if hit.digest != c.sha { modified[c.owner, default: []].append(PathBytes.display(c.path)) }
                    if newCache.entries.last?.path != c.path {
                        newCache.entries.append(StatCache.Record(path: c.path, entry: hit))
                    }
                } else {
                    toHash.append(k)
                }
            }
        }
        let outcomes = hash(toHash.map { checks[$0] }, prefixes: pass.prefixes)
        var fresh: [(Int, StatCache.Entry)] = []
        for (n, k) in toHash.enumerated() {
            let c = checks[k]
            switch outcomes[n] {
            case .failed(let m): pass.issues.append(WalkIssue(path: c.path, message: m))
            case .hashed(let d, let st, let stable):
                if d != c.sha { modified[c.owner, default: []].append(PathBytes.display(c.path)) }
                if stable, let e = StatCache.entry(st, d, hashedAtNs: hashedAt) { fresh.append((k, e)) }
            }
        }
        for (k, e) in fresh where newCache.entries.last?.path != checks[k].path {
            newCache.entries.append(StatCache.Record(path: checks[k].path, entry: e))
        }
        return (newCache, toHash.count)
    }

    /// Hashes the entries, each opened beneath its environment's prefix.
    private func hash(_ checks: [PipPass.Check], prefixes: [[UInt8]]) -> [HashOutcome] {
        let readers = prefixes.map { FileReader(root: $0) }
        let jobs = checks.map { c -> ReadJob in
            let skip = prefixes[c.prefix] == [UInt8(ascii: "/")] ? 1 : prefixes[c.prefix].count + 1
            return ReadJob(path: Array(c.path.dropFirst(skip)), reader: c.prefix)
        }
        return ParallelHasher.read(jobs, readers: readers, progress: progress).map { r in
            switch r {
            case .read(let c): return .hashed(c.digest, c.stat, stable: c.stable)
            case .failed(let m): return .failed(m)
            }
        }
    }
}
