import DriftSystem

/// Why a change is recorded by name (and hash) only, never by content. Typed, so code asks
/// `reason == .changedWhileRead`; the words (`text`) exist only where people read them:
/// scan text, `drift diff`'s `# drift:` lines, snapshot and export messages.
public enum WithholdReason: Sendable, Hashable {
    /// A config or data file: its class never carries content (`config`, `data`).
    case notCode(FileClass)
    /// A secret-class file (`secret`).
    case secret
    /// Code whose bytes are a secret's (`secret content`).
    case secretContent
    /// A code file over the policy's size limit (`over the N-byte size limit`).
    case overSizeLimit(Int64)
    /// Content that moved while it was read (`changed while read`): the next scan records it.
    case changedWhileRead
    /// Content drift could not read (`unreadable (Permission denied)`): withheld and retried by
    /// the next scan, never guessed at. The words are the cause alone (`FileReadError.causeText`).
    case unreadable(String)
    /// Code withheld because a secret file could not be read to check it for that secret's
    /// values (`secret files unreadable`); retried by the next scan.
    case secretsUnreadable
    /// A path libgit2 refuses as a tree entry (`name git cannot store`): a `.git` spelling
    /// (`.GIT`, `GIT~1`, `.git.`, …) in any component. Recorded by name and hash so one such
    /// path never stops the snapshot of everything else (`GitNames`).
    case nameGitCannotStore
    /// A file over the read limit (1 GiB) that was not read (`over the read limit`): its
    /// recorded "hash" is a fingerprint of size, mtime and data extents, not its SHA-256.
    case overReadLimit
    /// Bytecode drift (`bytecode`): a forged, sourceless or symlinked pyc is evidence for the
    /// instance, never upstream material: recorded by name and hash, never in a patch or bundle.
    case bytecode
    /// A reason written by another drift version: shown as is, never decided on.
    case other(String)

    /// The words people read (unchanged from the string reasons drift always wrote).
    public var text: String {
        switch self {
        case .notCode(let c): return c.rawValue
        case .secret: return "secret"
        case .secretContent: return "secret content"
        case .overSizeLimit(let n): return "over the \(n)-byte size limit"
        case .changedWhileRead: return "changed while read"
        case .secretsUnreadable: return "secret files unreadable"
        case .nameGitCannotStore: return "name git cannot store"
        case .bytecode: return "bytecode"
        case .overReadLimit: return "over the read limit"
        case .unreadable(let why): return "unreadable (" + Self.plain(why) + ")"
        case .other(let s): return s
        }
    }

    /// Reads the words back (a snapshot message or record); never fails: unknown words are `.other`.
    public init(text: String) {
        if let c = FileClass(rawValue: text), c != .code {
            self = .notCode(c)
            return
        }
        switch text {
        case "secret":
            self = .secret
        case "secret content":
            self = .secretContent
        case "changed while read":
            self = .changedWhileRead
        case "secret files unreadable":
            self = .secretsUnreadable
        case "name git cannot store":
            self = .nameGitCannotStore
        case "bytecode":
            self = .bytecode
        case "over the read limit":
            self = .overReadLimit
        default:
            let prefix = "over the ", suffix = "-byte size limit"
            if text.hasPrefix("unreadable ("), text.hasSuffix(")") {
                self = .unreadable(String(text.dropFirst("unreadable (".count).dropLast()))
            } else if text.hasPrefix(prefix), text.hasSuffix(suffix),
               let n = Int64(text.dropFirst(prefix.count).dropLast(suffix.count)) {
                self = .overSizeLimit(n)
            } else {
                // Words from another version (or a damaged record) are shown, never trusted: one line.
                self = .other(DriftError.neutralised(text))
            }
        }
    }

    /// Whether no hash of the content may leave either: a secret, a copy of one, or code that
    /// could not be checked for a secret's values (a hash is a guess oracle for a short secret).
    public var hidesHash: Bool {
        switch self {
        case .secret, .secretContent, .secretsUnreadable: return true
        default: return false
        }
    }

    /// Whether the next scan should try again: what moved or could not be read now may settle.
    public var retry: Bool {
        switch self {
        case .changedWhileRead, .unreadable, .secretsUnreadable: return true
        default: return false
        }
    }

    /// The words of a cause as a message line's detail can carry them: no `:` (the detail's
    /// separator), no `_` (a space there), no `(`/`)`, printable ASCII only.
    static func plain(_ words: String) -> String {
        String(words.unicodeScalars.map { u -> Character in
            let bad = u.value < 0x20 || u.value > 0x7E || ":_()".unicodeScalars.contains(u)
            return bad ? " " : Character(u)
        })
    }
}
