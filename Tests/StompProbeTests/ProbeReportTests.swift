// The report card: summary, JSON round trip, text rendering, side-by-side comparison, stable cards and their diffs.

import Foundation
@testable import StompProbe
import XCTest

final class ProbeReportTests: XCTestCase {
    static func row(_ id: String, _ v: ProbeVerdict, key: String? = nil, observed: String = "did something") -> ProbeCheckResult {
        let group = ProbeGroup(rawValue: String(id.split(separator: ".")[0]))!
        return ProbeCheckResult(id: id, group: group, name: "title of \(id)", spec: "1.2 §X", observed: observed, key: key,
                                verdict: v, evidence: ["0.001 c1 >>> SEND destination:/queue/x"], seconds: 0.01)
    }

    static let sample = ProbeReport(url: "stomp://127.0.0.1:61613", server: "ActiveMQ/5.17.2", unreachable: false, prefix: "p",
                                    seconds: 3.25, results: [
                                        row("connect.version-1.2", .conforms, key: "version:1.2"),
                                        row("errors.unknown-command", .deviates, key: "ERROR, stays open"),
                                        row("extras.selector", .notSupported, key: "ignored"),
                                        row("extras.priority", .couldNotTell),
                                    ])

    func testSummaryCountsEveryVerdict() {
        XCTAssertEqual(Self.sample.summary, "4 checks: 1 conforms, 1 deviates, 1 not supported, 1 could not tell (3.2 s)")
        XCTAssertTrue(Self.sample.hasDeviations)
    }

    func testJSONRoundTripKeepsEveryField() throws {
        let data = try Self.sample.jsonData()
        XCTAssertEqual(try ProbeReport.decode(data), Self.sample)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("\"verdict\" : \"not supported\""), text)
        XCTAssertTrue(text.contains("\"spec\" : \"1.2 §X\""))
    }

    func testTextCardShowsGroupVerdictTitleSpecAndObservation() {
        let text = ProbeCardRenderer.text(Self.sample)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "stompsh probe stomp://127.0.0.1:61613 (server: ActiveMQ/5.17.2)")
        XCTAssertTrue(lines.contains("connect"))
        let row = lines.first { $0.hasPrefix("  unknown-command") }!
        XCTAssertTrue(row.contains(" deviates ") && row.contains("title of errors.unknown-command [1.2 §X]"), row)
        XCTAssertEqual(lines.last { !$0.isEmpty }, Self.sample.summary)
        XCTAssertFalse(text.contains(">>> SEND"), "evidence only with --verbose")
        XCTAssertTrue(ProbeCardRenderer.text(Self.sample, verbose: true).contains("      | 0.001 c1 >>> SEND destination:/queue/x"))
    }

    func testComparisonMarksOnlyTheRowsThatDiffer() {
        var other = Self.sample
        other.server = "RabbitMQ/3.10.8"
        other.results[1] = Self.row("errors.unknown-command", .conforms, key: "ERROR, closed")
        other.results.removeLast()
        let text = ProbeCardRenderer.comparison([Self.sample, other])
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].contains("ActiveMQ/5.17.2") && lines[0].contains("RabbitMQ/3.10.8"), lines[0])
        XCTAssertTrue(lines.contains { $0.hasPrefix("  connect.version-1.2") })
        XCTAssertTrue(lines.contains { $0.hasPrefix("* errors.unknown-command") && $0.contains("deviates: ERROR, stays open") })
        // A row one broker lacks differs too ("-").
        XCTAssertTrue(lines.contains { $0.hasPrefix("* extras.priority") && $0.hasSuffix("-") })
        XCTAssertEqual(lines.last, "2 of 4 checks differ (*)")
    }

    func testStableCardDropsTimingsEvidenceAndTheServerVersion() throws {
        let card = Self.sample.stableCard
        XCTAssertEqual(card.server, "ActiveMQ")
        XCTAssertEqual(card.checks.map(\.id), Self.sample.results.map(\.id))
        let json = String(decoding: try card.jsonData(), as: UTF8.self)
        XCTAssertFalse(json.contains("seconds") || json.contains("evidence") || json.contains("observed"), json)
        XCTAssertEqual(try JSONDecoder().decode(StableCard.self, from: card.jsonData()), card)
    }

    func testStableCardDifferencesNameTheRowExpectedAndGot() {
        let expected = Self.sample.stableCard
        var got = Self.sample
        got.results[1].key = "ERROR, closed"
        got.results[1].verdict = .conforms
        got.results.append(Self.row("extras.browser", .conforms, key: "browses"))
        got.results.remove(at: 0)
        let diff = got.stableCard.differences(from: expected)
        XCTAssertEqual(diff, [
            "- connect.version-1.2: missing",
            "- errors.unknown-command: deviates [ERROR, stays open]",
            "+ errors.unknown-command: conforms [ERROR, closed]",
            "+ extras.browser: new: conforms [browses]",
        ])
        XCTAssertEqual(Self.sample.stableCard.differences(from: expected), [])
    }
}
