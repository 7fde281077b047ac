/// What the gate decided for one ledger entry (`entries[].status`, docs/gate.md).
public enum GateStatus: String, Sendable, Codable, CaseIterable {
    /// REV holds it (`reason` says how).
    case reconciled
    /// Not upstream, but an unexpired policy waiver names it.
    case waived
    /// Not upstream and not waived: the gate rejects.
    case missing
}

/// How a ledger entry passed the gate (`entries[].reason`; absent when missing).
public enum GateReason: String, Sendable, Codable, CaseIterable {
    /// A commit in REV's history carries its `Drift-Id:` trailer.
    case trailer
    /// REV's tree holds every one of its code changes.
    case content
    /// An unexpired policy waiver names it.
    case waiver
}
