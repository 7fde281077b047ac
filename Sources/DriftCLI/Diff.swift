import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

extension Drift {
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Show code drift as a git diff against the base commit.",
            discussion: "Config and secret files show as '# drift: path: content withheld', "
                + "data files as old/new SHA-256. Exit 0 no drift, 1 drift, 2 error.")

        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var lockWait: WaitOptions
        @Argument(help: ArgumentHelp("Limit the diff to these paths (relative to the root).", valueName: "PATH"),
                  completion: .file())
        var paths: [String] = []

        func run() throws {
            var runner = ScanRunner(manifestDir: try manifest.directory, root: try workspace.rootPath(),
                                    state: try workspace.privateState())
            runner.clock = ProcessEnvironment.clock
            runner.environment = ProcessEnvironment.secretEnvironment()
            runner.waitSeconds = lockWait.wait
            var d = Differ(runner: runner)
            d.filters = try paths.map { Differ.filter(try CommandLineBytes.path($0)) }
            let out = try d.run()
            Output.stdout(out.header)
            Output.stdout(bytes: Output.useColor(fd: 1) ? Differ.colorize(out.patch) : out.patch)
            throw ExitCode(out.hasDrift ? ExitCodes.found : ExitCodes.ok)
        }
    }
}
