import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

/// `--credentials FILE`, shared by push and export --push.
struct PushOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Credential file (username=, password=, token=, ssh_key=, known_hosts=, ca_file= lines); default: \
        $DRIFT_GIT_USERNAME, $DRIFT_GIT_PASSWORD, $DRIFT_GIT_TOKEN, $DRIFT_GIT_SSH_KEY, $DRIFT_GIT_KNOWN_HOSTS, \
        $DRIFT_GIT_CA_FILE. See docs/journal.md.
        """, valueName: "FILE"), completion: .file())
    var credentials: String?
}

extension Drift {
    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the last export to refs/drift/<host>/<id> on a git remote.",
            discussion: """
                REMOTE: a path, file://, git://, ssh:// or https:// URL. Sends the export's ledger commit \
                (a parentless commit holding drift.patch, drift.bundle, report.json). Ids already pushed to \
                that remote, or already on it, are skipped. ssh host keys must be in ~/.ssh/known_hosts (or \
                $DRIFT_GIT_KNOWN_HOSTS). Exit 0, 2 on error (including a refused host key, certificate or \
                credentials, or a rejected ref).
                """)

        @Argument(help: ArgumentHelp("The git remote.", valueName: "REMOTE")) var remote: String
        @Option(help: ArgumentHelp("Export id to push (default: the last export).", valueName: "ID")) var id: String?
        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var push: PushOptions

        func run() throws {
            var p = Pusher(manifestDir: manifest.directory, state: try workspace.privateState(), remote: remote,
                           credentials: try GitCredentials.load(file: push.credentials))
            p.clock = ProcessEnvironment.clock
            let (ref, pushed) = try p.push(id: id)
            let shown = redact(remote)
            Output.stdout(pushed ? "pushed \(ref) to \(shown)\n" : "already pushed: \(ref) on \(shown)\n")
        }
    }
}
