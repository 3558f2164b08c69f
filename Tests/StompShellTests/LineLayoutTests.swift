import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import StompShell

/// LineLayout, the line editor's pure logic: the prompt's escapes as libedit literals, where libedit puts the
/// cursor and the line's end (refresh.c's rules), and completion's common prefix and columns.
final class LineLayoutTests: XCTestCase {
    func wide(_ s: String) -> [wchar_t] { s.unicodeScalars.map { wchar_t(bitPattern: $0.value) } }

    func testPromptLiterals() {
        let m: wchar_t = 1
        XCTAssertEqual(LineLayout.promptWithLiterals("db> ", marker: m), wide("db> "))
        // SGR sequences become literals attached to the next visible character.
        XCTAssertEqual(LineLayout.promptWithLiterals("\u{1B}[1;32mdb\u{1B}[0m> ", marker: m),
                       [1] + wide("\u{1B}[1;32m") + [1] + wide("db") + [1] + wide("\u{1B}[0m") + [1] + wide("> "))
        // A trailing sequence (libedit would drop it) moves before the last visible character.
        XCTAssertEqual(LineLayout.promptWithLiterals("\u{1B}[32mdb> \u{1B}[0m", marker: m),
                       [1] + wide("\u{1B}[32m") + [1] + wide("db>") + [1] + wide("\u{1B}[0m") + [1] + wide(" "))
        // Newlines and stray markers are removed.
        XCTAssertEqual(LineLayout.promptWithLiterals("a\nb\u{1}> ", marker: m), wide("ab> "))
    }

    func testLayoutMatchesLibedit() {
        LineEditor.setUTF8Locale()   // as LineEditor.init does: wcwidth needs it
        let prompt = wide("db> ")    // 4 columns
        func lay(_ s: String, cursor: Int? = nil, cols: Int = 10) -> (LineLayout.Pos, LineLayout.Pos) {
            let b = wide(s)
            let r = LineLayout.layout(prompt: prompt, marker: 1, buffer: b, cursor: cursor ?? b.count, columns: cols)
            return (r.cursor, r.end)
        }
        XCTAssertEqual(lay("").1, .init(v: 0, h: 4))
        XCTAssertEqual(lay("abcde").1, .init(v: 0, h: 9))
        XCTAssertEqual(lay("abcdef").1, .init(v: 1, h: 0), "exactly full row: the cursor wraps")
        XCTAssertEqual(lay("abcdefghijklmnop").1, .init(v: 2, h: 0))
        XCTAssertEqual(lay("abcdefghijk", cursor: 2).0, .init(v: 0, h: 6))
        XCTAssertEqual(lay("abcdefghijk", cursor: 7).0, .init(v: 1, h: 1))
        // A double-width character that does not fit goes to the next row.
        XCTAssertEqual(lay("abcde日x").1, .init(v: 1, h: 3))
        XCTAssertEqual(lay("abcde日x", cursor: 5).0, .init(v: 1, h: 0))
        // Control characters are shown as ^X, tabs expand to the next multiple of 8.
        XCTAssertEqual(lay("a\u{1}", cols: 80).1, .init(v: 0, h: 7))
        XCTAssertEqual(lay("a\tb", cols: 80).1, .init(v: 0, h: 9))
        // Literals (colours) in the prompt take no room.
        let colored = LineLayout.promptWithLiterals("\u{1B}[32mdb\u{1B}[0m> ", marker: 1)
        XCTAssertEqual(LineLayout.layout(prompt: colored, marker: 1, buffer: wide("abcdef"), cursor: 6, columns: 10).end,
                       .init(v: 1, h: 0))
    }

    func testCommonPrefixAndColumns() {
        XCTAssertEqual(LineLayout.commonPrefix(["subscribe", "sub", "subx"]), "sub")
        XCTAssertEqual(LineLayout.commonPrefix(["a", "b"]), "")
        XCTAssertEqual(LineLayout.commonPrefix(["/queue/a"]), "/queue/a")
        XCTAssertEqual(LineLayout.columnize(["a", "bb", "ccc"], width: 80), "a    bb   ccc")
        XCTAssertEqual(LineLayout.columnize(["a", "bb", "ccc", "d"], width: 10), "a    ccc\nbb   d")
        XCTAssertEqual(LineLayout.columnize(["longword"], width: 3), "longword")
    }
}
