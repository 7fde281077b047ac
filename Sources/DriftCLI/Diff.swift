import ArgumentParser
import DriftCore

extension Drift {
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show code drift as a git diff against the base commit.",
            discussion: "Config and secret files show as '# drift: path: content withheld', "
                + "data files as old/new SHA-256. Exit 0 no drift, 1 drift, 2 error.")

        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @Argument(help: "Limit the diff to these paths (relative to the root).") var paths: [String] = []

        func run() throws {
            var d = Differ(runner: ScanRunner(manifestDir: manifest.directory,
                                              root: workspace.root,
                                              state: workspace.stateDirectory))
            d.filters = paths.map { Array($0.utf8).filter { _ in true } }.map { p in
                var b = p
                while b.last == UInt8(ascii: "/") { b.removeLast() }
                while b.starts(with: [UInt8(ascii: "."), UInt8(ascii: "/")]) { b.removeFirst(2) }
                return b
            }
            let out = try d.run()
            Output.stdout(out.header)
            Output.stdout(bytes: Output.useColor(fd: 1) ? Differ.colorize(out.patch) : out.patch)
            throw ExitCode(out.hasDrift ? 1 : 0)
        }
    }
}
