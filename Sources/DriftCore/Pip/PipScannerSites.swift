import DriftSystem

/// One `PipScanner.run` in progress: what it found so far, and the RECORD entries still to verify.
struct PipPass {
    /// A RECORD entry to verify: absolute path, expected SHA-256 and size, owner (index in
    /// `owners`), environment prefix (index in `prefixes`).
    typealias Check = (path: [UInt8], sha: Digest, size: Int64?, owner: Int, prefix: Int)

    var changes: [PipChange] = []
    var issues: [WalkIssue] = []
    var current: [SitePackagesInventory] = []
    var checks: [Check] = []
    /// RECORD files are opened beneath their environment's prefix, never through a symlink.
    var prefixes: [[UInt8]] = []
    /// Each distribution with its site-packages as the report shows it (`PathBytes.display`).
    var owners: [(sp: String, dist: InstalledDistribution)] = []
    /// Forged site-packages bytecode per owner.
    var forgedPycs: [Int: [String]] = [:]
    /// RECORDs rewritten since the bake, and the entries they gained, per owner.
    var recordDrift: [Int: [String]] = [:]
    /// The bytecode verdicts to cache.
    var pycRecords: [StatCache.Record] = []
}

/// The inventory of one site-packages against its baseline: distributions, bytecode,
/// unowned files, and the RECORD entries to verify.
extension PipScanner {
    func compareSite(_ base: SitePackagesInventory, _ inv: SitePackagesInventory, _ pass: inout PipPass) {
        let before = Dictionary(base.distributions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let now = Dictionary(inv.distributions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        // The report's text for site-packages: its own name when UTF-8, else quoted.
        let shown = PathBytes.display(base.path)
        pass.changes += distributionChanges(shown, before: before, now: now)
        var ownerOf: [String: Int] = [:]
        for (k, d) in inv.distributions.enumerated() {
            for f in d.files { if let n = PipInventory.normalize(f.path) { ownerOf[n] = pass.owners.count + k } }
        }
        let strayPycs = checkBytecode(inv, ownerOf: ownerOf, &pass)
        let oldUnowned = Set(base.unowned)
        let newUnowned = inv.unowned.filter { !oldUnowned.contains($0) } + strayPycs
        if !newUnowned.isEmpty {
            var c = change(nil, .unowned, nil, nil, sitePackages: shown, files: newUnowned.sorted())
            c.listFirst(filesListed)
            pass.changes.append(c)
        }
        queueRecordChecks(inv, owner: shown, before: before, &pass)
    }

    /// One change of a site-packages; allowed when the policy's `pip.allow` names it.
    private func change(_ name: String?, _ kind: PipChangeKind, _ from: String?, _ to: String?,
                        sitePackages: String, files: [String] = [], url: String? = nil) -> PipChange {
        PipChange(name: name, change: kind, from: from, to: to, sitePackages: sitePackages, files: files,
                  allowed: name.map { allow.contains($0) } ?? false, url: url)
    }

    /// Distributions installed, made editable, upgraded, downgraded or removed since the bake.
    private func distributionChanges(_ sp: String, before: [String: InstalledDistribution],
                                     now: [String: InstalledDistribution]) -> [PipChange] {
        var changes: [PipChange] = []
        for (name, d) in now {
            guard let b = before[name] else {
                changes.append(change(name, d.editable ? .editable : .added, nil, d.version, sitePackages: sp,
                                      url: d.url))
                continue
            }
            if d.editable && !b.editable {
                changes.append(change(name, .editable, b.version, d.version, sitePackages: sp, url: d.url))
            } else if let vb = PEP440Version(b.version), let vd = PEP440Version(d.version), vb != vd {
                changes.append(change(name, vd > vb ? .upgraded : .downgraded, b.version, d.version,
                                      sitePackages: sp, url: d.url))
            } else if b.version != d.version {
                changes.append(change(name, .upgraded, b.version, d.version, sitePackages: sp, url: d.url))
            }
        }
        for (name, b) in before where now[name] == nil {
            changes.append(change(name, .removed, b.version, nil, sitePackages: sp))
        }
        return changes
    }

    /// Whether an installed version is the baked one: the same text, or equal under PEP 440.
    static func sameVersion(_ baked: String, _ now: String) -> Bool {
        if baked == now { return true }
        guard let b = PEP440Version(baked), let n = PEP440Version(now) else { return false }
        return b == n
    }

    /// Checks the site's bytecode (`SitePycCheck`): forged pycs count against their owner;
    /// returns those no distribution owns.
    private func checkBytecode(_ inv: SitePackagesInventory, ownerOf: [String: Int],
                               _ pass: inout PipPass) -> [String] {
        var pycCheck = SitePycCheck(cache: cache ?? StatCache())
        pycCheck.reverify = reverify
        let pycs = pycCheck.run(inv)
        pass.issues += pycs.issues
        pass.pycRecords += pycs.fresh
        var strayPycs: [String] = []
        for f in pycs.forged {
            if let o = ownerOf[f.pyc] ?? ownerOf[f.source] {
                let shown = PathBytes.display(inv.path.appending(text: "/" + f.pyc))
                pass.forgedPycs[o, default: []].append(shown + " (bytecode)")
            } else {
                strayPycs.append(f.pyc)
            }
        }
        return strayPycs
    }

    /// Queues every hashed entry of the site's distributions for verification, and notes
    /// RECORDs rewritten since the bake.
    private func queueRecordChecks(_ inv: SitePackagesInventory, owner sp: String,
                                   before: [String: InstalledDistribution], _ pass: inout PipPass) {
        for d in inv.distributions {
            pass.owners.append((sp, d))
            // The baseline is the truth: a distribution still at its baked version is checked
            // against the hashes baked at image build, never against the RECORD installed now
            // (which anyone who can write the file can rewrite). A changed RECORD is drift of
            // its own, naming the entries it gained. A version spelled otherwise but equal under
            // PEP 440 (`1.16.0.0`, `v1.16.0`, `1.16`) is the baked version: pip installs the same
            // release for either pin, so the respelling must not turn the baseline off.
            var expected = d.files
            if let b = before[d.name], Self.sameVersion(b.version, d.version), b.editable == d.editable {
                expected = b.files
                let changed = Self.recordChanges(baked: b, now: d)
                if !changed.isEmpty {
                    pass.recordDrift[pass.owners.count - 1, default: []] += changed.map {
                        PathBytes.display(inv.path.appending(text: "/" + $0))
                    }
                }
            }
            for f in expected {
                guard let sha = f.sha256 else { continue }
                guard let abs = resolve(f.path, sitePackages: inv.path, prefix: inv.prefix) else {
                    let why = "RECORD path \(PathBytes.display(text: f.path)) escapes the environment prefix "
                        + "\(PathBytes.display(inv.prefix)); not verified"
                    pass.issues.append(WalkIssue(path: inv.path.appending(text: "/" + d.metadataDir + "/RECORD"),
                                                 message: why))
                    continue
                }
                if pass.prefixes.last != inv.prefix { pass.prefixes.append(inv.prefix) }
                pass.checks.append((abs, sha, f.size, pass.owners.count - 1, pass.prefixes.count - 1))
            }
        }
    }
}
