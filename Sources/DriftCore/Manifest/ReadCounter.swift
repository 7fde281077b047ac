import Synchronization

/// Counts how often a verb reads its inputs — MDIR (manifest and policy), `pip.json`,
/// `state.json` — so a test can show that each verb reads them once (one context per verb).
/// A test hook only: nil in every run of the CLI, and never a timing.
final class ReadCounter: Sendable {
    enum Input: Sendable, Hashable {
        /// `manifest.txt` and `policy.yaml`, read (and parsed) together.
        case manifestDirectory
        case pipBaseline
        case state
    }

    private let counts = Mutex<[Input: Int]>([:])

    init() {}

    func count(_ input: Input) { counts.withLock { $0[input, default: 0] += 1 } }

    func reads(_ input: Input) -> Int { counts.withLock { $0[input] ?? 0 } }
}
