import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

extension Drift {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "One screen for a person on the instance: base, last scan, drift with age and deadline, exports.",
            discussion: "Reads the state dir only (run drift scan to refresh). When the manifest does not load "
                + "or verify, prints what the state dir alone shows (watcher, failed runs) and exits 2.")

        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions

        func run() throws {
            do {
                Output.stdout(try StatusReport.render(manifestDir: try manifest.directory,
                                                      state: try workspace.stateDirectory,
                                                      now: ProcessEnvironment.clock.now()))
            } catch let p as PartialStatus {
                Output.stdout(p.text)
                throw p.cause
            }
        }
    }
}
