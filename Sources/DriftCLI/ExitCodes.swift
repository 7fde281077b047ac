import ArgumentParser
import DriftCore
import DriftGit
import DriftSystem

/// The one map from what happened to the process's exit code. Nothing below the CLI picks
/// a number: the layers throw typed errors and return typed outcomes.
///
/// 0 ok or clean · 1 drift found (gate: rejected; export: nothing to export) · 2 error (bad
/// input, nothing changed) · 3 scan incomplete (unreadable entries, no drift) · 75 another
/// run holds the state lock (EX_TEMPFAIL).
enum ExitCodes {
    static let ok: Int32 = 0
    static let found: Int32 = 1
    static let error: Int32 = 2
    static let incomplete: Int32 = 3
    static let busy: Int32 = 75

    /// A scan's outcome as `drift scan` exits with it.
    static func code(for outcome: ScanOutcome) -> Int32 {
        switch outcome {
        case .clean: return ok
        case .drift: return found
        case .incomplete: return incomplete
        }
    }

    /// A thrown error's code and its one line for stderr; nil for errors ArgumentParser
    /// renders itself (usage, help, `ExitCode`). Decided by the error's `DriftError.Code`, or
    /// by the type of a lower layer's error that reached the command line unwrapped.
    static func code(for error: Error) -> (code: Int32, line: String)? {
        switch error {
        case let e as DriftError: return (code(for: e.code), e.message)
        case let e as GitError: return (ExitCodes.error, e.description)
        case let e as FileReadError: return (ExitCodes.error, DriftError.neutralised(e.description))
        case let e as Errno: return (ExitCodes.error, DriftError.neutralised("\(e)"))
        default: return nil
        }
    }

    /// The exit code of each kind of failure. No `default`: a new code does not compile until
    /// its exit code is chosen here.
    static func code(for code: DriftError.Code) -> Int32 {
        switch code {
        case .lockBusy: return busy
        case .walkLimit: return incomplete
        case .usage, .manifestInvalid, .signatureInvalid, .policyInvalid, .stateDamaged, .unreadable,
             .unsafeTarget, .io, .gitFailure, .pipInvalid, .ledgerInvalid, .network, .credentials,
             .secretWithheld, .notFound, .malformedID, .crypto, .internal:
            return error
        }
    }
}
