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
        default:
            let prefix = "over the ", suffix = "-byte size limit"
            if text.hasPrefix(prefix), text.hasSuffix(suffix),
               let n = Int64(text.dropFirst(prefix.count).dropLast(suffix.count)) {
                self = .overSizeLimit(n)
            } else {
                self = .other(text)
            }
        }
    }
}
