import ArgumentParser
import CProcessArgs
import DriftCore
import DriftGit
import DriftSystem

/// The `drift` command: keeps a running container honest about what it runs.
public struct Drift: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Detect, record and export drift of a deployed workspace from the image it was built from.",
        discussion: "Exit codes: 0 ok or clean, 1 drift found (gate: rejected; export: nothing to export), "
            + "2 error (bad input, nothing changed), 3 scan incomplete (unreadable entries, no drift), "
            + "75 another run holds the state lock. See docs/operations.md.",
        version: BuildInfo.text,
        subcommands: [ManifestCommand.self, Scan.self, Watch.self, Diff.self, Export.self, Push.self, Gate.self,
                      Status.self, Log.self, Prune.self, Forget.self])

    public init() {}

    /// Runs the command line with drift's exit codes: usage and input errors are 2.
    public static func runMain() -> Never {
        do {
            ProcessEnvironment.armTestHooks()
            var command = try parseAsRoot(processArguments())
            try command.run()
            exit(withError: nil)
        } catch let e as ExitCode {
            Drift.exit(withError: e)
        } catch {
            if let (code, line) = ExitCodes.code(for: error) {
                Output.stderr("drift: \(line)\n")
                Drift.exit(withError: ExitCode(code))
            }
            let code = exitCode(for: error)
            if code == .success || code == .validationFailure && isHelp(error) {
                Drift.exit(withError: error)
            }
            let first = usageLine(for: error).map { DriftError.neutralised($0) }
            Output.stderr(first.map { "drift: \($0)\n" } ?? "drift: invalid arguments\n")
            Drift.exit(withError: ExitCode(ExitCodes.error))
        }
    }

    private static func isHelp(_ error: Error) -> Bool { exitCode(for: error) == .success }

    /// ArgumentParser's first message line without its own `Error: ` prefix: drift's line
    /// already starts `drift: `, and one prefix is the rule for every error.
    static func usageLine(for error: Error) -> String? {
        guard var line = fullMessage(for: error).split(separator: "\n").first.map(String.init) else { return nil }
        if line.hasPrefix("Error: ") { line.removeFirst("Error: ".count) }
        return line.isEmpty ? nil : line
    }

    /// The arguments after argv[0], from the C library's argv rather than `CommandLine`: on
    /// Linux the Swift runtime may read them from /proc/self/cmdline, which a bare chroot lacks,
    /// and then drift saw no arguments at all and printed help with exit 0.
    static func processArguments() -> [String] {
        let argc = Int(drift_process_argc())
        guard argc > 0, let argv = drift_process_argv() else {
            if CommandLine.arguments.isEmpty {
                Output.stderr("drift: cannot read the command line (is /proc mounted?)\n")
                Drift.exit(withError: ExitCode(2))
            }
            return Array(CommandLine.arguments.dropFirst())
        }
        // Kept as bytes too: a path argument that is not UTF-8 reaches the file system as given.
        return CommandLineBytes.strings((1..<argc).map { i in
            argv[i].map { cStringBytes($0) } ?? []
        })
    }

    /// Parses and validates an argument vector without running it: nil when it would run,
    /// else the one `drift: …` line drift prints for it (the CLI fuzz target calls this).
    public static func checkArguments(_ argv: [String]) -> String? {
        do {
            _ = try parseAsRoot(argv)
            return nil
        } catch {
            if exitCode(for: error) == .success { return nil }
            return usageLine(for: error).map { "drift: \($0)" } ?? "drift: invalid arguments"
        }
    }
}

/// `--manifest MDIR` and `--public-key PEM`, shared by every verb that reads a manifest.
struct ManifestOptions: ParsableArguments {
    @Option(name: .customLong("manifest"),
            help: ArgumentHelp("Manifest directory (default: $DRIFT_MANIFEST, else /etc/drift).", valueName: "MDIR"),
            completion: .directory)
    var manifest: String?

    @Option(name: .customLong("public-key"),
            help: ArgumentHelp("Ed25519 public key (PEM): verify manifest.sig and every pinned file first "
                + "(default: $DRIFT_PUBLIC_KEY, else \(ManifestDirectory.defaultPublicKey) when it exists).",
                valueName: "PEM"),
            completion: .file(extensions: ["pem"]))
    var publicKey: String?

    /// The manifest directory, with the key to verify it: `--public-key`, `$DRIFT_PUBLIC_KEY`,
    /// else the root-owned default key when it exists (so cron, with no environment, verifies too).
    var directory: ManifestDirectory {
        get throws {
            let key = try publicKey.map(CommandLineBytes.path) ?? ProcessEnvironment.pathBytes("DRIFT_PUBLIC_KEY")
                ?? ManifestDirectory.trustedDefaultKey().map { Array($0.utf8) }
            return ManifestDirectory.locate([try manifest.map(CommandLineBytes.path),
                                             ProcessEnvironment.pathBytes("DRIFT_MANIFEST")], publicKey: key)
        }
    }
}

/// `--root` and `--state`, shared by scan, diff and export.
struct WorkspaceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Workspace root (default: the root recorded in the manifest).", valueName: "DIR"),
            completion: .directory)
    var root: String?

    /// `--root` as the bytes given on the command line (a name that is not UTF-8 included).
    func rootPath() throws -> [UInt8]? { try root.map(CommandLineBytes.path) }

    /// Where a failed run must not write: `--root`, else the root the manifest names (read
    /// unverified). `try?`: a command line or MDIR that cannot say leaves it unknown, and the
    /// failure record then goes only into a state dir that already exists.
    func failureRoot(_ manifest: ManifestOptions) -> [UInt8]? {
        (try? rootPath()) ?? (try? manifest.directory)?.unverifiedRoot()
    }

    @Option(help: ArgumentHelp("State directory (default: $DRIFT_STATE, else /var/lib/drift).", valueName: "SDIR"),
            completion: .directory)
    var state: String?

    /// `--state`, else `$DRIFT_STATE`, else the default, as the bytes given (a name that is
    /// not UTF-8 included, never repaired into another directory's name).
    var stateDirectory: StateDirectory {
        get throws {
            StateDirectory(path: try state.map(CommandLineBytes.path) ?? ProcessEnvironment.pathBytes("DRIFT_STATE"))
        }
    }

    /// The state dir for a verb that writes it: drift's files private from here on (umask
    /// 077), a directory of another user refused, one readable by others tightened to 0700
    /// and said so (docs/state.md).
    func privateState() throws -> StateDirectory {
        let dir = try stateDirectory
        PrivateDirectory.privateUmask()
        if case .tightened(let old) = try PrivateDirectory.secure(dir.path) {
            Output.stderr("drift: note: \(dir.shown): state directory was readable by others (mode "
                + "\(String(old, radix: 8))); changed to 0700\n")
        }
        return dir
    }
}

/// `--wait S`, shared by every verb that takes the state lock.
struct WaitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds to wait for another run's state lock (default 0).", valueName: "S"))
    var wait: Double = 0

    func validate() throws { try FlagBounds.wait(wait) }
}

/// `--wait S` of the verbs an operator runs by hand to write the state (`export`, `push`,
/// `forget`): a watcher recording a big batch holds the lock for seconds, so they wait a
/// minute by default rather than fail at once (exit 75 when that runs out).
struct WriteWaitOptions: ParsableArguments {
    /// The default wait of the writing verbs, in seconds.
    static let defaultSeconds: Double = 60

    @Option(help: ArgumentHelp("Seconds to wait for another run's state lock (0 tries once).",
                               valueName: "S"))
    var wait: Double = WriteWaitOptions.defaultSeconds

    func validate() throws { try FlagBounds.wait(wait) }
}

/// Output format of reports.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
