import ArgumentParser
import DriftCore

extension Drift {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a patch bundle that re-applies the drift upstream.")
        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @Option(help: "Output directory.") var output: String
        func run() throws { throw DriftError("export: not implemented yet") }
    }
}
