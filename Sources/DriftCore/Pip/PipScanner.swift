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
    /// RECORD caps (lowered by tests).
    var recordLimits = RecordLimits.standard
    /// Most files one `modified` or `unowned` change lists; the rest are counted in
    /// `filesLeftOut`, so one report stays bounded (lowered by tests).
    var filesListed = 1_000

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
        var pass = PipPass()
        for base in baseline.sitePackages {
            let inv: SitePackagesInventory
            do {
                let baked = Set(base.distributions.map(\.metadataDir))
                let (i, iss) = try PipInventory.read(base.path, limits: recordLimits, first: baked)
                inv = i
                pass.issues += iss
            } catch let e as DriftError {
                pass.issues.append(WalkIssue(path: base.path, message: e.message))
                continue
            }
            pass.current.append(inv)
            compareSite(base, inv, &pass)
        }
        // Verify RECORD hashes: stat everything, reuse cached digests, hash the rest.
        pass.checks.sort { bytesLess($0.path, $1.path) }
        var modified: [Int: [String]] = pass.forgedPycs.merging(pass.recordDrift, uniquingKeysWith: +)
        var (newCache, hashed) = verifyRecords(&pass, modified: &modified)
        newCache.entries += pass.pycRecords
        newCache.entries.sort { bytesLess($0.path, $1.path) }
        var changes = pass.changes
        for (owner, files) in modified.sorted(by: { $0.key < $1.key }) {
            let (sp, d) = pass.owners[owner]
            var c = PipChange(name: d.name, change: .modified, from: d.version, to: d.version, sitePackages: sp,
                              files: files.sorted(), allowed: allow.contains(d.name), url: d.url)
            c.listFirst(filesListed)
            changes.append(c)
        }
        changes.sort {
            ($0.sitePackages, $0.name ?? "", $0.change.rawValue) < ($1.sitePackages, $1.name ?? "", $1.change.rawValue)
        }
        return Result(changes: changes, issues: pass.issues, newCache: newCache, current: pass.current,
                      checked: pass.checks.count, hashed: hashed)
    }

    /// What a same-version distribution's RECORD changed since the bake, relative to
    /// site-packages: the RECORD itself when its bytes (or, for a baseline without its hash,
    /// its entries) differ, then every entry it lists that the baked one does not (or lists
    /// with another hash or size), marked; empty when unchanged.
    static func recordChanges(baked b: InstalledDistribution, now d: InstalledDistribution) -> [String] {
        var bakedEntries: [String: RecordEntry] = [:]
        for f in b.files { bakedEntries[f.path] = f }
        // An entry the baked RECORD lists with another hash or size is not a new one: say which.
        let gained = d.files.filter { bakedEntries[$0.path] != $0 }.map {
            $0.path + (bakedEntries[$0.path] == nil ? " (not in the baked RECORD)" : " (re-hashed in RECORD)")
        }
        let bytesDiffer = b.recordSHA256 != nil && d.recordSHA256 != b.recordSHA256
        let nowPaths = Set(d.files.map(\.path))
        let lost = b.files.contains { !nowPaths.contains($0.path) }
        guard bytesDiffer || !gained.isEmpty || lost else { return [] }
        let list = d.metadataDir.hasSuffix(".dist-info") ? "/RECORD" : "/installed-files.txt"
        return [d.metadataDir + list] + gained
    }

    /// Absolute path of a RECORD entry; nil when it would leave the environment's prefix.
    /// Site-packages and its prefix are bytes (their names may not be UTF-8); RECORD paths are text.
    func resolve(_ recordPath: String, sitePackages: [UInt8], prefix: [UInt8]) -> [UInt8]? {
        let slash = UInt8(ascii: "/")
        // Nearly every entry is a plain relative path inside site-packages.
        if !recordPath.hasPrefix("/") && !recordPath.contains("..")
            && !recordPath.contains("./") && !recordPath.contains("//") {
            return sitePackages + [slash] + Array(recordPath.utf8)
        }
        let entry = Array(recordPath.utf8)
        let joined = recordPath.hasPrefix("/") ? entry : sitePackages + [slash] + entry
        guard let parts = PipInventory.resolveDots(joined) else { return nil }
        let abs = [slash] + Array(parts.joined(separator: [slash]))
        return abs == prefix || abs.starts(with: prefix + [slash]) ? abs : nil
    }
}
