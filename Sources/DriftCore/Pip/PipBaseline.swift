import Foundation

/// The pip baseline recorded at image build time (`pip.json`). For now it records the
/// site-packages directories and the requirements file; distribution records come with
/// the pip issue.
public struct PipBaseline: Codable, Sendable {
    public static let schema = "drift.pip/1"
    public var schema = PipBaseline.schema
    public var sitePackages: [String]
    /// The requirements file, relative to the root when it lies under it.
    public var requirements: String?

    enum CodingKeys: String, CodingKey {
        case schema
        case sitePackages = "site_packages"
        case requirements
    }

    public static func record(sitePackages: [String], requirements: String?, root: String) throws -> PipBaseline {
        var dirs: [String] = []
        for sp in sitePackages {
            guard let c = canonicalPath(sp) else { throw DriftError("\(sp): site-packages directory not found") }
            dirs.append(c)
        }
        var req: String?
        if let r = requirements {
            guard let c = canonicalPath(r) else { throw DriftError("\(r): requirements file not found") }
            let rootC = canonicalPath(root) ?? root
            req = c.hasPrefix(rootC + "/") ? String(c.dropFirst(rootC.count + 1)) : c
        }
        return PipBaseline(sitePackages: dirs.sorted(), requirements: req)
    }
}
