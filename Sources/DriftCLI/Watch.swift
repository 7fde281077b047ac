import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

extension Drift {
    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "watch",
            abstract: "Record drift the moment it happens: a first scan, then inotify on the workspace "
                + "and site-packages.",
            discussion: """
                Settled changes are rescanned and recorded exactly as drift scan records them. SIGTERM/SIGINT: \
                record what is pending, exit 0; SIGHUP: re-read the manifest and policy. Exit 0 stopped by a signal, \
                2 error, 75 another drift watch uses the state dir. See docs/operations.md.
                """)

        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @Option(help: ArgumentHelp("Milliseconds a path must be quiet before it is rescanned (default 200; units "
                                   + "ms/s allowed).", valueName: "MS"))
        var settle: String = "200"
        @Option(name: .customLong("rescan-every"),
                help: ArgumentHelp("Full scan as a safety net this often (default 1h; e.g. 90s, 30m, 1h).",
                                   valueName: "DUR"))
        var rescanEvery: String = "1h"
        @Option(name: .customLong("degraded-rescan-every"),
                help: ArgumentHelp("While degraded (watch limit, unreadable directory, failed batch, no inotify), a "
                                   + "full scan at least this often (default 1m).", valueName: "DUR"))
        var degradedRescanEvery: String = "1m"
        @Option(help: ArgumentHelp("Append one JSON line per recorded batch (the scan's line) and per warning to this "
                                   + "file.", valueName: "FILE"),
                completion: .file())
        var log: String?
        @Option(help: ArgumentHelp("Write Prometheus metrics (the scan's, plus drift_watch_*) to this file, "
                                   + "atomically.", valueName: "FILE"),
                completion: .file())
        var metrics: String?

        func run() throws {
            var options = Watcher.Options()
            options.settleMs = try DurationText.milliseconds(settle, flag: "--settle", bareUnitMs: 1,
                                                             min: 0, max: 60_000)
            options.rescanEveryMs = try DurationText.milliseconds(rescanEvery, flag: "--rescan-every", bareUnitMs: 1000,
                                                                  min: 1000, max: 366 * 86_400_000)
            options.degradedEveryMs = try DurationText.milliseconds(degradedRescanEvery,
                                                                    flag: "--degraded-rescan-every",
                                                                    bareUnitMs: 1000, min: 1000, max: 366 * 86_400_000)
            options.log = try log.map(CommandLineBytes.path)
            options.metrics = try metrics.map(CommandLineBytes.path)
            try OutputDirectory.require(options.metrics, flag: "--metrics")
            try OutputDirectory.require(options.log, flag: "--log")
            var runner = ScanRunner(manifestDir: try manifest.directory, root: try workspace.rootPath(),
                                    state: try workspace.privateState())
            runner.clock = ProcessEnvironment.clock
            runner.environment = ProcessEnvironment.secretEnvironment()
            try Watcher(runner: runner, options: options).run()
        }
    }
}
