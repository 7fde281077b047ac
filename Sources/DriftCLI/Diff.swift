import ArgumentParser
import DriftCore

extension Drift {
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show code drift as a git diff against the base commit.")
        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @Argument(help: "Limit the diff to these paths.") var paths: [String] = []
        func run() throws { throw DriftError("diff: not implemented yet") }
    }
}
