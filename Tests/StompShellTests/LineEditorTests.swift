import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import StompShell

/// The line-editing layer without a terminal: History, PlainLineReader and
/// WakeUp/Interrupt (LineLayout's pure logic: LineLayoutTests). The live terminal
/// behaviour is tested in tmux by Tests/shell/tmux_live_output.sh.
final class LineEditorTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/stompsh-le-XXXXXX".utf8CString)
        let p = try XCTUnwrap(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) })
        dir = String(cString: p)
    }

    override func tearDown() {
        if !dir.isEmpty {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] { unlink(dir + "/" + name) }
            rmdir(dir)
        }
    }

    func fileText(_ path: String) -> String? {
        History.readFile(path).map { String(decoding: $0, as: UTF8.self) }
    }

    func mode(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        return st.st_mode & 0o777
    }

    // MARK: History

    func testHistorySaveLoadRoundTrip() {
        let path = dir + "/hist"
        let h = History(path: path)
        h.autoSave = false
        h.add("connect stomp://localhost")
        h.add("send /queue/a héllo wörld")
        h.add("send /queue/a back\\slash and\nnewline")
        XCTAssertTrue(h.save())
        let h2 = History(path: path)
        h2.load()
        XCTAssertEqual(h2.entries, h.entries)
        XCTAssertEqual(h2.entries.count, 3)
        XCTAssertEqual(fileText(path)?.split(separator: "\n").count, 3, "a multi-line entry is one line in the file")
    }

    func testHistoryFileMode0600() {
        let path = dir + "/hist"
        let h = History(path: path)
        h.add("status")        // autoSave appends
        XCTAssertEqual(mode(path), 0o600)
        chmod(path, 0o644)
        XCTAssertTrue(h.save())
        XCTAssertEqual(mode(path), 0o600, "save() replaces a too-open file with a 0600 one")
        chmod(path, 0o644)
        h.add("help")
        XCTAssertEqual(mode(path), 0o600, "append tightens the mode too")
    }

    func testHistoryLimitInMemoryAndOnDisk() {
        let path = dir + "/hist"
        let h = History(path: path, maxEntries: 5)
        for i in 1...12 { h.add("cmd \(i)") }
        XCTAssertEqual(h.entries, (8...12).map { "cmd \($0)" })
        XCTAssertTrue(h.save())
        XCTAssertEqual(fileText(path), (8...12).map { "cmd \($0)\n" }.joined())
        // A longer file (another session, a bigger limit) loads its last maxEntries lines.
        let big = History(path: path, maxEntries: 100)
        big.autoSave = false
        big.load()
        for i in 13...40 { big.add("cmd \(i)") }
        XCTAssertTrue(big.save())
        let small = History(path: path, maxEntries: 3)
        small.load()
        XCTAssertEqual(small.entries, ["cmd 38", "cmd 39", "cmd 40"])
        small.maxEntries = 2
        XCTAssertEqual(small.entries, ["cmd 39", "cmd 40"])
    }

    func testHistoryAutoSaveAppendsAndStaysBounded() {
        let path = dir + "/hist"
        let h = History(path: path, maxEntries: 10)
        for i in 1...200 { h.add("line \(i)") }
        let lines = fileText(path)?.split(separator: "\n").map(String.init) ?? []
        XCTAssertEqual(lines.last, "line 200")
        XCTAssertLessThanOrEqual(lines.count, 10 + 50 + 1, "the file is compacted now and then")
        let h2 = History(path: path, maxEntries: 10)
        h2.load()
        XCTAssertEqual(h2.entries, (191...200).map { "line \($0)" })
    }

    func testHistoryIgnoresBlankAndRepeatedLines() {
        let h = History(path: nil)
        h.add("")
        h.add("   ")
        h.add("status")
        h.add("status")
        h.add("help\n")
        h.add("status")
        XCTAssertEqual(h.entries, ["status", "help", "status"])
    }

    func testHistoryMissingFileIsEmptyAndNilPathIsMemoryOnly() {
        let h = History(path: dir + "/does-not-exist")
        h.load()
        XCTAssertEqual(h.entries, [])
        XCTAssertNil(h.lastError)
        let m = History(path: nil)
        m.add("x")
        XCTAssertTrue(m.save())
        m.load()
        XCTAssertEqual(m.entries, ["x"])
    }

    func testHistoryUnwritablePathReportsError() {
        let h = History(path: dir + "/no/such/dir/hist")
        h.autoSave = false
        h.add("x")
        XCTAssertFalse(h.save())
        XCTAssertNotNil(h.lastError)
    }

    func testHistoryEscaping() {
        for s in ["plain", "a\\b", "a\\nb", "two\nlines", "cr\rhere", "trailing\\", "C:\\new\\path"] {
            XCTAssertEqual(History.unescape(History.escape(s)), s)
            XCTAssertFalse(History.escape(s).contains("\n"))
        }
        XCTAssertEqual(History.unescape("C:\\path"), "C:\\path", "unknown escapes are kept")
    }

    func testHistoryDefaultPath() {
        XCTAssertEqual(History.defaultPath(environment: ["STOMPSH_HISTFILE": "/x/h", "HOME": "/home/u"]), "/x/h")
        XCTAssertNil(History.defaultPath(environment: ["STOMPSH_HISTFILE": "", "HOME": "/home/u"]))
        XCTAssertEqual(History.defaultPath(environment: ["HOME": "/home/u"]), "/home/u/.stompsh_history")
        XCTAssertEqual(History.defaultPath(environment: ["HOME": "/home/u/"]), "/home/u/.stompsh_history")
    }

    func testHistoryObserverSeesAddsAndResets() {
        let path = dir + "/hist"
        let h = History(path: path)
        var log: [String] = []
        h.observer = { change in
            switch change {
            case .added(let l): log.append("+" + l)
            case .reset: log.append("reset")
            }
        }
        h.add("a")
        h.add("a")
        h.load()
        h.entries = ["z"]
        XCTAssertEqual(log, ["+a", "reset", "reset"])
    }

    // MARK: PlainLineReader

    func pipeWith(_ text: String, close closeWrite: Bool = true) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&fds), 0)
        let bytes = Array(text.utf8)
        if !bytes.isEmpty { XCTAssertEqual(write(fds[1], bytes, bytes.count), bytes.count) }
        if closeWrite { close(fds[1]) }
        return (fds[0], fds[1])
    }

    func testPlainReaderLines() {
        let p = pipeWith("connect\nsend /queue/a  body  kept \r\n\nlast without newline")
        defer { close(p.read) }
        let r = PlainLineReader(fd: p.read)
        XCTAssertEqual(r.readLine(prompt: "> "), .line("connect"))
        XCTAssertEqual(r.readLine(prompt: "> "), .line("send /queue/a  body  kept "))
        XCTAssertEqual(r.readLine(prompt: "> "), .line(""))
        XCTAssertEqual(r.readLine(prompt: "> "), .line("last without newline"))
        XCTAssertEqual(r.readLine(prompt: "> "), .endOfFile)
        XCTAssertEqual(r.readLine(prompt: "> "), .endOfFile)
    }

    func testPlainReaderEmptyInputAndUTF8() {
        let empty = pipeWith("")
        defer { close(empty.read) }
        XCTAssertEqual(PlainLineReader(fd: empty.read).readLine(prompt: ""), .endOfFile)

        let p = pipeWith("héllo 日本\nbad X\n")
        defer { close(p.read) }
        let r = PlainLineReader(fd: p.read)
        XCTAssertEqual(r.readLine(prompt: ""), .line("héllo 日本"))
        XCTAssertEqual(r.readLine(prompt: ""), .line("bad X"))
    }

    func testPlainReaderInvalidUTF8IsReplaced() {
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&fds), 0)
        let bytes: [UInt8] = [0x61, 0xFF, 0x62, 0x0A]
        XCTAssertEqual(write(fds[1], bytes, bytes.count), 4)
        close(fds[1])
        defer { close(fds[0]) }
        XCTAssertEqual(PlainLineReader(fd: fds[0]).readLine(prompt: ""), .line("a\u{FFFD}b"))
    }

    func testPlainReaderManyLines() {
        let text = (1...20000).map { "line \($0)\n" }.joined()
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&fds), 0)
        let (readFD, writeFD) = (fds[0], fds[1])
        let writer = Thread {
            let bytes = Array(text.utf8)
            var off = 0
            while off < bytes.count {
                let n = bytes.withUnsafeBytes { write(writeFD, $0.baseAddress! + off, bytes.count - off) }
                if n <= 0 { break }
                off += n
            }
            close(writeFD)
        }
        writer.start()
        defer { close(readFD) }
        let r = PlainLineReader(fd: readFD)
        var n = 0
        while case .line(let l) = r.readLine(prompt: "") {
            n += 1
            if l != "line \(n)" { XCTFail("line \(n): \(l)"); break }
        }
        XCTAssertEqual(n, 20000)
    }

    func testPlainReaderCallsOnWakeWhileWaiting() {
        let p = pipeWith("", close: false)
        defer { close(p.read) }
        let wake = WakeUp()
        let r = PlainLineReader(fd: p.read)
        r.wake = wake
        var wakes = 0
        r.onWake = {
            wakes += 1
            let bytes = Array("after wake\n".utf8)
            _ = write(p.write, bytes, bytes.count)
            close(p.write)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { wake.signal() }
        XCTAssertEqual(r.readLine(prompt: ""), .line("after wake"))
        XCTAssertEqual(wakes, 1)
        XCTAssertEqual(r.readLine(prompt: ""), .endOfFile)
    }

    func testPlainReaderReturnsInterruptedOnCtrlC() {
        let p = pipeWith("", close: false)
        defer { close(p.read); close(p.write) }
        let wake = WakeUp()
        Interrupt.install(wake: wake)
        defer { Interrupt.uninstall() }
        Interrupt.clear()
        let r = PlainLineReader(fd: p.read)
        r.wake = wake
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { kill(getpid(), SIGINT) }
        XCTAssertEqual(r.readLine(prompt: ""), .interrupted)
        XCTAssertFalse(Interrupt.requested, "the reader consumed the interrupt")
    }

    // MARK: WakeUp / Interrupt

    func testWakeUpSignalDrainWait() {
        let w = WakeUp()
        XCTAssertFalse(w.wait(timeout: 0))
        XCTAssertFalse(w.drain())
        for _ in 0..<100_000 { w.signal() }   // a full pipe never blocks
        XCTAssertTrue(w.wait(timeout: 0))
        XCTAssertTrue(w.drain())
        XCTAssertFalse(w.wait(timeout: 0.01))
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { w.signal() }
        XCTAssertTrue(w.wait(timeout: 5))
    }

    func testSIGINTSetsFlagAndWakesWithoutKilling() {
        let w = WakeUp()
        Interrupt.install(wake: w)
        defer { Interrupt.uninstall() }
        Interrupt.clear()
        w.drain()
        XCTAssertFalse(Interrupt.requested)
        kill(getpid(), SIGINT)
        XCTAssertTrue(w.wait(timeout: 5))
        XCTAssertTrue(Interrupt.requested)
        Interrupt.clear()
        XCTAssertFalse(Interrupt.requested)
        Interrupt.request()
        XCTAssertTrue(Interrupt.requested)
        Interrupt.clear()
    }
}
