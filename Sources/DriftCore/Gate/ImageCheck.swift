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

    public var rootfs: String
    public var manifestDir: ManifestDirectory
    /// The workspace's path inside the image (default: the root the manifest recorded).
    public var workspace: String?

    public init(rootfs: String, manifestDir: ManifestDirectory) {
        self.rootfs = rootfs
        self.manifestDir = manifestDir
    }

    /// Checks the unpacked image: the manifest verifies, its code is the commit's, no drift
    /// is baked into the workspace, and the pip baseline is exactly the requirements pins.
    /// - Returns: one finding per check, each `ok` or not, with the paths that failed it.
    /// - Throws: `DriftError` when ROOTFS or its manifest cannot be read or does not verify.
    public func run() throws -> [Finding] {
        let (manifest, policy) = try manifestDir.load()
        var findings: [Finding] = []
        let classifier = Classifier(policy: policy)

        // 1. Every code file baked into the manifest is the commit's blob, or a generated output.
        let base = try BaseObjects.open(manifestDir, commit: manifest.commit)
        guard let commit = ObjectID(hex: manifest.commit) else {
            throw DriftError(.manifestInvalid, "bad commit id in the manifest")
        }
        var inCommit: [[UInt8]: GitTreeItem] = [:]
        try base.walkTree(try base.treeOf(commit: commit)) { e in
            if e.mode != .tree && e.mode != .commit { inCommit[e.path] = e.item }
            return .descend
        }
        // The image's workspace, walked once: its bytecode is judged here, its drift in step 2.
        // The image's paths are text here (`--workspace`, ROOTFS): a recorded root that is not
        // UTF-8 is refused, never decoded into another name.
        guard let inside = workspace ?? String(validating: manifest.root, as: UTF8.self) else {
            throw DriftError(.usage, path: manifest.root,
                             "the manifest's root is not UTF-8; give its path inside the image with --workspace")
        }
        let root = try Self.confined(rootfs: rootfs, inside: inside)
        let rootBytes = Array(root.utf8)
        let walk = try TreeWalk.run(root: rootBytes, classifier: Classifier(policy: policy))
        var stats: [[UInt8]: FileStat] = [:]
        for e in walk.entries where BytecodeCheck.role(e.path) != nil { stats[e.path] = e.stat }
        var unclean: [String] = []
        // Bytecode baked at build time is in no commit: the scan's rules judge it instead.
        var bakedBytecode: [FileChange] = []
        for e in manifest.entries {
            let (cls, secret) = classifier.classifyAll(e.path, isDirectory: false)
            guard cls == .code, !secret else { continue }
            if policy.generated.matches(e.path, isDirectory: false) { continue }
            if inCommit[e.path] == nil, BytecodeCheck.role(e.path) != nil {
                let state = EntryState(kind: e.kind, executable: e.executable, size: e.size, digest: e.digest,
                                       target: e.target)
                bakedBytecode.append(FileChange(path: e.path, change: .added, fileClass: cls, secret: false,
                                                old: nil, new: state, firstSeen: clock.now()))
                continue
            }
            guard let c = inCommit[e.path] else {
                unclean.append("\(PathBytes.display(e.path)) (not in commit \(manifest.commit.prefix(12)))")
                continue
            }
            let blob = try base.odb().read(c.id).1
            let same = try SHA256Hasher.digest(blob) == e.digest
            if c.mode != e.gitMode || !same {
                unclean.append("\(PathBytes.display(e.path)) (differs from the commit)")
            }
        }
        let baked = BytecodeCheck(root: rootBytes, cache: nil).apply(bakedBytecode, stats: stats)
        unclean += baked.changes.map { "\(PathBytes.display($0.path)) (\($0.change.rawValue))" }
        unclean += baked.issues.map { "\(PathBytes.display($0.path)) (\(DriftError.neutralised($0.message)))" }
        findings.append(Finding(check: "clean-checkout", ok: unclean.isEmpty,
                                detail: unclean.isEmpty
                                    ? "every code file is the commit's"
                                    : "\(unclean.count) code file(s) not from a clean checkout of "
                                        + "\(manifest.commit.prefix(12))",
                                paths: unclean))

        // 2. The image's workspace is what its manifest says (no drift baked in): the scan's
        // twin, the same walk and classification, then the same bytecode verdicts (runtime
        // `__pycache__` bytecode is no drift here either; forged bytecode is).
        let scanner = Scanner(manifest: manifest, policy: policy, root: rootBytes, cache: nil)
        var scan = try scanner.compare(walk, now: clock.now())
        if scan.changes.contains(where: { BytecodeCheck.role($0.path) != nil }) {
            let checked = BytecodeCheck(root: rootBytes, cache: nil).apply(scan.changes, stats: stats)
            scan.changes = checked.changes
            scan.issues += checked.issues
        }
        let drifted = scan.changes.map { "\(PathBytes.display($0.path)) (\($0.change.rawValue))" }
            + scan.issues.map { "\(PathBytes.display($0.path)) (\(DriftError.neutralised($0.message)))" }
        findings.append(Finding(check: "workspace", ok: drifted.isEmpty,
                                detail: drifted.isEmpty
                                    ? "\(root) matches its manifest"
                                    : "\(scan.changes.count) drifted path(s) baked into \(root)",
                                paths: drifted))

        // 3. The pip baseline is exactly the requirements pins.
        if let pip = try PipBaseline.load(manifestDir, manifest: manifest) {
            var problems: [String] = []
            let allow = Set(policy.pipAllow.map(normalizedDistributionName)).union(Self.bootstrap)
            var installed: [String: String] = [:]
            for sp in pip.sitePackages { for d in sp.distributions { installed[d.name] = d.version } }
            // Distribution names and versions come from the image's metadata: quoted as names.
            let q = { (t: String) in PathBytes.display(text: t) }
            for (name, version) in pip.pins.sorted(by: { $0.key < $1.key }) {
                guard let v = installed[name] else {
                    problems.append("\(q(name))==\(q(version)) pinned but not installed")
                    continue
                }
                if PEP440Version(v).flatMap({ a in PEP440Version(version).map { a == $0 } }) != true && v != version {
                    problems.append("\(q(name)) \(q(v)) installed, \(q(version)) pinned")
                }
            }
            for (name, v) in installed.sorted(by: { $0.key < $1.key })
            where pip.pins[name] == nil && !allow.contains(name) {
                problems.append("\(q(name))==\(q(v)) installed but not pinned")
            }
            if pip.requirements == nil { problems.append("no requirements file recorded (--requirements)") }
            findings.append(Finding(check: "pip-pins", ok: problems.isEmpty,
                                    detail: problems.isEmpty
                                        ? "site-packages match the requirements pins"
                                        : "\(problems.count) package(s) do not match the pins",
                                    paths: problems))
        }
        if let pip = try PipBaseline.load(manifestDir, manifest: manifest) {
            findings.append(try sitePackages(pip, policy: policy))
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
            let raw = rootfs + "/" + inside.split(separator: "/").joined(separator: "/")
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
    static func confined(rootfs: String, inside: String) throws -> String {
        let comps = inside.split(separator: "/", omittingEmptySubsequences: true)
        if comps.contains("..") {
            throw DriftError(.unsafeTarget, "workspace \(PathBytes.display(text: inside)): has a '..' component; "
                             + "it must lie beneath \(rootfs)")
        }
        let root = rootfs + "/" + comps.joined(separator: "/")
        guard let realFS = canonicalPath(rootfs) else {
            throw DriftError(.unreadable, path: rootfs, "image root not found")
        }
        guard let real = canonicalPath(root) else {
            throw DriftError(.unreadable, "workspace \(PathBytes.display(text: inside)): not found beneath \(rootfs)")
        }
        guard real == realFS || real.hasPrefix(realFS == "/" ? "/" : realFS + "/") else {
            throw DriftError(.unsafeTarget, "workspace \(PathBytes.display(text: inside)): resolves to "
                             + "\(PathBytes.display(text: real)), outside \(rootfs)")
        }
        return real
    }
}
