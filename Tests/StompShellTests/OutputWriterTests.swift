import XCTest
import Foundation
@testable import StompShell

/// The one writer of stdout/stderr: every failure of standard output is recorded (and nothing more written);
/// -q quiets chatter, never what a command is asked to print.
final class OutputWriterTests: XCTestCase {
    override class func setUp() { signal(SIGPIPE, SIG_IGN) }

    func testClosedPipeIsRecordedAsEPIPE() {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        close(fds[0])
        defer { close(fds[1]) }
        let w = OutputWriter(stdout: fds[1], stderr: fds[1])
        XCTAssertNil(w.failure)
        w.write("hello\n", to: .stdout)
        XCTAssertEqual(w.failure, OutputFailure(errorNumber: EPIPE))
        XCTAssertEqual(w.failure?.description, "standard output: Broken pipe")
    }

    func testFullDeviceIsRecordedAsENOSPC() throws {
        let fd = open("/dev/full", O_WRONLY)
        try XCTSkipIf(fd < 0, "no /dev/full")
        defer { close(fd) }
        let w = OutputWriter(stdout: fd, stderr: 2)
        w.write("x\n", to: .stdout)
        XCTAssertEqual(w.failure?.errorNumber, ENOSPC)
    }

    func testReadOnlyPlaceholderGivesEBADF() {
        let fd = open("/dev/null", O_RDONLY)     // what reserveStandardDescriptors puts on a closed stdout
        defer { close(fd) }
        let w = OutputWriter(stdout: fd, stderr: 2)
        w.write("x\n", to: .stdout)
        XCTAssertEqual(w.failure?.errorNumber, EBADF)
    }

    func testStderrFailureIsNotAnOutputFailure() {
        let fd = open("/dev/null", O_RDONLY)
        defer { close(fd) }
        let w = OutputWriter(stdout: 1, stderr: fd)
        w.write("diagnostic\n", to: .stderr)
        XCTAssertNil(w.failure)
    }

    func testWholeTextIsWrittenThroughAPipe() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let w = OutputWriter(stdout: fds[1], stderr: 2)
        let text = String(repeating: "0123456789abcdef", count: 64 * 1024)     // 1 MiB: many short writes
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let done = DispatchSemaphore(value: 0)
        let writeEnd = fds[1]
        DispatchQueue.global().async { w.write(text, to: .stdout); close(writeEnd); done.signal() }
        let got = reader.readDataToEndOfFile()
        done.wait()
        XCTAssertNil(w.failure)
        XCTAssertEqual(got.count, text.utf8.count)
    }

    func testQuietKeepsWhatCommandsAreAskedToPrint() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let output = Output(color: false, writer: OutputWriter(stdout: fds[1], stderr: fds[1]))
        let shell = Shell(output: output)
        shell.settings.quiet = true
        try shell.run(line: "echo printed")
        try shell.run(line: "set x 1")          // a confirmation-free setting: prints nothing anyway
        try shell.run(line: "set x")
        try shell.run(line: "help --names")
        output.result(text: "chatter", json: nil)
        output.info("more chatter")
        close(fds[1])
        let text = String(decoding: FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("printed\n1\nconnect\n"), text)
        XCTAssertFalse(text.contains("chatter"), text)
    }
}
