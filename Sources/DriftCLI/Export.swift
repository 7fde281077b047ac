import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

extension Drift {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
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
        @OptionGroup var lockWait: WriteWaitOptions

        func run() throws {
            let push = try self.push.map(CommandLineBytes.remote)
            let state = try workspace.privateState()
            let root = workspace.failureRoot(manifest)
            var exported: Exporter.Summary?
            try FailureRecording.run(.init(verb: .export, state: state, root: root)) { exported = try export(state) }
            // The push is kept as a push: its failure is failed-push.json (the export stands),
            // and a later `drift push` that works clears it.
            if let remote = push, let s = exported {
                try FailureRecording.run(.init(verb: .push, state: state, root: root)) {
                    try send(s, to: remote, state: state)
                }
            }
        }

        /// Exports; returns what was exported.
        private func export(_ state: StateDirectory) throws -> Exporter.Summary {
            let mdir = try manifest.directory
            var runner = ScanRunner(manifestDir: mdir, root: try workspace.rootPath(), state: state)
            runner.waitSeconds = lockWait.wait
            runner.clock = ProcessEnvironment.clock
            runner.environment = ProcessEnvironment.secretEnvironment()
            var e = Exporter(runner: runner, output: try CommandLineBytes.path(output))
            e.author = author
            e.message = message
            e.fromJournal = fromJournal
            e.force = force
            e.cumulative = cumulative
            e.snapshot = snapshot
            let summary: Exporter.Summary?
            do {
                summary = try e.run()
            } catch let n as NothingExportable {
                Output.stderr("drift: \(n.message)\n")
                throw ExitCode(ExitCodes.found)
            }
            if let same = summary?.sameDrift, let s = summary { Output.stderr(Self.sameDriftNote(same, s)) }
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
                + " -> \(PathBytes.display(e.output))\n")
            if s.fromJournal {
                // Nothing read now vouches for these bytes (incident 13, F9): the journal's record
                // check is keyless, and a process in the container can write the state directory.
                Output.stderr("drift: note: exported from the journal as recorded, not read again from the workspace; "
                    + "a process in the container can write the journal: review drift.patch before it goes "
                    + "upstream (docs/journal.md)\n")
            }
            if !s.withheldCode.isEmpty { Output.stderr(Self.withheldNote(s.withheldCode)) }
            for note in s.bulkCode { Output.stderr("drift: note: " + note) }
            return s
        }

        private func send(_ s: Exporter.Summary, to remote: GitRemote, state: StateDirectory) throws {
            var p = Pusher(manifestDir: try manifest.directory, state: state, remote: remote,
                           credentials: try pushOptions.load())
            p.clock = ProcessEnvironment.clock
            p.waitSeconds = lockWait.wait
            p.root = try workspace.rootPath()
            p.environment = ProcessEnvironment.secretEnvironment()
            // The export's context and host: MDIR is not read again, the host not re-parsed.
            p.context = s.context
            p.host = s.host
            let (ref, pushed) = try p.push(id: s.id)
            Output.stdout(pushed ? "pushed \(ref) to \(remote.shown)\n"
                                 : "already pushed: \(ref) on \(remote.shown)\n")
        }

        /// Names the drifted code the export does not carry: an export of a hotfix whose every
        /// code path is withheld (a secret drift could not check) must not pass for the hotfix.
        static func withheldNote(_ paths: [[UInt8]]) -> String {
            let shown = paths.prefix(5).map { PathBytes.display($0) }.joined(separator: ", ")
                + (paths.count > 5 ? ", and \(paths.count - 5) more" : "")
            let n = paths.count
            return "drift: note: \(n) drifted code path\(n == 1 ? " is" : "s are") not in drift.patch or drift.bundle "
                + "(content withheld; report.json's withheld says why): \(shown); git am does not re-apply "
                + "\(n == 1 ? "it" : "them"): reconcile by hand, or remove what withholds "
                + "\(n == 1 ? "it" : "them") (drift scan) and export again\n"
        }

        /// Says plainly that this export is the same drift (same Drift-Id) as an earlier one of
        /// another shape, and which of the two the journal and `drift push` keep.
        static func sameDriftNote(_ same: Exporter.SameDrift, _ s: Exporter.Summary) -> String {
            let earlier = same.earlierFollows.map { "a follow-up of \($0)" } ?? "one commit on the base"
            let now = s.follows.map { "a follow-up of \($0)" } ?? "one commit on the base"
            var line = "drift: note: same drift as export \(s.id) made before as \(earlier) "
                + "(same state, same Drift-Id); "
            if same.sameShape && same.pushedTo.isEmpty {
                line += "only its author or message differ, and its files were handed out already, so the journal "
                    + "keeps it and drift push sends that one; this export is in the output directory only "
                    + "(export again without --author and --message to write that one's files)"
            } else if same.keptEarlier {
                line += "that one is already pushed to \(same.pushedTo.map(redact).joined(separator: ", ")), so the "
                    + "journal keeps it and drift push sends that one (already pushed there: nothing new); this "
                    + "export (\(now)) is in the output directory only"
            } else {
                line += "this export (\(now)) replaces it in the journal; drift push sends this one"
            }
            return line + "\n"
        }
    }
}
