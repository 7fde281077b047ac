import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

extension Drift {
    struct ManifestCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "manifest",
            abstract: "Bake and inspect manifests.",
            subcommands: [Create.self])
    }
}

extension Drift.ManifestCommand {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bake a manifest of a workspace at image build time.")

        @Option(help: "Workspace root to record.") var root: String
        @Option(help: "Git repository the workspace was built from.") var repo: String
        @Option(help: "Revision the image was built from.") var commit: String = "HEAD"
        @Option(help: "Policy file (default: the built-in policies/default.yaml).") var policy: String?
        @Option(name: .customLong("site-packages"), help: "A site-packages directory to baseline (repeatable).")
        var sitePackages: [String] = []
        @Option(help: "Requirements file the environment was installed from.") var requirements: String?
        @Option(help: "Manifest directory to write.") var output: String
        @Option(name: .customLong("sign-key"),
                help: "Ed25519 private key (PEM) to sign manifest.txt with (writes manifest.sig).")
        var signKey: String?

        func run() throws {
            var c = ManifestCreator(root: root, repo: repo, output: output)
            c.commit = commit
            c.policyPath = policy
            c.sitePackages = sitePackages
            c.requirements = requirements
            c.signKey = signKey
            let progress = Progress.start()
            c.progress = progress?.counters
            let s = try c.create()
            progress?.stop()
            Output.stdout("manifest: \(s.files) entries, \(s.bytes) bytes, commit \(s.commit) -> \(output)\n")
        }
    }
}
