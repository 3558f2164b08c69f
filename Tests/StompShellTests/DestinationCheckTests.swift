import XCTest
@testable import StompShell

/// ActiveMQ's destination rule as stompsh knows it (measured on 5.17.2; DestinationNameTests pins it on the broker).
final class DestinationCheckTests: XCTestCase {
    func testWhatActiveMQTakesADestinationAs() {
        let rows: [(String, String?)] = [
            ("/queue/a", nil), ("/queue/a\u{0}b", nil), ("/queue/a b", nil), ("/queue/a\tb", nil), ("/queue/ü", nil),
            ("/queue/a\u{0}", "/queue/a"), ("\u{0}/queue/a", "/queue/a"), ("/queue/\u{0}a", "/queue/a"),
            ("/queue/a \u{0} ", "/queue/a"), ("/queue/a\u{1}", "/queue/a"), (" /topic/ t ", "/topic/t"),
            ("/queue/ ", "/queue/"), ("  ", ""), ("a\n", "a"),
            // temporary destinations: only the ends (measured: a MESSAGE of `/temp-queue/ x` sent to a subscription of
            // `/temp-queue/ x` says `/temp-queue/ x`, and one of `/temp-queue/x` does not get it; so with BEL; they
            // were refused as `/temp-queue/x`)
            ("/temp-queue/\u{7}r", nil), ("/temp-queue/ r", nil), ("/temp-topic/ r", nil), ("/temp-queue/r ", "/temp-queue/r"),
            ("/exchange/ x", nil),  // no name rule for other prefixes: only the ends
        ]
        for (given, taken) in rows {
            XCTAssertEqual(DestinationCheck.activeMQName(given), taken, given.debugDescription)
        }
    }

    func testEveryDestinationArgumentIsChecked() throws {
        let resolve: VariableResolver = { name in ["nul": "\u{0}"][name] }
        for (line, column) in [("send /queue/a${nul} hi", 6), ("subscribe /queue/a${nul}", 11), ("move /queue/a /queue/b${nul}", 15),
                               ("bench send /queue/a${nul} -n 1", 12)] {
            let p = try XCTUnwrap(LineParser.parse(line, resolve: resolve), line)
            XCTAssertThrowsError(try DestinationCheck.checkForActiveMQ(p), line) { e in
                XCTAssertEqual((e as? ShellError)?.column, column, line)
            }
        }
        for line in ["send /queue/a hi", "send /queue/a ${nul}", "rpc call /queue/a add 1", "echo /queue/a "] {
            let p = try XCTUnwrap(LineParser.parse(line, resolve: resolve), line)
            XCTAssertNoThrow(try DestinationCheck.checkForActiveMQ(p), line)
        }
    }
}
