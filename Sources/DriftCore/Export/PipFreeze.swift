import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `pip-freeze.txt` of an export: every distribution installed in the baseline's
/// site-packages as they are now, in `pip freeze`'s forms (`name==version`, `name @ url`,
/// `-e url`), so whoever merges the requirements edit can resolve a pin conflict against
/// the instance's whole environment, not only the pins drift changed.
enum PipFreeze {
    /// The file's bytes, or nil when the manifest has no pip baseline.
    /// A site-packages directory that cannot be read is named in a `#` line, not fatal:
    /// the export is about the workspace, the freeze is context beside it.
    static func text(_ baseline: PipBaseline?, host: String, id: DriftID, now: Date) throws -> [UInt8]? {
        guard let baseline, !baseline.sitePackages.isEmpty else {
            return nil
        }
        var out = "# pip freeze of \(PathBytes.display(text: host)) at \(Timestamp.format(now)) "
            + "(drift export \(id)), read from site-packages by drift\n"
        for sp in baseline.sitePackages {
            out += "# \(PathBytes.display(sp.path))\n"
            let inventory: SitePackagesInventory
            let issues: [WalkIssue]
            do { (inventory, issues) = try PipInventory.read(sp.path) } catch let e as DriftError {
                out += "# drift: cannot read it: \(e.message.replacingEvery("\n", with: " "))\n"
                continue
            }
            for i in issues { out += "# drift: \(PathBytes.display(i.path)): \(i.message)\n" }
            out += inventory.distributions.map(line).sorted().joined()
        }
        return Array(out.utf8)
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
