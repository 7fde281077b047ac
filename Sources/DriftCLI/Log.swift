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
            // Written a snapshot at a time: a journal of many large snapshots is never one
            // document in memory (incident 12, F15).
            case .text:
                try SnapshotLog.text(state: try workspace.stateDirectory, manifestDir: manifest.directory) {
                    Output.stdout($0)
                }
            case .json:
                try SnapshotLog.json(state: try workspace.stateDirectory, manifestDir: manifest.directory) {
                    Output.stdout(bytes: $0)
                }
            }
        }
    }
}
