// The four verdict words of a probe's report card.

/// What a check concluded about the broker.
public enum ProbeVerdict: String, Sendable, Codable, CaseIterable, Comparable {
    /// The broker did what the specification (or, for an extension, the convention) says.
    case conforms
    /// The broker did something else than the specification says.
    case deviates
    /// The broker refused or ignored the feature (allowed where the feature is optional or an extension).
    case notSupported = "not supported"
    /// The probe could not decide: no answer in time, connection lost, destination refused, ...
    case couldNotTell = "could not tell"

    public static func < (a: ProbeVerdict, b: ProbeVerdict) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
