import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

extension Drift {
    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log",
            abstract: "List every journal snapshot: time, drift id, paths, pip changes, exports.",
            discussion: """
                Newest first, from the state dir's journal (no scan, nothing written). \
                drift export --snapshot ID exports an older one. Exit 0, or 2 on error.
                """)

        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @Option(help: "Output format.") var format: ReportFormat = .text

        func run() throws {
            switch format {
            case .text:
                Output.stdout(try SnapshotLog.text(state: try workspace.stateDirectory,
                                                   manifestDir: manifest.directory))
            case .json:
                Output.stdout(bytes: try SnapshotLog.json(state: try workspace.stateDirectory,
                                                          manifestDir: manifest.directory))
            }
        }
    }
}
