import ArgumentParser
import DriftCore

/// `--credentials FILE`, shared by push and export --push.
struct PushOptions: ParsableArguments {
    @Option(help: "Credential file (username=, password=, ssh_key= lines); default: $DRIFT_GIT_USERNAME, $DRIFT_GIT_PASSWORD, $DRIFT_GIT_SSH_KEY.")
    var credentials: String?
}

extension Drift {
    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the last export to refs/drift/<host>/<id> on a git remote.",
            discussion: "REMOTE: a path, file://, git://, ssh:// or https:// URL. Ids already pushed to that remote are skipped. Exit 0, 2 on error.")

        @Argument(help: "The git remote.") var remote: String
        @Option(help: "Export id to push (default: the last export).") var id: String?
        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var push: PushOptions

        func run() throws {
            let p = Pusher(manifestDir: manifest.directory, state: workspace.stateDirectory, remote: remote,
                           credentials: try GitCredentials.load(file: push.credentials))
            let (ref, pushed) = try p.push(id: id)
            Output.stdout(pushed ? "pushed \(ref) to \(redact(remote))\n" : "already pushed: \(ref) on \(redact(remote))\n")
        }
    }
}
