import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `drift gate --image-root`: checks a built image's unpacked filesystem before it ships.
public struct ImageCheck {
    /// Where "now" comes from (the scan's first-seen times).
    public var clock: Clock = .system
    public struct Finding: Codable, Sendable {
        public var check: String
        public var ok: Bool
        var detail: String
        public var paths: [String]
    }

    /// Distributions a requirements file need not pin: the installer's own tools.
    static let bootstrap: Set<String> = ["pip", "setuptools", "wheel"]

    /// ROOTFS, as bytes (`--image-root` as given, a name that is not UTF-8 too).
    public var rootfs: [UInt8]
    public var manifestDir: ManifestDirectory
    /// The workspace's path inside the image, as bytes (default: the root the manifest recorded).
    public var workspace: [UInt8]?

    public init(rootfs: [UInt8], manifestDir: ManifestDirectory) {
        self.rootfs = rootfs
        self.manifestDir = manifestDir
    }

    /// Checks the unpacked image: the manifest verifies, its code is the commit's, no drift
    /// is baked into the workspace, and the pip baseline is exactly the requirements pins.
    /// - Returns: one finding per check, each `ok` or not, with the paths that failed it.
    /// - Throws: `DriftError` when ROOTFS or its manifest cannot be read or does not verify.
    public func run() throws -> [Finding] {
        let image = try load()
        var findings = [try cleanCheckout(image), try bakedDrift(image)]
        if let pip = try PipBaseline.load(manifestDir, manifest: image.manifest) {
            findings.append(pipPins(pip, policy: image.policy))
        }
        if let pip = try PipBaseline.load(manifestDir, manifest: image.manifest) {
            findings.append(try sitePackages(pip, policy: image.policy))
        }
        return findings
    }

    /// 4. The image's real site-packages against the baseline, as `scan` compares them on an
    /// instance (`PipScanner`: versions, RECORD hashes, unowned files, bytecode), each baked
    /// site-packages read at its place beneath ROOTFS; the lines are the scan's pip lines.
    func sitePackages(_ pip: PipBaseline, policy: Policy) throws -> Finding {
        var rebased = pip
        for k in rebased.sitePackages.indices {
            let inside = rebased.sitePackages[k].path
            let raw = Self.beneath(rootfs, inside)
            // Absent from the image: PipScanner reports it as one unreadable entry. Present: it
            // must resolve beneath ROOTFS, like the workspace.
            rebased.sitePackages[k].path = canonicalPath(raw) == nil
                ? raw : try Self.confined(rootfs: rootfs, inside: inside)
        }
        let result = try PipScanner(baseline: rebased, allow: policy.pipAllow, cache: nil).run()
        let rejected = result.changes.filter { !$0.allowed }
        var lines = rejected.map { ReportText.pipLine($0).trimmingSpaces() }
        lines += result.issues.map { "\(PathBytes.display($0.path)) (\(DriftError.neutralised($0.message)))" }
        let unreadable = result.issues.isEmpty ? "" : ", \(result.issues.count) unreadable"
        let detail = lines.isEmpty
            ? "site-packages match the pip baseline"
            : "\(rejected.count) pip change(s) against the baseline\(unreadable)"
        return Finding(check: "pip", ok: lines.isEmpty, detail: detail, paths: lines)
    }

    /// `ROOTFS/inside`, refused unless it resolves beneath ROOTFS: no `..` component, and
    /// no symlink on the way that leads out (an unsigned manifest's root is untrusted).
    /// Paths are bytes here (ROOTFS, `--workspace`, the manifest's root), compared as bytes.
    static func confined(rootfs: [UInt8], inside: [UInt8]) throws -> [UInt8] {
        let slash = UInt8(ascii: "/")
        let shownFS = PathBytes.display(rootfs)
        if inside.split(separator: slash).contains(where: { $0.elementsEqual("..".utf8) }) {
            throw DriftError(.unsafeTarget, "workspace \(PathBytes.display(inside)): has a '..' component; "
                             + "it must lie beneath \(shownFS)")
        }
        guard let realFS = canonicalPath(rootfs) else {
            throw DriftError(.unreadable, path: rootfs, "image root not found")
        }
        guard let real = canonicalPath(beneath(rootfs, inside)) else {
            throw DriftError(.unreadable, "workspace \(PathBytes.display(inside)): not found beneath \(shownFS)")
        }
        guard real == realFS || real.starts(with: realFS == [slash] ? [slash] : realFS + [slash]) else {
            throw DriftError(.unsafeTarget, "workspace \(PathBytes.display(inside)): resolves to "
                             + "\(PathBytes.display(real)), outside \(shownFS)")
        }
        return real
    }

    /// `ROOTFS/inside` with the empty components of `inside` dropped (not yet resolved).
    static func beneath(_ rootfs: [UInt8], _ inside: [UInt8]) -> [UInt8] {
        let slash = UInt8(ascii: "/")
        return rootfs + [slash] + Array(inside.split(separator: slash).joined(separator: [slash]))
    }
}
