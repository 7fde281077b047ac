@testable import DriftCore
import DriftGit
import DriftSystem
import Foundation
import Testing

@Suite struct JournalBlobCacheTests {
    @Test("the blob cache is Sendable because it locks: writers on four threads lose nothing",
          .timeLimit(.minutes(1)))
    func concurrentWriters() throws {
        let cache = JournalBlobCache()
        cache.begin(journal: Array("/j".utf8), secrets: SecretIndex())
        let id = try #require(ObjectID(hex: String(repeating: "ab", count: 20)))
        let perThread = 5_000
        // Without the lock, four threads growing one dictionary corrupt it (a crash or lost keys).
        WorkerThreads.run(4) { t in
            for i in 0..<perThread {
                let d = Digest(hex: String(format: "%056x%08x", t, i))!
                cache.remember(d, id)
            }
        }
        #expect(cache.count == 4 * perThread)
        cache.end()
        #expect(cache.count == 4 * perThread)
        cache.begin(journal: Array("/other".utf8), secrets: SecretIndex())
        #expect(cache.count == 0)
    }
}
