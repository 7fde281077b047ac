import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `pip-freeze.txt` of an export: every distribution installed in the baseline's
/// site-packages, in `pip freeze`'s forms (`name==version`, `name @ url`, `-e url`), so
/// whoever merges the requirements edit can resolve a pin conflict against the instance's
/// whole environment, not only the pins drift changed.
///
/// It describes the exported snapshot: read from site-packages as they are now when their
/// versions are the snapshot's, else (an export from the journal after the venv changed or
/// the container was recreated) the baked inventory with the snapshot's pip changes applied,
/// said so in its header (incident 11, F10).
enum PipFreeze {
    /// The snapshot the freeze describes: its id, time and pip changes.
    struct Snapshot {
        var id: DriftID
        var time: Date
        var pip: [PipChange]
        /// The policy's `pip.allow` names, normalised: their changes are never in a snapshot.
        var allowed: Set<String> = []
    }

    /// The file's bytes, or nil when the manifest has no pip baseline.
    /// A site-packages directory that cannot be read is named in a `#` line, not fatal:
    /// the export is about the workspace, the freeze is context beside it.
    static func text(_ baseline: PipBaseline?, host: String, snapshot: Snapshot, now: Date) throws -> [UInt8]? {
        guard let baseline, !baseline.sitePackages.isEmpty else {
            return nil
        }
        var body = ""
        var differ: [String] = []
        for sp in baseline.sitePackages {
            body += "# \(PathBytes.display(sp.path))\n"
            let expected = versions(sp, snapshot.pip)
            let inventory: SitePackagesInventory
            let issues: [WalkIssue]
            do { (inventory, issues) = try PipInventory.read(sp.path) } catch let e as DriftError {
                body += "# drift: cannot read it: \(e.message.replacingEvery("\n", with: " "))\n"
                continue
            }
            for i in issues { body += "# drift: \(PathBytes.display(i.path)): \(i.message)\n" }
            body += inventory.distributions.map(line).sorted().joined()
            differ += mismatches(expected, inventory, allowed: snapshot.allowed)
        }
        let who = PathBytes.display(text: host)
        guard differ.isEmpty else {
            return Array(recorded(baseline, who: who, snapshot: snapshot, differ: differ).utf8)
        }
        let head = "# pip freeze of \(who) at \(Timestamp.format(now)) "
            + "(drift export \(snapshot.id)), read from site-packages by drift\n"
        return Array((head + body).utf8)
    }

    /// The snapshot's environment when site-packages no longer hold it: the baked
    /// distributions with the snapshot's version changes applied.
    static func recorded(_ baseline: PipBaseline, who: String, snapshot: Snapshot, differ: [String]) -> String {
        let shownDiffer = differ.prefix(5).joined(separator: ", ") + (differ.count > 5 ? ", …" : "")
        var out = "# pip freeze of \(who) as drift snapshot \(snapshot.id) recorded it at "
            + "\(Timestamp.format(snapshot.time)) (drift export \(snapshot.id)): the baked site-packages with "
            + "that snapshot's pip changes; site-packages hold another environment now (\(shownDiffer)), "
            + "so this is not read from them\n"
        for sp in baseline.sitePackages {
            out += "# \(PathBytes.display(sp.path))\n"
            let shown = PathBytes.display(sp.path)
            var lines: [String] = []
            var named: [String: PipChange] = [:]
            for c in snapshot.pip where c.sitePackages == shown && c.change.isPinnable {
                if let n = c.name { named[normalizedDistributionName(n)] = c }
            }
            for d in sp.distributions where named[d.name] == nil { lines.append(line(d)) }
            for (name, c) in named {
                guard c.change != .removed, let to = c.to else { continue }
                let shownName = PathBytes.display(text: name)
                let v = PathBytes.display(text: to)
                if c.change == .editable, let url = c.url {
                    lines.append("-e \(PathBytes.display(text: url))\n")
                } else if let url = c.url {
                    lines.append("\(shownName) @ \(PathBytes.display(text: url))\n")
                } else {
                    lines.append("\(shownName)==\(v)\n")
                }
            }
            out += lines.sorted().joined()
        }
        return out
    }

    /// The versions the snapshot says `sp` holds, by normalised name.
    static func versions(_ sp: SitePackagesInventory, _ pip: [PipChange]) -> [String: String] {
        var v: [String: String] = [:]
        for d in sp.distributions { v[d.name] = d.version }
        let shown = PathBytes.display(sp.path)
        for c in pip where c.sitePackages == shown && c.change.isPinnable {
            guard let n = c.name.map(normalizedDistributionName) else { continue }
            v[n] = c.change == .removed ? nil : c.to
        }
        return v
    }

    /// `name now X, snapshot Y` for each distribution whose version differs from `expected`.
    static func mismatches(_ expected: [String: String], _ now: SitePackagesInventory,
                           allowed: Set<String>) -> [String] {
        var live: [String: String] = [:]
        for d in now.distributions { live[d.name] = d.version }
        var out: [String] = []
        for name in Set(expected.keys).union(live.keys).sorted()
        where expected[name] != live[name] && !allowed.contains(name) {
            let show = { (v: String?) in v.map { PathBytes.display(text: $0) } ?? "absent" }
            out.append("\(PathBytes.display(text: name)) now \(show(live[name])), snapshot \(show(expected[name]))")
        }
        return out
    }

    /// One distribution as `pip freeze` writes it.
    static func line(_ d: InstalledDistribution) -> String {
        let name = PathBytes.display(text: d.name)
        if let url = d.url.map({ PathBytes.display(text: $0) }) {
            return d.editable ? "-e \(url)\n" : "\(name) @ \(url)\n"
        }
        return "\(name)==\(PathBytes.display(text: d.version))\n"
    }
}
