// The man page's PROBE section lists exactly the checks of the table, the groups and the verdict words.

import Foundation
import StompProbe
import XCTest

final class ProbeManPageTests: XCTestCase {
    static let manPage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("man/stompsh.1")

    func probeSection() throws -> [String] {
        let text = try String(contentsOf: Self.manPage, encoding: .utf8)
        var inside = false
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(".Sh ") { inside = line == ".Sh PROBE"; continue }
            if inside { lines.append(line) }
        }
        XCTAssertFalse(lines.isEmpty, "no PROBE section in man/stompsh.1")
        return lines
    }

    func testEveryCheckIsListedAndEveryListedCheckExists() throws {
        let listed = try probeSection().filter { $0.hasPrefix(".It Li ") }.map { String($0.dropFirst(7)) }
        XCTAssertEqual(listed, ProbeChecks.all.map(\.id), "the PROBE list follows the table, in order")
    }

    func testGroupsAndVerdictWordsAreNamed() throws {
        let section = try probeSection().joined(separator: "\n")
        for g in ProbeGroup.allCases { XCTAssertTrue(section.contains(".Cm \(g.rawValue)") || section.contains(" \(g.rawValue) ,") || section.contains(" \(g.rawValue)\n"), g.rawValue) }
        for v in ProbeVerdict.allCases { XCTAssertTrue(section.contains(".It Sy \(v.rawValue)"), v.rawValue) }
    }
}
