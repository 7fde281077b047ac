import DriftGit
import DriftSystem

/// The image's checks, one function each, over what `ImageCheck.run` read once.
extension ImageCheck {
    /// What the checks read once: MDIR, the commit's files, the image's workspace walked.
    struct Image {
        var manifest: Manifest
        var policy: Policy
        var base: GitRepository
        /// The commit's files (not trees or submodules), by path.
        var inCommit: [[UInt8]: GitTreeItem]
        /// The workspace beneath ROOTFS.
        var rootBytes: [UInt8]
        var walk: TreeWalk
        /// The stats of the walk's bytecode, for `BytecodeCheck`.
        var stats: [[UInt8]: FileStat]
    }

    func load() throws -> Image {
        let (manifest, policy) = try manifestDir.load()
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
        // Bytes throughout (ROOTFS, `--workspace`, the recorded root): no name is decoded into another.
        let rootBytes = try Self.confined(rootfs: rootfs, inside: workspace ?? manifest.root)
        let walk = try TreeWalk.run(root: rootBytes, classifier: Classifier(policy: policy))
        var stats: [[UInt8]: FileStat] = [:]
        for e in walk.entries where BytecodeCheck.role(e.path) != nil { stats[e.path] = e.stat }
        return Image(manifest: manifest, policy: policy, base: base, inCommit: inCommit,
                     rootBytes: rootBytes, walk: walk, stats: stats)
    }

    /// 1. Every code file baked into the manifest is the commit's blob, or a generated output.
    func cleanCheckout(_ image: Image) throws -> Finding {
        let (manifest, policy) = (image.manifest, image.policy)
        let classifier = Classifier(policy: policy)
        var unclean: [String] = []
        // Bytecode baked at build time is in no commit: the scan's rules judge it instead.
        var bakedBytecode: [FileChange] = []
        for e in manifest.entries {
            let (cls, secret) = classifier.classifyAll(e.path, isDirectory: false)
            guard cls == .code, !secret else { continue }
            if policy.generated.matches(e.path, isDirectory: false) { continue }
            if image.inCommit[e.path] == nil, BytecodeCheck.role(e.path) != nil {
                let state = EntryState(kind: e.kind, executable: e.executable, size: e.size, digest: e.digest,
                                       target: e.target)
                bakedBytecode.append(FileChange(path: e.path, change: .added, fileClass: cls, secret: false,
                                                old: nil, new: state, firstSeen: clock.now()))
                continue
            }
            guard let c = image.inCommit[e.path] else {
                unclean.append("\(PathBytes.display(e.path)) (not in commit \(manifest.commit.prefix(12)))")
                continue
            }
            let blob = try image.base.odb().read(c.id).1
            let same = try SHA256Hasher.digest(blob) == e.digest
            if c.mode != e.gitMode || !same {
                unclean.append("\(PathBytes.display(e.path)) (differs from the commit)")
            }
        }
        let baked = BytecodeCheck(root: image.rootBytes, cache: nil).apply(bakedBytecode, stats: image.stats)
        unclean += baked.changes.map { "\(PathBytes.display($0.path)) (\($0.change.rawValue))" }
        unclean += baked.issues.map { "\(PathBytes.display($0.path)) (\(DriftError.neutralised($0.message)))" }
        return Finding(check: "clean-checkout", ok: unclean.isEmpty,
                       detail: unclean.isEmpty
                           ? "every code file in the manifest is the commit's"
                           : "\(unclean.count) code file(s) not from a clean checkout of "
                               + "\(manifest.commit.prefix(12))",
                       paths: unclean)
    }

    /// 2. The image's workspace is what its manifest says (no drift baked in): the scan's
    /// twin, the same walk and classification, then the same bytecode verdicts (runtime
    /// `__pycache__` bytecode is no drift here either; forged bytecode is).
    func bakedDrift(_ image: Image) throws -> Finding {
        let scanner = Scanner(manifest: image.manifest, policy: image.policy, root: image.rootBytes, cache: nil)
        var scan = try scanner.compare(image.walk, now: clock.now())
        if scan.changes.contains(where: { BytecodeCheck.role($0.path) != nil }) {
            let checked = BytecodeCheck(root: image.rootBytes, cache: nil).apply(scan.changes, stats: image.stats)
            scan.changes = checked.changes
            scan.issues += checked.issues
        }
        let drifted = scan.changes.map { "\(PathBytes.display($0.path)) (\($0.change.rawValue))" }
            + scan.issues.map { "\(PathBytes.display($0.path)) (\(DriftError.neutralised($0.message)))" }
        return Finding(check: "workspace", ok: drifted.isEmpty,
                       detail: drifted.isEmpty
                           ? "\(PathBytes.display(image.rootBytes)) matches its manifest"
                           : "\(scan.changes.count) drifted path(s) baked into \(PathBytes.display(image.rootBytes))",
                       paths: drifted)
    }

    /// 3. The pip baseline is exactly the requirements pins.
    func pipPins(_ pip: PipBaseline, policy: Policy) -> Finding {
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
        return Finding(check: "pip-pins", ok: problems.isEmpty,
                       detail: problems.isEmpty
                           ? "the pip baseline matches the requirements pins"
                           : "\(problems.count) package(s) do not match the pins",
                       paths: problems)
    }
}
