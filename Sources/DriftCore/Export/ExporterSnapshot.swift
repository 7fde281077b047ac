import DriftGit
import DriftSystem

/// The snapshot an export ships: the scan that journals current drift first, then the
/// snapshot picked from the journal and checked against the secrets known now.
extension Exporter {
    /// What the export's own scan left for it (nothing scanned for `--from-journal` or `--snapshot`).
    struct ExportScan {
        /// `state.json` as the scan saved it under the lock the export still holds.
        var state: DriftState?
        var secretSources: Int?
        var secrets: SecretIndex?
        /// The export is the journal's alone (no scan, or no drift now).
        var journalOnly: Bool
        /// The snapshot holding what the scan just read, and the latest one it replaced.
        var snapshot: ObjectID?
        var replaced: ObjectID?
    }

    /// The snapshot picked for export, read from the journal and checked.
    struct ExportSource {
        var repo: GitRepository
        /// The journal's latest snapshot.
        var latest: ObjectID
        var base: ObjectID
        var picked: ObjectID
        var info: SnapshotInfo
        var tree: ObjectID
        var outgoing: OutgoingSecrets
        /// The baked requirements file under the root the snapshot's pins are written into
        /// (nil: none was baked, or it lies outside the root: the pins are in the message only).
        var requirements: [UInt8]?
    }

    /// Scans under the lock the caller holds, so current drift is in the journal.
    func scanFirst(_ runner: ScanRunner) throws -> ExportScan {
        // An older snapshot is the journal's alone: the scan's report would describe another state.
        var scan = ExportScan(journalOnly: fromJournal || snapshot != nil)
        if scan.journalOnly { return scan }
        var scanner = runner
        scanner.checkJournal = true
        let outcome = try scanner.run(alreadyLocked: true)
        // Said as `drift scan` says it: an export's scan recovers the same way.
        if let cause = outcome.stateRecovered { Output.stderr("drift: warning: \(cause.warning(runner.state))\n") }
        if let aside = outcome.journalSetAside { Output.stderr("drift: warning: \(aside.warning)\n") }
        scan.secretSources = outcome.secrets.sourceCount
        scan.secrets = outcome.secrets
        scan.journalOnly = outcome.result.changes.isEmpty && outcome.pip.allSatisfy(\.allowed)
        if !scan.journalOnly { (scan.snapshot, scan.replaced) = (outcome.snapshot, outcome.replacedSnapshot) }
        scan.state = outcome.state
        return scan
    }

    /// The snapshot to export: `--snapshot`'s, else the one holding what the scan just read
    /// (never whatever the journal's branch names: it may have been changed outside drift),
    /// else the latest. nil: no journal.
    /// `forgotten`: the state's memory (its released values are checked too).
    func pickSnapshot(_ runner: ScanRunner, _ manifest: Manifest, scan: ExportScan,
                      forgotten: ForgottenValues?) throws -> ExportSource? {
        let journal = Journal(state: runner.state, manifestDir: runner.manifestDir, commit: manifest.commit)
        guard let (repo, latest) = try journal.latest() else {
            if let snapshot {
                throw DriftError(.notFound, path: runner.state.path, "no journal, so no snapshot \(snapshot)")
            }
            return nil
        }
        guard let base = ObjectID(hex: manifest.commit) else {
            throw DriftError(.manifestInvalid, "bad base commit id")
        }
        let picked = try snapshot.map {
            try JournalHistory.find($0, repo: repo, tip: latest, base: manifest.commit,
                                    context: PathBytes.display(runner.state.file("journal.git"))).commit
        } ?? scan.snapshot ?? latest
        let info = try SnapshotInfo.read(repo, picked)
        guard info.base.hex == manifest.commit else {
            throw DriftError(
                .stateDamaged, path: runner.state.path,
                "journal snapshot \(picked.hex) is not based on \(manifest.commit)"
            )
        }
        let tree = try repo.treeOf(commit: picked)
        try Self.checkBinding(info, tree: tree, snapshot: picked, journal: runner.state.file("journal.git"))
        // Checked against the secrets known now, not those known when it was journaled.
        let outgoing = try OutgoingSecrets(scan.secrets ?? runner.secretsNow(forgotten: forgotten))
        let baseTree = try repo.treeOf(commit: base)
        if let hit = try outgoing.firstHit(tree: tree, baseTree: baseTree, repo: repo) {
            throw OutgoingSecrets.staleSnapshot(hit, id: info.id)
        }
        let requirements = runner.context?.baseline?.requirements.flatMap { $0.first == UInt8(ascii: "/") ? nil : $0 }
        return ExportSource(repo: repo, latest: latest, base: base, picked: picked, info: info, tree: tree,
                            outgoing: outgoing, requirements: requirements)
    }
}
