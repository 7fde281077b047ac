import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Compares each baked site-packages with what is installed now: installs, removals,
/// upgrades and downgrades (PEP 440), editable installs, files whose RECORD hash no
/// longer matches, and files no RECORD owns.
public struct PipScanner {
    public var baseline: PipBaseline
    var allow: Set<String>
    /// Stat cache of site-packages files (absolute paths), so unchanged files are not reread.
    public var cache: StatCache?
    /// Counters for a progress line; nil for none.
    public var progress: ProgressCounters?
    /// Cached records (RECORD files and pyc verdicts) re-checked anyway, so a forged
    /// `pipcache` record is found in time (`ReverifySlice`).
    var reverify: ReverifySlice?

    public init(baseline: PipBaseline, allow: [String], cache: StatCache?) {
        self.baseline = baseline
        self.allow = Set(allow.map(normalizedDistributionName))
        self.cache = cache
    }

    public struct Result {
        public var changes: [PipChange]
        var issues: [WalkIssue]
        var newCache: StatCache
        /// What is installed now, per site-packages (for tests and `drift status`).
        var current: [SitePackagesInventory]
        /// RECORD entries verified, and how many of them had to be read.
        var checked: Int
        public var hashed: Int
    }

    /// Compares every baselined site-packages directory with the pip baseline: distributions
    /// added, removed or changed in version, and RECORD-listed files whose bytes changed.
    /// - Returns: the changes, unreadable entries, and the new stat cache for next time.
    /// - Throws: `DriftError` when a site-packages directory cannot be opened at all.
    public func run() throws -> Result {
        var changes: [PipChange] = []
        var issues: [WalkIssue] = []
        var current: [SitePackagesInventory] = []
        // Files to verify: (absolute path, expected SHA-256, expected size, owner index in `owners`).
        var checks: [(path: [UInt8], sha: Digest, size: Int64?, owner: Int, prefix: Int)] = []
        // RECORD files are opened beneath their environment's prefix, never through a symlink.
        var prefixes: [String] = []
        var owners: [(sp: String, dist: InstalledDistribution)] = []
        // Forged site-packages bytecode per owner, and the verdicts to cache.
        var forgedPycs: [Int: [String]] = [:]
        // RECORDs rewritten since the bake, and the entries they gained, per owner.
        var recordDrift: [Int: [String]] = [:]
        var pycRecords: [StatCache.Record] = []
        for base in baseline.sitePackages {
            let inv: SitePackagesInventory
            do {
                let (i, iss) = try PipInventory.read(base.path)
                inv = i
                issues += iss
            } catch let e as DriftError {
                issues.append(WalkIssue(path: Array(base.path.utf8), message: e.message))
                continue
            }
            current.append(inv)
            let before = Dictionary(base.distributions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let now = Dictionary(inv.distributions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            func add(
                _ name: String?,
                _ change: PipChangeKind,
                _ from: String?,
                _ to: String?,
                _ files: [String] = [],
                url: String? = nil
            ) {
                changes.append(PipChange(name: name, change: change, from: from, to: to,
                                         sitePackages: base.path, files: files,
                                         allowed: name.map { allow.contains($0) } ?? false, url: url))
            }
            for (name, d) in now {
                guard let b = before[name] else {
                    add(name, d.editable ? .editable : .added, nil, d.version, url: d.url)
                    continue
                }
                if d.editable && !b.editable {
                    add(name, .editable, b.version, d.version, url: d.url)
                } else if let vb = PEP440Version(b.version), let vd = PEP440Version(d.version), vb != vd {
                    add(name, vd > vb ? .upgraded : .downgraded, b.version, d.version, url: d.url)
                } else if b.version != d.version {
                    add(name, .upgraded, b.version, d.version, url: d.url)
                }
            }
            for (name, b) in before where now[name] == nil { add(name, .removed, b.version, nil) }
            var ownerOf: [String: Int] = [:]
            for (k, d) in inv.distributions.enumerated() {
                for f in d.files { if let n = PipInventory.normalize(f.path) { ownerOf[n] = owners.count + k } }
            }
            var pycCheck = SitePycCheck(cache: cache ?? StatCache())
            pycCheck.reverify = reverify
            let pycs = pycCheck.run(inv)
            issues += pycs.issues
            pycRecords += pycs.fresh
            var strayPycs: [String] = []
            for f in pycs.forged {
                if let o = ownerOf[f.pyc] ?? ownerOf[f.source] {
                    forgedPycs[o, default: []].append(PathBytes.display(text: inv.path + "/" + f.pyc) + " (bytecode)")
                } else {
                    strayPycs.append(f.pyc)
                }
            }
            let oldUnowned = Set(base.unowned)
            let newUnowned = inv.unowned.filter { !oldUnowned.contains($0) } + strayPycs
            if !newUnowned.isEmpty { add(nil, .unowned, nil, nil, newUnowned.sorted()) }
            for d in inv.distributions {
                owners.append((base.path, d))
                // The baseline is the truth: a distribution still at its baked version is checked
                // against the hashes baked at image build, never against the RECORD installed now
                // (which anyone who can write the file can rewrite). A changed RECORD is drift of
                // its own, naming the entries it gained.
                var expected = d.files
                if let b = before[d.name], b.version == d.version, b.editable == d.editable {
                    expected = b.files
                    let changed = Self.recordChanges(baked: b, now: d)
                    if !changed.isEmpty {
                        recordDrift[owners.count - 1, default: []] += changed.map {
                            PathBytes.display(text: inv.path + "/" + $0)
                        }
                    }
                }
                for f in expected {
                    guard let sha = f.sha256 else { continue }
                    guard let abs = resolve(f.path, sitePackages: inv.path, prefix: inv.prefix) else {
                        let why = "RECORD path \(PathBytes.display(text: f.path)) escapes the environment prefix "
                            + "\(inv.prefix); not verified"
                        issues.append(WalkIssue(path: Array((inv.path + "/" + d.metadataDir + "/RECORD").utf8),
                                                message: why))
                        continue
                    }
                    if prefixes.last != inv.prefix { prefixes.append(inv.prefix) }
                    checks.append((Array(abs.utf8), sha, f.size, owners.count - 1, prefixes.count - 1))
                }
            }
        }
        // Verify RECORD hashes: stat everything, reuse cached digests, hash the rest.
        checks.sort { bytesLess($0.path, $1.path) }
        var modified: [Int: [String]] = forgedPycs.merging(recordDrift, uniquingKeysWith: +)
        var cursor = StatCache.Cursor()
        let old = cache ?? StatCache()
        var newCache = StatCache()
        var toHash: [Int] = []
        var stats: [FileStat?] = []
        let hashedAt = Int64(Date().timeIntervalSince1970 * 1e9)
        for (k, c) in checks.enumerated() {
            switch lstatBytes(c.path) {
            case .failure:
                stats.append(nil)
                modified[c.owner, default: []].append(PathBytes.display(c.path) + " (missing)")
            case .success(let st):
                stats.append(st)
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
        let readers = prefixes.map { FileReader(root: Array($0.utf8)) }
        let jobs = toHash.map { k -> ReadJob in
            let c = checks[k]
            let skip = prefixes[c.prefix] == "/" ? 1 : prefixes[c.prefix].utf8.count + 1
            return ReadJob(path: Array(c.path.dropFirst(skip)), reader: c.prefix)
        }
        let outcomes: [HashOutcome] = ParallelHasher.read(jobs, readers: readers, progress: progress).map { r in
            switch r {
            case .read(let c): return .hashed(c.digest, c.stat, stable: c.stable)
            case .failed(let m): return .failed(m)
            }
        }
        var fresh: [(Int, StatCache.Entry)] = []
        for (n, k) in toHash.enumerated() {
            let c = checks[k]
            switch outcomes[n] {
            case .failed(let m): issues.append(WalkIssue(path: c.path, message: m))
            case .hashed(let d, let st, let stable):
                if d != c.sha { modified[c.owner, default: []].append(PathBytes.display(c.path)) }
                if stable, let e = StatCache.entry(st, d, hashedAtNs: hashedAt) { fresh.append((k, e)) }
            }
        }
        for (k, e) in fresh where newCache.entries.last?.path != checks[k].path {
            newCache.entries.append(StatCache.Record(path: checks[k].path, entry: e))
        }
        newCache.entries += pycRecords
        newCache.entries.sort { bytesLess($0.path, $1.path) }
        for (owner, files) in modified.sorted(by: { $0.key < $1.key }) {
            let (sp, d) = owners[owner]
            changes.append(PipChange(name: d.name, change: .modified, from: d.version, to: d.version, sitePackages: sp,
                                     files: files.sorted(), allowed: allow.contains(d.name), url: d.url))
        }
        changes.sort {
            ($0.sitePackages, $0.name ?? "", $0.change.rawValue) < ($1.sitePackages, $1.name ?? "", $1.change.rawValue)
        }
        return Result(changes: changes, issues: issues, newCache: newCache, current: current,
                      checked: checks.count, hashed: toHash.count)
    }

    /// What a same-version distribution's RECORD changed since the bake, relative to
    /// site-packages: the RECORD itself when its bytes (or, for a baseline without its hash,
    /// its entries) differ, then every entry it lists that the baked one does not (or lists
    /// with another hash or size), marked; empty when unchanged.
    static func recordChanges(baked b: InstalledDistribution, now d: InstalledDistribution) -> [String] {
        var bakedEntries: [String: RecordEntry] = [:]
        for f in b.files { bakedEntries[f.path] = f }
        let gained = d.files.filter { bakedEntries[$0.path] != $0 }.map { $0.path + " (not in the baked RECORD)" }
        let bytesDiffer = b.recordSHA256 != nil && d.recordSHA256 != b.recordSHA256
        let nowPaths = Set(d.files.map(\.path))
        let lost = b.files.contains { !nowPaths.contains($0.path) }
        guard bytesDiffer || !gained.isEmpty || lost else { return [] }
        let list = d.metadataDir.hasSuffix(".dist-info") ? "/RECORD" : "/installed-files.txt"
        return [d.metadataDir + list] + gained
    }

    /// Absolute path of a RECORD entry; nil when it would leave the environment's prefix.
    func resolve(_ recordPath: String, sitePackages: String, prefix: String) -> String? {
        // Nearly every entry is a plain relative path inside site-packages.
        if !recordPath.hasPrefix("/") && !recordPath.contains("..")
            && !recordPath.contains("./") && !recordPath.contains("//") {
            return sitePackages + "/" + recordPath
        }
        let joined = recordPath.hasPrefix("/") ? recordPath : sitePackages + "/" + recordPath
        guard let parts = PipInventory.resolveDots(joined) else { return nil }
        let abs = "/" + parts.joined(separator: "/")
        return abs == prefix || abs.hasPrefix(prefix + "/") ? abs : nil
    }
}
