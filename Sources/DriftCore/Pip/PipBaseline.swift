import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The pip baseline baked at image build time (`pip.json`, pinned in the manifest):
/// every distribution of each site-packages with its RECORD, the files no RECORD owns,
/// and the requirements file with its pins.
public struct PipBaseline: Codable, Sendable {
    static let schema = "drift.pip/1"
    var schema = PipBaseline.schema
    public var sitePackages: [SitePackagesInventory]
    /// The requirements file, relative to the root when it lies under it, as bytes.
    public var requirements: [UInt8]?
    /// `name==version` pins of the requirements file, by normalised name.
    public var pins: [String: String]

    enum CodingKeys: String, CodingKey {
        case schema, requirements, pins
        case sitePackages = "site_packages"
        case requirementsEscaped = "requirements_escaped"
    }

    init(sitePackages: [SitePackagesInventory], requirements: [UInt8]?, pins: [String: String]) {
        self.sitePackages = sitePackages
        self.requirements = requirements
        self.pins = pins
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(String.self, forKey: .schema)
        sitePackages = try c.decode([SitePackagesInventory].self, forKey: .sitePackages)
        requirements = try PipPathField.decodeIfPresent(c, .requirements, escaped: .requirementsEscaped)
        pins = try c.decode([String: String].self, forKey: .pins)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(sitePackages, forKey: .sitePackages)
        if let requirements { try PipPathField.encode(requirements, &c, .requirements, escaped: .requirementsEscaped) }
        try c.encode(pins, forKey: .pins)
    }

    /// Reads each site-packages and the requirements file (all named by bytes, as given).
    public static func record(sitePackages: [[UInt8]], requirements: [UInt8]?,
                              root: [UInt8]) throws -> PipBaseline {
        var inventories: [SitePackagesInventory] = []
        for sp in sitePackages {
            let (inv, issues) = try PipInventory.read(sp)
            if let first = issues.first {
                throw DriftError(.pipInvalid, path: first.path, "\(first.message) (the pip baseline must be complete)")
            }
            inventories.append(inv)
        }
        var req: [UInt8]?
        var pins: [String: String] = [:]
        if let r = requirements {
            guard let abs = canonicalPath(r) else {
                throw DriftError(.unreadable, path: r, "requirements file not found")
            }
            // Relative to the root when under it (compared as bytes; the root's name may not be UTF-8).
            let rootC = (canonicalPath(root) ?? root) + [UInt8(ascii: "/")]
            req = abs.starts(with: rootC) ? Array(abs.dropFirst(rootC.count)) : abs
            pins = Requirements.pins(String(decoding: try readWholeFile(abs, limit: 16 << 20), as: UTF8.self))
        }
        let sorted = inventories.sorted { bytesLess($0.path, $1.path) }
        return PipBaseline(sitePackages: sorted, requirements: req, pins: pins)
    }

    /// Loads MDIR's `pip.json`, checking it against the manifest's pin; nil when absent.
    public static func load(_ mdir: ManifestDirectory, manifest: Manifest) throws -> PipBaseline? {
        let f = mdir.file(ManifestDirectory.pipFile)
        guard let pin = manifest.pins.first(where: { $0.name == ManifestDirectory.pipFile }) else {
            if (try? FileSystem.stat(f)) != nil {
                throw DriftError(.manifestInvalid, path: f, "pip baseline present but not pinned in the manifest")
            }
            return nil
        }
        mdir.reads?.count(.pipBaseline)
        let bytes = try readWholeFile(f, limit: 512 << 20)
        guard try SHA256Hasher.digest(bytes) == pin.sha256 else {
            throw DriftError(.manifestInvalid, path: f,
                "pip baseline does not match the SHA-256 pinned in the manifest")
        }
        do { return try JSONDecoder().decode(PipBaseline.self, from: Data(bytes)) } catch {
            throw DriftError(.pipInvalid, path: f, "pip baseline is not valid (\(errorText(error)))")
        }
    }
}
