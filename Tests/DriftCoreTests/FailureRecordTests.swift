import Foundation
import DriftTestSupport
import Testing
@testable import DriftCore
@testable import DriftSystem

/// `try?` means "absent is fine", never "damaged is fine": a failure record that cannot be
/// read still counts as a failure (status and metrics say so).
@Suite struct FailureRecordTests {
    @Test("no record: no failure; a damaged record: a failure with an unknown exit code, naming the file")
    func damagedFailureRecord() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let state = StateDirectory(path: dir.path)
        #expect(RunFailure.all(state).isEmpty)
        try write(dir.sub(RunFailure.fileName(.export)), "{not json")
        let all = RunFailure.all(state)
        #expect(all.map(\.verb) == [.export])
        #expect(all.first?.exitCode == RunFailure.unknownExitCode)
        #expect(all.first?.message.contains("failed-export.json: failure record is unreadable") == true)
        #expect(RunFailure.metrics(all).contains("drift_last_run_failed{verb=\"export\"} 1"))
    }
}
