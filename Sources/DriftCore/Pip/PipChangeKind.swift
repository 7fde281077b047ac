/// The kinds of site-packages drift (docs/pip.md, "Scan"). The raw values are the interface:
/// the report's `pip[].change`, the journal's `Drift-Pip:` lines and the metrics' labels.
public enum PipChangeKind: String, Sendable, Codable, CaseIterable {
    /// Installed after the bake.
    case added
    /// Uninstalled.
    case removed
    /// Version went up (PEP 440 ordering; any other version change when either is not PEP 440).
    case upgraded
    /// Version went down.
    case downgraded
    /// Installed (or reinstalled) editable.
    case editable
    /// RECORD-listed files whose size or SHA-256 no longer match, or forged pycs.
    case modified
    /// Files no RECORD lists that were not there at bake time.
    case unowned

    /// A requirements file can say this change (a pin, a removal, or a note for an editable).
    var isPinnable: Bool {
        switch self {
        case .added, .removed, .upgraded, .downgraded, .editable: return true
        case .modified, .unowned: return false
        }
    }
}
