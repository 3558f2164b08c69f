// Lines from a file descriptor without editing (stdin when it is not a terminal, tests), and the protocol the
// REPL reads lines through (this reader or LineEditor).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum LineReadResult: Equatable {
    case line(String)
    case endOfFile
    case interrupted
}

public protocol LineSource: AnyObject {
    func readLine(prompt: String) -> LineReadResult
}

// MARK: - Plain reader

/// Reads lines from a file descriptor without editing: for stdin when it is not
/// a terminal (batch mode), and for tests. A line ends at LF; a CR before the LF
/// is removed; a last line without LF is returned; then `.endOfFile`.
/// `readLineBytes` gives the bytes as they are (scripts check them, see `UTF8Text`); `readLine` decodes
/// them for the interactive loop, invalid UTF-8 replaced by U+FFFD.
public final class PlainLineReader: LineSource {
    public let fd: Int32
    /// Write the prompt to stdout before reading (off by default: batch mode has no prompt).
    public var echoPrompt = false
    /// Optional: poll this pipe too while waiting, and call `onWake` when it fires.
    public var wake: WakeUp?
    public var onWake: (() -> Void)?

    private var buffer: [UInt8] = []
    private var start = 0
    private var atEOF = false

    public init(fd: Int32 = 0) {
        self.fd = fd
    }

    public func readLine(prompt: String) -> LineReadResult {
        if echoPrompt && !prompt.isEmpty {
            OutputWriter.standard.write(prompt, to: .stdout)
        }
        switch readLineBytes() {
        case .line(let bytes): return .line(String(decoding: bytes, as: UTF8.self))
        case .endOfFile: return .endOfFile
        case .interrupted: return .interrupted
        }
    }

    /// What `readLineBytes` gives.
    public enum BytesResult: Equatable {
        case line([UInt8])
        case endOfFile
        case interrupted
    }

    /// The next line's bytes, without its LF (or CR LF).
    public func readLineBytes() -> BytesResult {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let nl = buffer[start...].firstIndex(of: 10) {
                var end = nl
                if end > start && buffer[end - 1] == 13 { end -= 1 }
                let line = Array(buffer[start..<end])
                start = nl + 1
                if start > 65536 && start * 2 > buffer.count {
                    buffer.removeFirst(start)
                    start = 0
                }
                return .line(line)
            }
            if atEOF {
                guard start < buffer.count else { return .endOfFile }
                let line = Array(buffer[start...])
                buffer = []
                start = 0
                return .line(line)
            }
            // Wait for input (and the wake-up pipe, if any).
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            if let wake { fds.append(pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)) }
            let rc = poll(&fds, nfds_t(fds.count), -1)
            if rc < 0 {
                if errno == EINTR {
                    if Interrupt.requested { Interrupt.clear(); return .interrupted }
                    continue
                }
                // poll() refuses some descriptors (e.g. regular files on some systems): read directly.
            }
            if fds.count > 1 && (fds[1].revents & Int16(POLLIN)) != 0 {
                wake?.drain()
                if Interrupt.requested { Interrupt.clear(); return .interrupted }
                onWake?()
                if (fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR)) == 0 && rc >= 0 { continue }
            }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
            } else if n == 0 {
                atEOF = true
            } else if errno == EINTR {
                if Interrupt.requested { Interrupt.clear(); return .interrupted }
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                continue
            } else {
                atEOF = true
            }
        }
    }
}

