// A check: its identity and spec reference (the table feeds the card, `--only` and the man page), and the code that runs it.

/// What a check's code concludes.
public struct ProbeOutcome: Sendable {
    public var verdict: ProbeVerdict
    public var observed: String
    public var key: String?
    public init(_ verdict: ProbeVerdict, _ observed: String, key: String? = nil) {
        self.verdict = verdict; self.observed = observed; self.key = key
    }
}

/// Thrown by a check that cannot decide (connection refused, no answer in time ...): the row says "could not tell".
public struct ProbeInconclusive: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One check of the battery.
/// (The run closures are static functions: no captured state.)
public struct ProbeCheck: @unchecked Sendable {
    public var group: ProbeGroup
    /// Short name, unique in its group (the id is `GROUP.NAME`).
    public var name: String
    /// What it checks, in a few words (the card's "check" column).
    public var title: String
    /// Specification version and section, or "extension" for what the specification does not cover.
    public var spec: String
    /// Mostly waits (heart-beat timing, idle timeouts): runs on its own thread beside the others.
    public var background: Bool
    /// Its verdict depends on timing (the machine's load, a time budget): left out of the stable card.
    public var timing: Bool
    public var run: (ProbeContext) throws -> ProbeOutcome

    public var id: String { "\(group.rawValue).\(name)" }

    public init(_ group: ProbeGroup, _ name: String, _ title: String, spec: String, background: Bool = false, timing: Bool = false,
                run: @escaping (ProbeContext) throws -> ProbeOutcome) {
        self.group = group; self.name = name; self.title = title; self.spec = spec; self.background = background
        self.timing = timing; self.run = run
    }
}

/// The whole battery, in report order.
public enum ProbeChecks {
    public static var all: [ProbeCheck] {
        ConnectChecks.all + FramingChecks.all + DeliveryChecks.all + ReceiptChecks.all + TransactionChecks.all
            + ErrorChecks.all + ReplyChecks.all + ExtrasChecks.all
    }
}
