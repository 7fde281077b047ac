import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

extension Drift {
    struct ManifestCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "manifest",
            abstract: "Bake a manifest directory (create).",
            subcommands: [Create.self])
    }
}

extension Drift.ManifestCommand {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Bake a manifest of a workspace at image build time.")

        @Option(help: ArgumentHelp("Workspace root to record.", valueName: "DIR"), completion: .directory)
        var root: String
        @Option(help: ArgumentHelp("Git repository the workspace was built from.", valueName: "GITDIR"),
                completion: .directory)
        var repo: String
        @Option(help: ArgumentHelp("Revision the image was built from.", valueName: "REV")) var commit: String = "HEAD"
        @Option(help: ArgumentHelp("Policy file (default: the built-in policies/default.yaml).", valueName: "FILE"),
                completion: .file(extensions: ["yaml", "yml"]))
        var policy: String?
        @Option(name: .customLong("site-packages"),
                help: ArgumentHelp("A site-packages directory to baseline (repeatable).", valueName: "DIR"),
                completion: .directory)
        var sitePackages: [String] = []
        @Option(help: ArgumentHelp("Requirements file the environment was installed from.", valueName: "FILE"),
                completion: .file())
        var requirements: String?
        @Option(help: ArgumentHelp("Manifest directory to write.", valueName: "MDIR"), completion: .directory)
        var output: String
        @Option(name: .customLong("sign-key"),
                help: ArgumentHelp("Ed25519 private key (PEM) to sign manifest.txt with (writes manifest.sig).",
                                   valueName: "PEM"),
                completion: .file(extensions: ["pem"]))
        var signKey: String?

        func run() throws {
            var c = ManifestCreator(root: try CommandLineBytes.path(root), repo: try CommandLineBytes.path(repo),
                                    output: try CommandLineBytes.path(output))
            c.commit = commit
            c.policyPath = try policy.map(CommandLineBytes.path)
            c.sitePackages = try sitePackages.map(CommandLineBytes.path)
            c.requirements = try requirements.map(CommandLineBytes.path)
            c.signKey = try signKey.map(CommandLineBytes.path)
            let progress = Progress.start()
            c.progress = progress?.counters
            let s = try c.create()
            progress?.stop()
            Output.stdout("manifest: \(s.files) entries, \(s.bytes) bytes, commit \(s.commit) -> "
                          + "\(PathBytes.display(c.output))\n")
            if s.differing > 0 {
                // Baked all the same (an image may carry a deliberate difference): said once.
                let paths = s.differing == 1 ? "1 tracked path" : "\(s.differing) tracked paths"
                Output.stderr("drift: warning: \(PathBytes.display(text: root)) differs from commit "
                    + "\(s.commit.prefix(12)) in \(paths) (content, mode or missing): scans compare with the root as "
                    + "baked, drift diff and export diff against the commit; bake from a clean checkout of it\n")
            }
        }
    }
}
