import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

extension Drift {
    struct Forget: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forget",
            abstract: "Rewrite the journal so no object holds a secret drift knows now.",
            discussion: """
                Scans (so the secret sources are read now), then rewrites every snapshot whose content holds a \
                secret (the path becomes 'secret content', the snapshot gets a new Drift-Id), drops exports and \
                ledger commits that carried one, and replaces journal.git with a copy of what is left. Exit 0, \
                2 error, 75 locked. See docs/secrets.md.
                """)

        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var lockWait: WriteWaitOptions
        @Option(name: .customLong("release"), help: ArgumentHelp(
            "Stop withholding for a forgotten variable that will not come back (repeatable); no scan.",
            valueName: "NAME"))
        var release: [String] = []

        func run() throws {
            var runner = ScanRunner(manifestDir: try manifest.directory, root: try workspace.rootPath(),
                                    state: try workspace.privateState())
            runner.clock = ProcessEnvironment.clock
            runner.waitSeconds = lockWait.wait
            if !release.isEmpty {
                let done = try JournalForget(runner: runner).release(release.map { Array($0.utf8) })
                let text = done.names.isEmpty ? "none of them was remembered" : done.names.map(PathBytes.display)
                    .joined(separator: ", ")
                Output.stdout("forget: released \(text)\n")
                if !done.names.isEmpty {
                    // Released is not forgotten: a rotated token may still work at its vendor.
                    let held = done.holding.isEmpty ? "none holds it now"
                        : done.holding.map(PathBytes.display).joined(separator: ", ") + " (stays withheld)"
                    Output.stdout("forget: drifted content holding a released value stays withheld: \(held)\n")
                }
                return
            }
            runner.environment = ProcessEnvironment.secretEnvironment()
            let o = try JournalForget(runner: runner).run()
            let blobs = "\(o.blobs) blob\(o.blobs == 1 ? "" : "s")"
            let snaps = "\(o.snapshots) snapshot\(o.snapshots == 1 ? "" : "s")"
            Output.stdout("forget: removed \(blobs) holding a secret from the journal (\(snaps) rewritten)\n")
            if !o.exports.isEmpty {
                Output.stdout("forget: dropped \(o.exports.count) export(s) that carried one: "
                    + o.exports.joined(separator: ", ") + "\n")
            }
            if !o.unknownForgotten.isEmpty {
                let names = o.unknownForgotten.map(PathBytes.display).joined(separator: ", ")
                Output.stderr("drift: note: a remembered secret value of \(names) is not known to this run, so "
                    + "journaled content holding it was not looked for: run drift forget where it is known "
                    + "(docs/secrets.md, \"Forgotten sources remembered\")\n")
            } else if o.blobs == 0 && o.exports.isEmpty && o.rememberedValues > 0 {
                Output.stderr("drift: note: no journaled content held a secret value known to this run, "
                    + "including the \(o.rememberedValues) remembered after content was journaled "
                    + "(docs/secrets.md, \"Forgotten sources remembered\")\n")
            }
            for (remote, ids) in o.pushed.sorted(by: { $0.key < $1.key }) {
                Output.stderr("drift: warning: \(ids.joined(separator: ", ")) had been pushed to \(remote): "
                    + "the secret has left the box; rotate it and delete those refs there\n")
            }
        }
    }
}
