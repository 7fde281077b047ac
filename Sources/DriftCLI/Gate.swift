import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Drift {
    struct Gate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gate",
            abstract: "Reject a commit or an image while exported drift is not reconciled.",
            discussion: """
                Ledger mode (--repo, --ledger): every export under LDIR must be upstream in REV (Drift-Id trailer in \
                history, same content in the tree, or an unexpired waiver); code withheld from an export needs a \
                waiver; an entry whose base REV lacks, or whose id or ref name does not match its content, is \
                rejected. Image mode (--image-root): the image's \
                manifest verifies, its code is the commit's, no drift is baked in, site-packages match the pins. \
                Both can run in one call. Exit 0 ok, 1 rejected, 2 bad input (including a hostile ledger entry).
                """)

        @Option(help: ArgumentHelp("Upstream git repository.", valueName: "GITDIR"), completion: .directory)
        var repo: String?
        @Option(help: ArgumentHelp("Revision to gate.", valueName: "REV")) var commit: String = "HEAD"
        @Option(help: ArgumentHelp("Directory of exported bundles (as drift export writes them, any depth).",
                                   valueName: "LDIR"),
                completion: .directory)
        var ledger: String?
        @Flag(name: .customLong("ledger-refs"),
              help: "Also read the ledger from refs/drift/* of --repo (what drift push sends).")
        var ledgerRefs = false
        @Option(name: .customLong("ledger-ref-prefix"),
                help: ArgumentHelp("Refs for --ledger-refs: PREFIX and every ref under PREFIX/, whole components "
                                   + "(refs/drift/host-2 selects refs/drift/host-2/*, not refs/drift/host-20/*).",
                                   valueName: "PREFIX"))
        var ledgerRefPrefix: String = "refs/drift/"
        @Option(help: ArgumentHelp("Policy with waivers: [{id, reason, expires}].", valueName: "FILE"),
                completion: .file(extensions: ["yaml", "yml"]))
        var policy: String?
        @Option(help: "Output format: text, json or sarif.") var format: GateFormat = .text
        @Option(name: .customLong("image-root"),
                help: ArgumentHelp("Unpacked image filesystem to check.", valueName: "ROOTFS"), completion: .directory)
        var imageRoot: String?
        @Option(help: ArgumentHelp("The workspace's path inside the image (image mode; default: the root the "
                                   + "manifest recorded).", valueName: "PATH"))
        var workspace: String?
        @Option(name: .customLong("manifest"),
                help: ArgumentHelp("Manifest directory (image mode; default ROOTFS/etc/drift).", valueName: "MDIR"),
                completion: .directory)
        var manifest: String?
        @Option(name: .customLong("public-key"),
                help: ArgumentHelp("Ed25519 public key (PEM) the manifest must verify with (default: "
                                   + "$DRIFT_PUBLIC_KEY).", valueName: "PEM"),
                completion: .file(extensions: ["pem"]))
        var publicKey: String?

        func validate() throws {
            let ledgerMode = ledger != nil || ledgerRefs
            if imageRoot == nil && (repo == nil || !ledgerMode) {
                throw ValidationError("give --repo with --ledger and/or --ledger-refs, or --image-root, or both")
            }
            if (repo == nil) == ledgerMode { throw ValidationError("--repo goes with --ledger or --ledger-refs") }
        }

        func run() throws {
            let shownRepo = try repo.map { PathBytes.display(try CommandLineBytes.path($0)) }
            var report = DriftCore.Gate.Report(repo: shownRepo, commit: nil, ok: true, entries: [], image: nil)
            if let repo {
                var g = DriftCore.Gate(repo: try CommandLineBytes.path(repo),
                                       ledger: try ledger.map(CommandLineBytes.path))
                g.ledgerRefs = ledgerRefs ? ledgerRefPrefix : nil
                g.rev = commit
                g.policy = try policy.map { try Policy.load(path: CommandLineBytes.path($0)) }
                report = try g.run(now: ProcessEnvironment.clock.now())
            }
            if let root = try imageRoot.map(CommandLineBytes.path) {
                let key = try publicKey.map(CommandLineBytes.path) ?? ProcessEnvironment.pathBytes("DRIFT_PUBLIC_KEY")
                let mdir = ManifestDirectory.locate([try manifest.map(CommandLineBytes.path),
                                                     root.appending(text: "/etc/drift")], publicKey: key)
                var check = ImageCheck(rootfs: root, manifestDir: mdir)
                check.clock = ProcessEnvironment.clock
                check.workspace = try workspace.map(CommandLineBytes.path)
                let findings = try check.run()
                report.image = findings
                report.ok = report.ok && findings.allSatisfy(\.ok)
            }
            switch format {
            case .json: Output.stdout(bytes: try GateOutput.json(report))
            case .sarif: Output.stdout(bytes: try GateOutput.sarif(report, informationUri: BuildInfo.docsURL))
            case .text:
                let githubActions = ProcessInfo.processInfo.environment["GITHUB_ACTIONS"] == "true"
                Output.stdout(GateOutput.text(report, githubActions: githubActions))
            }
            throw ExitCode(report.ok ? ExitCodes.ok : ExitCodes.found)
        }
    }
}

enum GateFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif
}
