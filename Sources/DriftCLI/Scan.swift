import ArgumentParser
import DriftCore

extension Drift {
    struct Scan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the workspace with its manifest and record drift.",
            discussion: "Exit 0 clean, 1 drift, 2 error, 3 no drift but some entries unreadable (see errors).")

        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @Option(help: "Output format.") var format: ReportFormat = .text
        @Flag(help: "Ignore the stat cache and rehash every file.") var full = false

        func run() throws {
            var runner = ScanRunner(manifestDir: manifest.directory, root: workspace.root, state: workspace.stateDirectory)
            runner.full = full
            let outcome = try runner.run()
            switch format {
            case .json: Output.stdout(bytes: try JSONCoding.encode(outcome.report))
            case .text: Output.stdout(ReportText.render(outcome.report, color: Output.useColor(fd: 1)))
            }
            throw ExitCode(outcome.report.exitCode)
        }
    }
}
