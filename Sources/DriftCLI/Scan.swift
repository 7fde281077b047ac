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
    struct Scan: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scan",
            abstract: "Compare the workspace with its manifest and record drift.",
            discussion: """
                Exit 0 clean, 1 drift (with --fail-on overdue: only when something is overdue), 2 error, \
                3 no drift but some entries unreadable (see errors), 75 another run holds the state lock past --wait.
                """)

        @OptionGroup var manifest: ManifestOptions
        @OptionGroup var workspace: WorkspaceOptions
        @Option(help: "Output format.") var format: ReportFormat = .text
        @Flag(help: "Ignore the stat cache and rehash every file.") var full = false
        @Flag(name: .customLong("no-watcher"),
              help: "Walk the tree even when a healthy drift watch could answer for it.")
        var noWatcher = false
        @OptionGroup var lockWait: WaitOptions
        @Option(help: ArgumentHelp("Append one JSON line per run to this file.", valueName: "FILE"),
                completion: .file())
        var log: String?
        @Option(help: ArgumentHelp("Write Prometheus metrics to this file (atomically), for node_exporter's textfile "
                                   + "collector.", valueName: "FILE"),
                completion: .file())
        var metrics: String?
        @Option(name: .customLong("fail-on"), help: "What makes the exit code 1: drift (default) or overdue.")
        var failOn: FailOn = .drift
        @Option(help: ArgumentHelp("""
            Upstream git repository (path or URL): exported drift whose Drift-Id its history carries \
            is shown as reconciled upstream, waiting for redeploy.
            """, valueName: "URL"))
        var upstream: String?
        @Option(name: .customLong("upstream-ref"),
                help: ArgumentHelp("The upstream branch or tag to read, short (main) or full (refs/heads/main); "
                                   + "default refs/heads/main.", valueName: "REF"))
        var upstreamRef = "refs/heads/main"
        @OptionGroup var pushOptions: PushOptions

        func run() throws {
            let upstream = try self.upstream.map(CommandLineBytes.remote)
            let state = try workspace.privateState()
            let target = FailureRecording.Target(verb: .scan, state: state,
                                                 root: workspace.failureRoot(manifest),
                                                 log: try log.map(CommandLineBytes.path),
                                                 metrics: try metrics.map(CommandLineBytes.path))
            try FailureRecording.run(target) { try scan(state, upstream: upstream) }
        }

        private func scan(_ state: StateDirectory, upstream: GitRemote?) throws {
            let started = Date()
            try OutputDirectory.require(try metrics.map(CommandLineBytes.path), flag: "--metrics")
            try OutputDirectory.require(try log.map(CommandLineBytes.path), flag: "--log")
            var runner = ScanRunner(manifestDir: try manifest.directory,
                                    root: try workspace.rootPath(),
                                    state: state)
            runner.full = full
            runner.clock = ProcessEnvironment.clock
            runner.environment = ProcessEnvironment.secretEnvironment()
            runner.waitSeconds = lockWait.wait
            runner.rowsAsRead = true
            if let upstream {
                let credentials = try pushOptions.load()
                runner.upstream = UpstreamSource(url: upstream, ref: upstreamRef, credentials: credentials)
            }
            let log = try self.log.map(CommandLineBytes.path)
            let metrics = try self.metrics.map(CommandLineBytes.path)
            runner.writeTargets = [(log, "log file"), (metrics, "metrics file")].compactMap { p, what in
                p.map { ($0, what) }
            }
            let (answered, watcher) = noWatcher ? (nil, nil) : try runner.askWatcher()
            var report: ScanReport
            var recovered: [(reason: String, message: String)] = []
            if let answered {
                report = answered
            } else {
                (report, recovered) = try walk(runner)
                runner.adoptWatcherToken(watcher)
            }
            report.watcher = watcher
            let code = ExitCodes.code(for: report.outcome(failingOn: failOn))
            let duration = Date().timeIntervalSince(started)
            let now = runner.clock.now()
            if let log {
                try Telemetry.append(try Telemetry.logLine(report, durationSeconds: duration, exitCode: code, now: now),
                                     toPath: log)
                for r in recovered {
                    try Telemetry.append(try WatchTelemetry.warningLine(r.reason, r.message, now: now, source: "scan"),
                                         toPath: log)
                }
            }
            if let metrics {
                RunFailure.clear(.scan, state: state)
                // The same series as the watcher's file, in its order: either may write it last.
                let text = Telemetry.metrics(report, durationSeconds: duration, now: now)
                    + WatchTelemetry.runningWatcherMetrics(state) + RunFailure.metrics(RunFailure.all(state))
                try AtomicFile.write(Array(text.utf8), toPath: metrics)
            }
            switch format {
            case .json: try ReportJSON.write(report) { Output.stdout(bytes: $0) }
            case .text:
                ReportText.render(report, color: Output.useColor(fd: 1)) { Output.stdout($0) }
                for note in report.bulkCodeNotes { Output.stderr("drift: note: " + note) }
            }
            throw ExitCode(code)
        }

        /// The normal scan: walk, compare, record. Also the recoveries it made (each said on stderr
        /// here, and in the `--log` after the scan's line): the log's `reason` and the message.
        private func walk(_ runner: ScanRunner) throws -> (ScanReport, [(reason: String, message: String)]) {
            var runner = runner
            let progress = Progress.start()
            runner.progress = progress?.counters
            let outcome = try runner.run()
            progress?.stop()
            if outcome.secrets.sourceCount == 0 { Output.stderr(ProcessEnvironment.noSecretSourcesNote) }
            if outcome.secretsLearned > 0 { Output.stderr(SecretIndex.learnedNote(outcome.secretsLearned)) }
            if let note = outcome.secrets.absentNote { Output.stderr(note) }
            var recovered: [(reason: String, message: String)] = []
            if let cause = outcome.stateRecovered { recovered.append(("state_recovered", cause.warning(runner.state))) }
            if let aside = outcome.journalSetAside { recovered.append(("journal_set_aside", aside.warning)) }
            for r in recovered { Output.stderr("drift: warning: \(r.message)\n") }
            return (outcome.report, recovered)
        }
    }
}

extension FailOn: ExpressibleByArgument {}
