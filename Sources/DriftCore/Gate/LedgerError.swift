import DriftSystem

/// Where a ledger entry that failed a check came from.
public enum LedgerSource: Sendable, Equatable {
    /// An export directory, relative to the ledger.
    case entry(String)
    /// A ref of the gated repository.
    case ref(String)
}

extension DriftError {
    /// A ledger entry — an export directory under `--ledger` or a ref under `--ledger-refs` —
    /// that failed a check: untrusted input, named in one sentence (`ledger entry DIR: …`,
    /// `ledger ref REF: …`), with the code `.ledgerInvalid`, so a caller tells a failed check
    /// from any other error by its code, never by the words.
    /// - Parameters:
    ///   - source: the entry or ref (already shown as text).
    ///   - problem: what is wrong with it.
    public init(ledger source: LedgerSource, _ problem: String) {
        switch source {
        case .entry(let dir): self.init(.ledgerInvalid, "ledger entry \(dir): \(problem)")
        case .ref(let ref): self.init(.ledgerInvalid, "ledger ref \(ref): \(problem)")
        }
    }
}
