/// What the gate decided for one ledger entry (`entries[].status`, docs/gate.md).
public enum GateStatus: String, Sendable, Codable, CaseIterable {
    /// REV holds it (`reason` says how).
    case reconciled
    /// Not upstream, but an unexpired policy waiver names it.
    case waived
    /// Not upstream and not waived: the gate rejects.
    case missing
    /// Its code in the patch is upstream, but code withheld from the patch (secret content,
    /// unreadable, …) cannot be checked: rejected until a waiver names it.
    case withheld
    /// REV's history does not contain the entry's base (the image's commit): rejected.
    case noBase = "no-base"
    /// The entry is not what it claims: its Drift-Id does not match its content, or its
    /// ref's name does not match its host or id. Rejected; no waiver passes it.
    case invalid
}

/// How a ledger entry passed the gate (`entries[].reason`; absent when rejected).
public enum GateReason: String, Sendable, Codable, CaseIterable {
    /// A commit in REV's history carries its `Drift-Id:` trailer.
    case trailer
    /// REV's tree holds every one of its code changes.
    case content
    /// An unexpired policy waiver names it.
    case waiver
    /// A later export from the same host follows it and changed again every path it still
    /// had to bring upstream; that later entry is judged instead.
    case superseded
    /// Its whole change is already in REV's tree, though not blob for blob (the same hotfix
    /// made upstream, and the files changed since): its reverse applies cleanly on REV's tree.
    case contained
}
