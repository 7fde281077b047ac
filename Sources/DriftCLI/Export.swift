import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

extension Drift {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a patch bundle that re-applies the drift upstream.",
            discussion: "Writes ODIR/drift.patch (git am), ODIR/drift.bundle (git bundle v2) and ODIR/report.json, "
                + "mode 0600. Exit 0 written, 1 nothing to export, 2 error.")

        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @Option(help: ArgumentHelp("Output directory (must be empty or absent unless --force).", valueName: "ODIR"),
                completion: .directory)
        var output: String
        @Option(help: ArgumentHelp("Author of the exported commit, \"Name <email>\" (default: drift <drift@HOST>).",
                                   valueName: "N <e>"))
        var author: String?
        @Option(help: ArgumentHelp("Commit message: first line is the subject, the rest goes above drift's summary.",
                                   valueName: "TEXT"))
        var message: String?
        @Flag(name: .customLong("from-journal"),
              help: "Export the journal's latest snapshot without scanning the workspace.")
        var fromJournal = false
        @Flag(help: "Overwrite the files in a non-empty output directory.") var force = false
        @Flag(help: ArgumentHelp("""
            One commit with all drift on the base, even after an earlier export \
            (default: a follow-up commit on top of the previous export).
            """))
        var cumulative = false
        @Option(help: ArgumentHelp("Export this journal snapshot (its drift id, or commit) instead of the latest; "
                                   + "see drift log. Implies --from-journal.", valueName: "ID"))
        var snapshot: String?
        @Option(help: ArgumentHelp("""
            Also push the export's ledger commit to refs/drift/<host>/<id> \
            on this git remote (see drift push).
            """, valueName: "REMOTE"))
        var push: String?
        @OptionGroup var pushOptions: PushOptions
        @OptionGroup var lockWait: WaitOptions

        func run() throws {
            let state = try workspace.privateState()
            let target = FailureRecording.Target(verb: .export, state: state,
                                                 root: workspace.root ?? (try? manifest.directory)?.unverifiedRoot())
            try FailureRecording.run(target) { try export(state) }
        }

        private func export(_ state: StateDirectory) throws {
            let mdir = try manifest.directory
            var runner = ScanRunner(manifestDir: mdir, root: workspace.root, state: state)
            runner.waitSeconds = lockWait.wait
            runner.clock = ProcessEnvironment.clock
            runner.environment = ProcessEnvironment.secretEnvironment()
            var e = Exporter(runner: runner, output: output)
            e.author = author
            e.message = message
            e.fromJournal = fromJournal
            e.force = force
            e.cumulative = cumulative
            e.snapshot = snapshot
            let summary = try e.run()
            if summary?.secretSources == 0 { Output.stderr(ProcessEnvironment.noSecretSourcesNote) }
            if let restarted = summary?.restartedChain {
                Output.stderr("drift: note: export \(restarted) holds a secret drift knows now, so this export "
                    + "does not follow it: it starts a new chain on the base (cumulative); "
                    + "run drift forget to purge it\n")
            }
            if let replaced = summary?.replacedSnapshot {
                Output.stderr("drift: note: journal snapshot \(replaced) named this drift but did not hold what the "
                    + "scan read (the journal was changed outside drift); the export is built from the scan\n")
            }
            guard let s = summary else {
                Output.stderr("drift: nothing to export: no drift now and none recorded in the journal\n")
                throw ExitCode(ExitCodes.found)
            }
            let plural = s.paths == 1 ? "" : "s"
            let origin = s.fromJournal ? ", from the journal" : ""
            let follows = s.follows.map { ", follows \($0)" } ?? ""
            Output.stdout("exported drift \(s.id) (\(s.paths) path\(plural)\(origin)\(follows)) as commit \(s.commit)"
                + " -> \(output)\n")
            if let remote = push {
                var p = Pusher(manifestDir: mdir, state: state, remote: remote,
                               credentials: try GitCredentials.load(file: pushOptions.credentials))
                p.clock = ProcessEnvironment.clock
                p.waitSeconds = lockWait.wait
                p.root = workspace.root
                p.environment = runner.environment
                // The export's context and host: MDIR is not read again, the host not re-parsed.
                p.context = s.context
                p.host = s.host
                let (ref, pushed) = try p.push(id: s.id)
                Output.stdout(pushed ? "pushed \(ref) to \(redact(remote))\n"
                                     : "already pushed: \(ref) on \(redact(remote))\n")
            }
        }
    }
}
