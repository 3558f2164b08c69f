// A whole report card: the broker, the rows, the summary.

import Foundation

/// The report card of one broker.
public struct ProbeReport: Sendable, Codable, Equatable {
    /// The URL probed (passcode masked).
    public var url: String
    /// The CONNECTED `server` header of the first connection, if any.
    public var server: String?
    /// True when the probe could not connect at all (exit status 3).
    public var unreachable: Bool
    /// The destination prefix the checks used (`/queue/PREFIX...`, `/topic/PREFIX...`).
    public var prefix: String
    public var seconds: Double
    public var results: [ProbeCheckResult]
    /// The private queues the checks used (drained at the end of the run).
    public var queues: [String]

    public init(url: String, server: String?, unreachable: Bool, prefix: String, seconds: Double, results: [ProbeCheckResult],
                queues: [String] = []) {
        self.url = url; self.server = server; self.unreachable = unreachable; self.prefix = prefix
        self.seconds = seconds; self.results = results; self.queues = queues
    }

    enum CodingKeys: String, CodingKey { case url, server, unreachable, prefix, seconds, results, queues }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        server = try c.decodeIfPresent(String.self, forKey: .server)
        unreachable = try c.decodeIfPresent(Bool.self, forKey: .unreachable) ?? false
        prefix = try c.decode(String.self, forKey: .prefix)
        seconds = try c.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
        results = try c.decode([ProbeCheckResult].self, forKey: .results)
        queues = try c.decodeIfPresent([String].self, forKey: .queues) ?? []
    }

    /// How many rows got each verdict.
    public var counts: [ProbeVerdict: Int] {
        var c: [ProbeVerdict: Int] = [:]
        for r in results { c[r.verdict, default: 0] += 1 }
        return c
    }

    /// "42 checks: 30 conforms, 5 deviates, 4 not supported, 3 could not tell (12.3 s)".
    public var summary: String {
        let c = counts
        let parts = ProbeVerdict.allCases.map { "\(c[$0] ?? 0) \($0.rawValue)" }
        return "\(results.count) checks: \(parts.joined(separator: ", ")) (\(String(format: "%.1f", seconds)) s)"
    }

    public var hasDeviations: Bool { results.contains { $0.verdict == .deviates } }

    public func result(_ id: String) -> ProbeCheckResult? { results.first { $0.id == id } }

    /// The card as pretty, key-sorted JSON (what `--json` prints).
    public func jsonData() throws -> Data {
        try ProbeJSON.data(self)
    }

    public static func decode(_ data: Data) throws -> ProbeReport {
        try JSONDecoder().decode(ProbeReport.self, from: data)
    }

    /// The fields that do not change from run to run (no timings, no evidence, no prefix, no timing-dependent rows):
    /// what the committed expected cards hold (Tests/conformance/*.json).
    public var stableCard: StableCard {
        StableCard(server: server.map(StableCard.product(of:)),
                   checks: results.filter { !$0.timing }.map { StableCard.Row(id: $0.id, verdict: $0.verdict, key: $0.key) })
    }
}

/// The stable part of a report card, compared against the committed expected cards.
public struct StableCard: Sendable, Codable, Equatable {
    public struct Row: Sendable, Codable, Equatable {
        public var id: String
        public var verdict: ProbeVerdict
        public var key: String?
    }
    /// The broker's product name without its version ("ActiveMQ", "RabbitMQ", "stompsh-sandbox").
    public var server: String?
    public var checks: [Row]

    static func product(of server: String) -> String {
        String(server.split(separator: "/", maxSplits: 1).first ?? Substring(server))
    }

    public func jsonData() throws -> Data {
        try ProbeJSON.file(self)
    }

    /// One line per row that differs from `other` ("- id: ..." expected, "+ id: ..." actual); empty if equal.
    public func differences(from expected: StableCard) -> [String] {
        var lines: [String] = []
        if server != expected.server { lines.append("server: expected \(expected.server ?? "-"), got \(server ?? "-")") }
        let mine = Dictionary(checks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let theirs = Dictionary(expected.checks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for row in expected.checks {
            guard let got = mine[row.id] else { lines.append("- \(row.id): missing"); continue }
            if got != row {
                lines.append("- \(row.id): \(row.verdict.rawValue) [\(row.key ?? "")]")
                lines.append("+ \(row.id): \(got.verdict.rawValue) [\(got.key ?? "")]")
            }
        }
        for row in checks where theirs[row.id] == nil { lines.append("+ \(row.id): new: \(row.verdict.rawValue) [\(row.key ?? "")]") }
        return lines
    }
}
