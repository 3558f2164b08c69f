import Foundation
import StompProto
import XCTest
@testable import StompShell

/// Header names and values shown to a person: one line each, control characters visible, everything else as it is.
final class VisibleTextTests: XCTestCase {
    func testControlCharactersAreShownEscaped() {
        let values: [(String, String)] = [
            ("plain /queue/a ID:host-1:2", "plain /queue/a ID:host-1:2"), ("", ""), ("ünï ✓ é°", "ünï ✓ é°"),
            ("a\nb", #"a\nb"#), ("a\rb", #"a\rb"#), ("a\r\nb", #"a\r\nb"#), ("tab\there", #"tab\there"#),
            (#"back\slash"#, #"back\\slash"#), ("esc\u{1B}[2J", #"esc\x1B[2J"#), ("nul\u{0}", #"nul\x00"#),
            ("del\u{7F}", #"del\x7F"#), ("c1\u{85}\u{9B}", #"c1\u0085\u009B"#), ("nbsp\u{A0}", "nbsp\u{A0}"),
        ]
        for (raw, shown) in values {
            XCTAssertEqual(VisibleText.value(raw), shown, raw.debugDescription)
        }
        XCTAssertEqual(VisibleText.value("a:b"), "a:b", "a colon in a value is shown as it is")
        XCTAssertEqual(VisibleText.name("a:b"), "a:b", "a colon cannot break a line: shown as it is")
        XCTAssertEqual(VisibleText.name("x\n"), #"x\n"#)
    }

    /// Unicode's bidirectional controls (embeddings, overrides, isolates, marks) are invisible and reorder what
    /// follows on a terminal that applies them (a header value or destination could show as another, "Trojan
    /// Source"): shown as `\uHHHH`. They were shown as they are (a fake broker's server header, destination,
    /// message-id, RECEIPT id and ERROR message, each with U+202E).
    func testBidirectionalControlsAreShownEscaped() {
        let bidi: [UInt32] = [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
        for v in bidi {
            let c = String(Character(Unicode.Scalar(v)!))
            XCTAssertEqual(VisibleText.value("/queue/" + c + "txt.exe"), "/queue/\\u" + String(v, radix: 16, uppercase: true)
                           .leftPadded(4) + "txt.exe")
        }
        // the characters around them, and other non-ASCII text, as they are
        XCTAssertEqual(VisibleText.value("\u{2010}\u{2027}\u{2030}\u{2065}\u{206A}\u{061B}\u{061D} – € ✓ عربي"),
                       "\u{2010}\u{2027}\u{2030}\u{2065}\u{206A}\u{061B}\u{061D} – € ✓ عربي")
        let f = StompFrame(.message, headers: StompHeaders([("destination", "/queue/a\u{202E}b"), ("x", "\u{2067}y")]),
                           body: Array("hi".utf8))
        let text = FrameFormatter.pretty(f, color: nil)
        XCTAssertFalse(text.unicodeScalars.contains { bidi.contains($0.value) }, text)
        XCTAssertTrue(text.hasPrefix(#"MESSAGE /queue/a\u202Eb"#), text)
    }

    /// The quick scan (eight bytes at a time) says "no escape" only for text shown as it is: every character
    /// that is escaped, at every position in texts around the word boundaries.
    func testTheQuickScanMissesNoCharacterToEscape() {
        var special: [Unicode.Scalar] = (0..<0x20).map { Unicode.Scalar(UInt8($0)) } + ["\u{7F}", "\\"]
        special += (0x80..<0xA0).map { Unicode.Scalar(UInt32($0))! }
        special += [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
            .map { Unicode.Scalar(UInt32($0))! }
        for c in special {
            for length in 1...20 {
                for at in 0..<length {
                    let s = String(repeating: "a", count: at) + String(Character(c)) + String(repeating: "a", count: length - at - 1)
                    XCTAssertNotEqual(VisibleText.value(s), s, "\(s.debugDescription)")
                    XCTAssertNotEqual(VisibleText.name(s), s, "\(s.debugDescription)")
                }
            }
        }
    }

    /// The printer's one pass over the header lines it wrote (`\nNAME:VALUE` each): every byte that is not
    /// printable ASCII (LF aside) or a backslash, at every position, with LFs around it, is seen.
    func testThePrintersLineScanMissesNothing() {
        for length in 1...24 {
            for at in 0..<length {
                for b in (0...255).map(UInt8.init) where b != 0x0A {
                    var line = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    for k in stride(from: 0, to: length, by: 5) where k != at { line[k] = 0x0A }
                    line[at] = b
                    let expected = b < 0x20 || b >= 0x7F || b == 0x5C
                    let seen = line.withUnsafeBytes { ByteScan.mayNeedVisibleEscape($0) }
                    if expected { XCTAssertTrue(seen, "byte \(b) at \(at) of \(length)") }
                }
                // LFs alone and printable ASCII: no escape (the common frame stays on the byte path)
                var plain = [UInt8](repeating: UInt8(ascii: "m"), count: length)
                for k in stride(from: 0, to: length, by: 4) { plain[k] = 0x0A }
                XCTAssertFalse(plain.withUnsafeBytes { ByteScan.mayNeedVisibleEscape($0) }, "\(plain)")
            }
        }
    }

    /// A printed frame has one line per header (plain, in a batch, in colour), whatever its values hold; the
    /// command line's destination, ERROR message and RECEIPT id likewise.
    func testAFrameIsPrintedOneLinePerHeader() {
        let evil = "one\nforged:header\rtwo\u{1B}[2J"
        let frames = [
            StompFrame(.message, headers: StompHeaders([("destination", "/queue/a\nforged"), ("x-note", evil), ("na:me", "v"),
                                                        ("message-id", "m\u{85}1")]), body: Array("hi".utf8)),
            StompFrame(.error, headers: StompHeaders([("message", evil)]), body: []),
            StompFrame(.receipt, headers: StompHeaders([("receipt-id", evil)]), body: []),
        ]
        for f in frames {
            for color in [false, true] {
                let out = Output(color: color)
                let text = FrameFormatter.pretty(f, color: out)
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                XCTAssertEqual(lines.count, 1 + f.headers.count + (f.body.isEmpty ? 0 : 2), text)
                XCTAssertFalse(text.contains("\r"), text)
                XCTAssertFalse(text.replacingOccurrences(of: "\u{1B}[0m", with: "").contains("\u{1B}[2J"), text)
                XCTAssertFalse(lines.contains { $0.hasPrefix("forged") }, text)
                if !color {
                    XCTAssertEqual(lines[1...f.headers.count].map(String.init),
                                   f.headers.map { "\(VisibleText.name($0.name)):\(VisibleText.value($0.value))" })
                }
            }
        }
        XCTAssertTrue(FrameFormatter.pretty(frames[0], color: nil).hasPrefix(#"MESSAGE /queue/a\nforged"#))
        XCTAssertTrue(FrameFormatter.pretty(frames[0], color: nil).contains("na:me:v"))
        XCTAssertTrue(FrameFormatter.pretty(frames[1], color: nil).hasPrefix(#"ERROR one\nforged:header\rtwo\x1B[2J"#))
    }

    /// An ERROR quoted in an error message is one line too.
    func testAnErrorSummaryIsOneLine() {
        let f = StompFrame(.error, headers: StompHeaders([("message", "bad\nforged")]), body: Array("why\u{1B}[2J\nmore".utf8))
        XCTAssertEqual(FrameFormatter.errorSummary(f), #"bad\nforged (why\x1B[2J)"#)
    }
}

private extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
