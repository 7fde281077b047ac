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

    /// `--credentials` as the bytes given (a name that is not UTF-8 included).
    func credentialsFile() throws -> [UInt8]? {
        try credentials.map(CommandLineBytes.path)
    }

    /// The credentials `--credentials` or the environment give; without `--credentials`, the
    /// box's push credential file, when there, is named by a refused host key's message.
    func load() throws -> GitCredentials {
        var c = try GitCredentials.load(fileBytes: credentialsFile())
        let conventional = Array(ProcessEnvironment.pushCredentialsFile.utf8)
        if credentials == nil, !FileSystem.isAbsent(conventional) { c.unusedFile = conventional }
        return c
    }
}

extension Drift {
    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "push",
            abstract: "Send exports not yet on a git remote to refs/drift/<host>/<id>, oldest first.",
            discussion: """
                REMOTE: a path, file://, git://, ssh:// or https:// URL. Sends each export's ledger commit \
                (a parentless commit holding drift.patch, drift.bundle, report.json): without --id every \
                export of the local ledger not yet pushed to that remote, oldest first. Ids already pushed to \
                that remote, or already on it, are skipped. ssh host keys must be in ~/.ssh/known_hosts (or \
                $DRIFT_GIT_KNOWN_HOSTS, or known_hosts= in --credentials). Output names the remote with its \
                user; a password or token in the URL shows as ***. Exit 0, 2 on error (including a refused \
                host key, certificate or credentials, or a rejected ref), 75 another run holds the state lock.
                """)

        @Argument(help: ArgumentHelp("The git remote.", valueName: "REMOTE")) var remote: String
        @Option(help: ArgumentHelp("Export id to push (default: every export not yet pushed there, oldest first).",
                                   valueName: "ID")) var id: String?
        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var push: PushOptions
        @OptionGroup var lockWait: WriteWaitOptions
        @Option(help: ArgumentHelp("Append one JSON line per run (pushed, already pushed, or the error) to this file.",
                                   valueName: "FILE"),
                completion: .file())
        var log: String?

        func run() throws {
            let remote = try CommandLineBytes.remote(self.remote)
            let state = try workspace.privateState()
            let target = FailureRecording.Target(verb: .push, state: state,
                                                 root: workspace.failureRoot(manifest),
                                                 log: try log.map(CommandLineBytes.path))
            try FailureRecording.run(target) { try send(state, to: remote, root: target.root, log: target.log) }
        }

        private func send(_ state: StateDirectory, to remote: GitRemote, root: [UInt8]?, log: [UInt8]?) throws {
            if let log, let root { _ = try WriteTarget.refuseInside(root: root, targetBytes: log, what: "log file") }
            var p = Pusher(manifestDir: try manifest.directory, state: state, remote: remote,
                           credentials: try push.load())
            p.clock = ProcessEnvironment.clock
            p.waitSeconds = lockWait.wait
            p.root = try workspace.rootPath()
            p.environment = ProcessEnvironment.secretEnvironment()
            // `--id` is parsed here, at the edge: a malformed id is `malformedID` (exit 2).
            // Without `--id`: every export not yet on this remote, oldest first.
            let results = try id.map { text throws in [try p.push(id: try DriftID(parsing: text))] }
                ?? p.pushUnpushed()
            let shown = remote.shown
            for (ref, pushed) in results {
                Output.stdout(pushed ? "pushed \(ref) to \(shown)\n" : "already pushed: \(ref) on \(shown)\n")
                if let log {
                    let line = PushLogLine(time: Timestamp.format(p.clock.now()), ref: ref, remote: shown,
                                           pushed: pushed)
                    try Telemetry.append(try JSONCoding.encode(line, pretty: false), toPath: log)
                }
            }
        }
    }
}

/// `drift push --log`'s line for a push that worked (a failure writes `RunFailure`'s).
struct PushLogLine: Encodable {
    var time: String
    var verb = "push"
    var exitCode: Int32 = 0
    var ref: String
    var remote: String
    var pushed: Bool
    enum CodingKeys: String, CodingKey {
        case time, verb, ref, remote, pushed
        case exitCode = "exit_code"
    }
}
