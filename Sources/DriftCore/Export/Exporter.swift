import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `drift export`: the patch bundle that brings the drift home — `drift.patch` (mbox for
/// `git am`), `drift.bundle` (git bundle v2 with `refs/heads/drift/<id>`), `report.json`.
///
/// It scans first (so current drift is in the journal), then exports the journal's latest
/// snapshot: a workspace reset to the image still exports the hotfix recorded earlier.
public struct Exporter {
    public var runner: ScanRunner
    /// ODIR, as bytes (`--output` as given, not UTF-8 too).
    public var output: [UInt8]
    public var author: String?
    public var message: String?
    public var fromJournal = false
    public var force = false
    /// Today's single commit on the base, even when an earlier export exists (`--cumulative`).
    public var cumulative = false
    /// Exports this snapshot (Drift-Id or commit) instead of the latest (`--snapshot`).
    public var snapshot: String?

    /// An exporter into a directory named by text (a test's temp dir).
    init(runner: ScanRunner, output: String) { self.init(runner: runner, output: Array(output.utf8)) }

    public init(runner: ScanRunner, output: [UInt8]) {
        self.runner = runner
        self.output = output
    }

    public struct Summary: Sendable {
        public var id: DriftID
        public var commit: String
        public var paths: Int
        public var fromJournal: Bool
        public var host: String
        /// The export this one is stacked on (a follow-up), nil for one on the base.
        public var follows: DriftID?
        /// Secret files plus secret-named variables the scan knew (nil: no scan, `--from-journal`).
        public var secretSources: Int?
        /// The chain export that held a secret known now, so this one starts a new chain on the base.
        public var restartedChain: DriftID?
        /// The journal's latest snapshot when it claimed the scanned drift's id without holding
        /// it (changed outside drift): the export is built from the scan's own snapshot instead.
        public var replacedSnapshot: String?
        /// What this export read and verified of MDIR, for `--push` to reuse.
        public var context: ScanRunner.Context
        /// Set when this drift state (its Drift-Id) was exported before in another shape.
        public var sameDrift: SameDrift?
        /// Drifted code whose content this export does not carry (bytecode aside): `git am`
        /// does not re-apply it (incident 11, F6: said on stderr, not only in the patch).
        public var withheldCode: [[UInt8]] = []
        /// Directories with many code files added (`BulkCodeAdds`): likely data the policy misses.
        public var bulkCode: [String] = []
    }

    /// An export of a Drift-Id the journal already holds as another commit (a `--cumulative`
    /// export of a state exported before as a follow-up, or the reverse). Same drift, same id by
    /// design (the gate judges the drift, not its shape); the journal keeps one export per id.
    public struct SameDrift: Sendable {
        /// What the earlier export follows (nil: it was one commit on the base).
        public var earlierFollows: DriftID?
        /// Remotes (as `drift push` names them) the earlier export was pushed to.
        public var pushedTo: [String]
        /// The earlier export stays in the journal (it was pushed, or it is of the same shape):
        /// this one is in ODIR only.
        public var keptEarlier: Bool
        /// The earlier export sits where this one would (same parent): only its author or
        /// message differ. Its files were handed out: it is kept, pushed or not.
        public var sameShape: Bool
    }

    static let patchFile = "drift.patch"
    static let bundleFile = "drift.bundle"
    static let reportFile = "report.json"
    /// The export message's heading over bytecode drift (never in the patch or the bundle).
    static let bytecodeHeading = "Not in this patch: bytecode — remove it on the instance"
    /// The instance's complete `pip freeze`, beside the requirements edit (absent without pip).
    static let pipFreezeFile = "pip-freeze.txt"

    /// Where the journal keeps an export's commit.
    static func exportRef(_ id: DriftID) -> String { exportRefPrefix + id.hex }
    /// The namespace of `exportRef`.
    static let exportRefPrefix = "refs/drift-exports/"

    /// Scans (or reads the journal's latest snapshot), then writes `drift.patch`,
    /// `drift.bundle` and `report.json` into `output` and records the export in the journal.
    /// - Returns: what was exported, or nil when there is no drift now and none recorded.
    /// - Throws: `DriftError` for bad input (non-empty output without `force`, an output
    ///   inside the root, bad `--author`/`--message`, an unknown `--snapshot`); `DriftError` `.lockBusy`
    ///   when another run holds the state lock; `GitError` when the journal or base
    ///   repository cannot be read.
    public func run() throws -> Summary? {
        // Checked before anything is scanned or written: bad text is bad input.
        if let message { try CommitText.checkMessage(message) }
        if let author { try CommitText.checkAuthor(author) }
        // One context for the whole verb: MDIR is read once, by this line.
        let context = try runner.context ?? runner.loadContext()
        var runner = self.runner
        runner.context = context
        let manifest = context.manifest
        let root = runner.root ?? manifest.root
        let output = try refuseWriteUnder(root: root, target: self.output, what: "export directory")
        // The stage dirs go next to the output: that directory is checked too.
        try refuseWriteUnder(root: root, target: WriteTarget.parentOf(bytes: output), what: "export staging directory")
        try checkOutputDirectory(output)
        try refuseWriteUnder(root: root, target: runner.state.path, what: "state dir")
        let lock = try StateLock(state: runner.state, wait: runner.waitSeconds)
        defer { withExtendedLifetime(lock) {} }
        let scan = try scanFirst(runner)
        // The scan saved it under the lock this export still holds: it is current. Read before
        // the journal: a state of another base is moved aside first (`StateArchive`).
        var state = try scan.state ?? runner.state.loadState(commit: manifest.commit)
        guard let source = try pickSnapshot(runner, manifest, scan: scan, forgotten: state.forgottenSources) else {
            return nil
        }
        let info = source.info
        let now = runner.clock.now()
        let host = info.host.isEmpty ? SystemInfo.hostName() : info.host
        // Dated by the snapshot, so the same drift exports as the same commit (pushes are idempotent).
        let when = info.time
        let who = try author.map { try GitPerson.parse($0, time: when) }
            ?? GitPerson(name: "drift", email: "drift@\(host)", time: when)
        let made = try makeCommit(source, state: state, host: host, who: who)
        let files = try exportFiles(source, made, baseline: context.baseline, policy: context.policy, host: host,
                                    now: now)
        // The same files as one parentless commit: what `drift push` sends (docs/journal.md).
        try LedgerCommit.create(in: source.repo, id: info.id, host: host, base: manifest.commit, files: files,
                                author: who, setRef: made.sameDrift?.keptEarlier != true)
        try writeOutputs(files, to: output)
        state.lastExport = Timestamp.format(now)
        state.lastExportId = info.id.hex
        if snapshot == nil { state.chainTip = info.id.hex }
        let withheld = info.entries.filter { $0.recorded != .content || $0.change == .bytecode }.map(\.path)
        let carried = info.entries.map { ExportedPath(path: $0.path, change: $0.change, fileClass: $0.fileClass) }
        state.markExported(carried, withheld: Set(withheld), id: info.id.hex, at: now)
        try runner.state.saveState(state)
        var summary = Summary(id: info.id,
                          commit: made.commit.hex,
                          paths: info.pathCount,
                          fromJournal: scan.journalOnly,
                          host: host,
                          follows: made.follows,
                          secretSources: scan.secretSources,
                          restartedChain: made.restartedChain,
                          replacedSnapshot: scan.replaced?.hex,
                          context: context,
                          sameDrift: made.sameDrift,
                          withheldCode: Self.withheldCode(info.entries))
        let added = info.entries.lazy.filter { $0.change == .added && $0.fileClass == .code }
        summary.bulkCode = BulkCodeAdds.notes(added.map(\.path))
        return summary
    }

    /// The code paths of `entries` whose content is not in the export's tree (bytecode aside).
    static func withheldCode(_ entries: [SnapshotEntry]) -> [[UInt8]] {
        entries.filter { e in
            guard e.fileClass == .code, e.change != .bytecode else { return false }
            switch e.recorded {
            case .content, .summary: return false
            case .secret, .secretContent, .hashOnly: return true
            }
        }.map(\.path)
    }

    /// A snapshot's record names its Drift-Id and the id's inputs; the id must be the one its
    /// tree gives. A forged snapshot commit carrying a copy of the real record fails this.
    /// Records of older drift keep no inputs: nothing to recompute (their exports are as before).
    static func checkBinding(_ info: SnapshotInfo, tree: ObjectID, snapshot: ObjectID, journal: [UInt8]) throws {
        guard let inputs = info.idInputs else { return }
        let id = try DriftID.compute(base: info.base, tree: tree, inputs: inputs)
        guard id == info.id else {
            throw DriftError(.stateDamaged, path: journal,
                "journal snapshot \(snapshot.hex) does not hold the drift its record names "
                + "(Drift-Id \(info.id), its tree gives \(id)): the journal was changed outside drift; "
                + "run drift export without --from-journal to export what the workspace holds")
        }
    }

    /// The journal's earlier export of `id` when it is another commit than `commit`; kept
    /// (not replaced) once pushed, so `drift push` and the remote keep telling the same story,
    /// and always when it has the same parent (another `--author` or `--message` only).
    static func sameDrift(_ id: DriftID, commit: ObjectID, repo: GitRepository,
                          state: DriftState) throws -> SameDrift? {
        guard let earlier = try repo.reference(exportRef(id)), earlier != commit else { return nil }
        let pushedTo = (state.pushed ?? [:]).filter { $0.value.contains(id.hex) }.map(\.key).sorted()
        let sameShape = try repo.parents(of: earlier).first == repo.parents(of: commit).first
        return SameDrift(earlierFollows: DriftTrailers(try repo.message(of: earlier)).follows, pushedTo: pushedTo,
                         keptEarlier: !pushedTo.isEmpty || sameShape, sameShape: sameShape)
    }

    /// `changes`: for a follow-up, what it changes on top of the export it follows; its lines
    /// say added/modified/deleted as that commit does, not as the drift is against the base.
    func commitMessage(info: SnapshotInfo, pip: [PipChange], host: String, base: String, follows: DriftID?,
                       changes: [[UInt8]: GitTreeChange]?, requirements: [UInt8]? = nil) -> String {
        let changed = changes.map { Set($0.keys) }
        let inTree = info.entries.filter { $0.recorded == .content && changed?.contains($0.path) != false }
            .map { e in changes?[e.path].map { e.since($0) } ?? e }
        let pinCount = DriftTreeBuilder.pinnable(pip).count
        let out = info.entries.filter { $0.recorded != .content }
        let drifted = Set(info.entries.map(\.path))
        let reverted = (changed ?? []).filter { !drifted.contains($0) }.sorted { PathBytes.less($0, $1) }
        // What the diff touches: the files it carries and those it puts back to the image's version.
        let touched = inTree.count + reverted.count
        let fileCount = "\(touched) file\(touched == 1 ? "" : "s")"
        let pipPart = pinCount > 0 ? ", \(pinCount) pip change\(pinCount == 1 ? "" : "s")" : ""
        var subject = follows == nil
            ? "Re-apply instance hotfix from \(host) (\(fileCount)\(pipPart))"
            : "Follow-up instance hotfix from \(host) (\(fileCount)\(pipPart))"
        var extra = ""
        if let m = message?.trimmingWhitespace(), !m.isEmpty {
            let lines = m.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            subject = String(lines[0])
            if lines.count > 1 { extra = lines[1].trimmingWhitespace() + "\n\n" }
        }
        var s = subject + "\n\n" + extra
        if let follows {
            s += "On top of drift export \(follows) (apply that one first); "
            s += "drift found these further changes on \(host), recorded \(Timestamp.format(info.time)):\n\n"
        } else {
            s += "drift found these changes on \(host) against base \(base.prefix(12)), "
                + "recorded \(Timestamp.format(info.time)):\n\n"
        }
        s += inTree.map(\.humanLine).joined(separator: "\n") + (inTree.isEmpty ? "  (no code changes)" : "") + "\n"
        if !reverted.isEmpty {
            s += "\nBack to the image's version since that export:\n\n"
            s += reverted.map { "  " + PathBytes.display($0) }.joined(separator: "\n") + "\n"
        }
        let bytecode = out.filter { $0.change == .bytecode }
        let hashOnly = out.filter { $0.change != .bytecode }
        if !hashOnly.isEmpty {
            s += "\nNot in this patch (names and hashes only, content withheld):\n\n"
            s += hashOnly.map(\.humanLine).joined(separator: "\n") + "\n"
        }
        if !bytecode.isEmpty {
            s += "\n\(Self.bytecodeHeading):\n\n"
            s += bytecode.map(\.humanLine).joined(separator: "\n") + "\n"
        }
        let pinned = DriftTreeBuilder.pinnable(pip)
        if !pinned.isEmpty {
            // Pins reach the patch only through a baked requirements file under the root.
            s += requirements.map { "\npip drift, written into \(PathBytes.display($0)):\n\n" }
                ?? "\npip drift (no requirements file under the workspace root was baked: not in this patch; "
                + "pip-freeze.txt lists them):\n\n"
            s += pinned.map { SnapshotPip($0).humanLine }.joined(separator: "\n") + "\n"
            if pinned.contains(where: { $0.change == .editable }) {
                s += "\nNote: editable or VCS installs cannot be pinned; they appear as comments to resolve by hand.\n"
            }
        }
        let unpinnable = pip.filter { !$0.change.isPinnable }
        if !unpinnable.isEmpty {
            s += "\nsite-packages edited by hand (nothing a requirements file can say):\n\n"
            s += unpinnable.map { SnapshotPip($0).humanLine }.joined(separator: "\n") + "\n"
        }
        s += "\nDrift-Host: \(host)\nDrift-Id: \(info.id)\n"
        if let follows { s += "Drift-Follows: \(follows)\n" }
        s += "Drift-Base: \(base)\n"
        return s
    }

    /// A non-empty ODIR is refused unless `--force`.
    private func checkOutputDirectory(_ output: [UInt8]) throws {
        guard let st = try? FileSystem.stat(output) else { return }
        guard st.kind == .directory else {
            throw DriftError(.unsafeTarget, path: output, "exists and is not a directory")
        }
        let items = directoryEntries(output) ?? []
        if !items.isEmpty && !force {
            throw DriftError(.unsafeTarget, path: output, "directory is not empty (use --force to overwrite)")
        }
    }

    /// Stages every file next to ODIR, then moves them in, so ODIR never holds a partial set
    /// (a stage dir of an export that died, `.drift-export-<pid>-<random>`, is removed).
    private func writeOutputs(_ files: [(String, [UInt8])], to output: [UInt8]) throws {
        try StagedDirectory(prefix: ".drift-export-").publish(files.map { (name: $0.0, bytes: $0.1) }, to: output)
    }
}

/// A follow-up export whose tree is the export it follows: only withheld paths (config,
/// secrets, data, withheld code) changed since. No commit and no files are written; `drift
/// export` exits 1, as for nothing to export (docs/journal.md).
public struct NothingExportable: Error, Sendable {
    /// The export the follow-up would have followed.
    public var follows: DriftID
    /// Drifted paths recorded by name and hash only in the current state.
    public var withheld: Int

    /// `nothing exportable changed since export X (N withheld)`, and what to do instead.
    public var message: String {
        "nothing exportable changed since export \(follows) (\(withheld) withheld path\(withheld == 1 ? "" : "s") "
            + "in the drift, never in a patch); nothing written (--cumulative writes all drift as one commit)"
    }
}
