import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// A writer SIGKILLed inside libgit2's ref update leaves `<ref>.lock` in the journal; the
/// next run, holding the state lock, knows nobody else is writing and removes it.
@Suite("stale journal locks") struct StaleLockTests {
    @Test("a journal ref lock left by a killed writer does not stop the next scan from recording")
    func staleRefLock() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 1' >> worker/util.py", cwd: f.workspace)
        #expect(try f.scan().0.code == 1)
        let journal = f.state + "/journal.git"
        let first = try sh("git --git-dir='\(journal)' rev-parse refs/heads/journal")
        // What a kill between libgit2's lock and rename leaves behind, for the branch, the
        // notes ref and the top-level packed-refs.
        for lock in ["refs/heads/journal.lock", "refs/notes/drift-snapshot.lock", "packed-refs.lock"] {
            try write(journal + "/" + lock, first)
        }
        try sh("echo 'y = 2' >> worker/main.py", cwd: f.workspace)
        let (r, _) = try f.scan()
        #expect(r.code == 1, "\(r.err)")
        let second = try sh("git --git-dir='\(journal)' rev-parse refs/heads/journal")
        #expect(second != first, "the second drift state was not recorded")
        for lock in ["refs/heads/journal.lock", "refs/notes/drift-snapshot.lock", "packed-refs.lock"] {
            #expect(!FileManager.default.fileExists(atPath: journal + "/" + lock), "\(lock) left")
        }
    }
}
