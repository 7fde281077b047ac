import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

extension Drift {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One screen for a person on the instance: base, last scan, drift with age and deadline, exports.",
            discussion: "Reads the state dir only (run drift scan to refresh). Exit 0, or 2 on error.")

        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions

        func run() throws {
            Output.stdout(try StatusReport.render(manifestDir: manifest.directory,
                                                  state: workspace.stateDirectory,
                                                  now: ProcessEnvironment.clock.now()))
        }
    }
}
