// One row of the report card.

/// The outcome of one check: what the specification says, what the broker did, the verdict and the evidence.
public struct ProbeCheckResult: Sendable, Codable, Equatable {
    /// Stable identifier, `GROUP.NAME` (e.g. `errors.unknown-command`).
    public var id: String
    public var group: ProbeGroup
    /// What is checked, in a few words.
    public var name: String
    /// The specification's word on it: version and section (or "broker extension").
    public var spec: String
    /// What the broker did, one line.
    public var observed: String
    /// A short, stable summary of the observation (no timings), compared by the conformance tests; nil: nothing stable.
    public var key: String?
    public var verdict: ProbeVerdict
    /// The frames exchanged, trimmed, one per line (shown with --verbose).
    public var evidence: [String]
    /// How long the check took.
    public var seconds: Double
    /// The verdict depends on timing (left out of the stable card).
    public var timing: Bool

    public init(id: String, group: ProbeGroup, name: String, spec: String, observed: String, key: String?,
                verdict: ProbeVerdict, evidence: [String] = [], seconds: Double = 0, timing: Bool = false) {
        self.id = id; self.group = group; self.name = name; self.spec = spec; self.observed = observed
        self.key = key; self.verdict = verdict; self.evidence = evidence; self.seconds = seconds
        self.timing = timing
    }

    enum CodingKeys: String, CodingKey { case id, group, name, spec, observed, key, verdict, evidence, seconds, timing }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        group = try c.decode(ProbeGroup.self, forKey: .group)
        name = try c.decode(String.self, forKey: .name)
        spec = try c.decode(String.self, forKey: .spec)
        observed = try c.decode(String.self, forKey: .observed)
        key = try c.decodeIfPresent(String.self, forKey: .key)
        verdict = try c.decode(ProbeVerdict.self, forKey: .verdict)
        evidence = try c.decodeIfPresent([String].self, forKey: .evidence) ?? []
        seconds = try c.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
        timing = try c.decodeIfPresent(Bool.self, forKey: .timing) ?? false
    }
}
