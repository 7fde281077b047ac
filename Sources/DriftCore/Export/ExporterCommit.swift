import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The export commit and its files: the commit on the base or on the chain it follows,
/// then the patch, bundle and report made of it.
extension Exporter {
    /// The export commit, kept in the journal (`refs/drift-exports/<id>`) so `drift push` can send it.
    struct ExportCommit {
        var commit: ObjectID
        /// The export it is stacked on (nil: one commit on the base).
        var follows: DriftID?
        /// The chain export that held a secret known now: this commit starts a new chain on the base.
        var restartedChain: DriftID?
        /// Every object the bundle carries (the whole chain).
        var shipped: [ObjectID]
        var sameDrift: SameDrift?
    }

    /// Makes the export commit of the snapshot, following the previous export unless
    /// `--cumulative` or `--snapshot`, and refuses one that would ship a secret known now.
    func makeCommit(_ s: ExportSource, state: DriftState, host: String, who: GitPerson) throws -> ExportCommit {
        let (repo, info) = (s.repo, s.info)
        let chain = ExportChain(repo: repo, base: s.base)
        // state.json keeps ids as text (its format): read back into ids here, at that edge.
        let kept = state.chainTip ?? state.lastExportId
        let previous = cumulative || snapshot != nil ? nil : kept.flatMap(DriftID.init)
        var parent = try chain.parent(for: info.id, previous: previous, cumulative: cumulative)
        // A bundle carries its whole chain: an earlier export holding a secret known now is not carried.
        var restartedChain: DriftID?
        if let follows = parent.follows,
           try s.outgoing.anyHolds(try chain.objects(upTo: parent.commit), repo: repo,
                                   fixtures: try chain.fixtureBlobs(upTo: parent.commit)) {
            restartedChain = follows
            parent = (s.base, nil)
        }
        let changes = try parent.follows.map { _ in try chain.changes(from: parent.commit, to: s.tree) }
        if let follows = parent.follows, let changes {
            try Self.refuseWithheldRevert(info, follows: follows, changes, cause: state.withholding)
        }
        // A follow-up that changes only withheld files would be an empty patch `git am` rejects.
        if let follows = parent.follows, changes?.isEmpty == true {
            throw NothingExportable(follows: follows, withheld: info.entries.filter { $0.recorded != .content }.count)
        }
        // A follow-up's message names the pip changes it adds, not the ones its chain already carries.
        var pip = info.pip
        if let follows = parent.follows,
           let earlier = try JournalHistory.snapshots(repo, from: s.latest, base: info.base.hex)
               .first(where: { $0.info.id == follows }) {
            let before = Set(earlier.info.pip.map { SnapshotPip($0).line })
            pip = pip.filter { !before.contains(SnapshotPip($0).line) }
        }
        let msg = commitMessage(info: info, pip: pip, host: host, base: info.base.hex, follows: parent.follows,
                                changes: changes, requirements: s.requirements)
        let commit = try reusable(info.id, parent: parent.commit, tree: s.tree, repo: repo)
            ?? repo.createCommit(tree: s.tree, parents: [parent.commit], author: who, committer: who, message: msg)
        let shipped = try chain.objects(upTo: commit)
        if try s.outgoing.anyHolds(shipped, repo: repo, fixtures: try chain.fixtureBlobs(upTo: commit)) {
            throw DriftError(.secretWithheld,
                "export \(info.id): its commit message or bundle would hold a secret drift knows now "
                + "(a --message, --author or file name); nothing was exported")
        }
        let sameDrift = try Self.sameDrift(info.id, commit: commit, repo: repo, state: state)
        if sameDrift?.keptEarlier != true { try repo.setReference(Self.exportRef(info.id), to: commit) }
        return ExportCommit(commit: commit, follows: parent.follows, restartedChain: restartedChain, shipped: shipped,
                            sameDrift: sameDrift)
    }

    /// The journal's export of `id` on `parent`, when this export names no author or message
    /// of its own: the same drift in the same place exports as that same commit, whoever it
    /// named (incident 11, F5: a re-export must not silently replace an export handed out).
    private func reusable(_ id: DriftID, parent: ObjectID, tree: ObjectID, repo: GitRepository) throws -> ObjectID? {
        guard author == nil, message == nil, let earlier = try repo.reference(Self.exportRef(id)),
              try repo.parents(of: earlier).first == parent,
              try repo.treeOf(commit: earlier) == tree else { return nil }
        return earlier
    }

    /// The export's files (name, bytes): `drift.patch`, `drift.bundle`, `report.json`, and
    /// `pip-freeze.txt` with pip. Throws when one but the bundle would hold a secret known now.
    func exportFiles(_ s: ExportSource, _ made: ExportCommit, baseline: PipBaseline?, policy: Policy,
                     host: String, now: Date) throws -> [(String, [UInt8])] {
        let info = s.info
        let patch = try s.repo.emailPatch(made.commit)
        let ref = "refs/heads/drift/\(info.id)"
        // One prerequisite, the base: the bundle carries every commit of the chain.
        let bundle = GitBundle.make(prerequisite: s.base,
                                    comment: "drift base",
                                    tip: made.commit,
                                    ref: ref,
                                    pack: try s.repo.pack(made.shipped))
        // One schema (`drift.export/1`): the snapshot this export ships, scanned or not.
        let reportBytes = try JSONCoding.encode(ExportReport(info, snapshot: s.picked, host: host,
                                                             follows: made.follows))
        var files = [(Self.patchFile, patch), (Self.bundleFile, bundle), (Self.reportFile, reportBytes)]
        let snapshot = PipFreeze.Snapshot(id: info.id, time: info.time, pip: info.pip,
                                          allowed: Set(policy.pipAllow.map(normalizedDistributionName)))
        if let freeze = try PipFreeze.text(baseline, host: host, snapshot: snapshot, now: now) {
            files.append((Self.pipFreezeFile, freeze))
        }
        for (name, bytes) in files where name != Self.bundleFile && s.outgoing.holds(text: bytes) {
            throw DriftError(.secretWithheld,
                "export \(info.id): \(name) would hold a secret drift knows now; nothing was exported")
        }
        return files
    }
}
