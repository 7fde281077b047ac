import DriftSystem

/// A ledger entry — an export directory under `--ledger` or a ref under `--ledger-refs` —
/// that failed a check: untrusted input, named in one sentence (`ledger entry DIR: …`,
/// `ledger ref REF: …`). Its own type, so a caller tells a failed check from any other
/// error by type, never by the words.
public struct LedgerError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Where the entry came from.
    public enum Source: Sendable, Equatable {
        /// An export directory, relative to the ledger.
        case entry(String)
        /// A ref of the gated repository.
        case ref(String)
    }

    let source: Source
    /// What is wrong with it.
    let problem: String

    public init(_ source: Source, _ problem: String) {
        self.source = source
        self.problem = problem
    }

    /// One line, suitable to print as is after `drift: ` (control characters neutralised).
    public var message: String {
        switch source {
        case .entry(let dir): return DriftError.neutralised("ledger entry \(dir): \(problem)")
        case .ref(let ref): return DriftError.neutralised("ledger ref \(ref): \(problem)")
        }
    }

    public var description: String { message }
}
