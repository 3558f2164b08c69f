// The one place where stompsh writes to its standard output and standard error: every write is checked, and
// the first failure on standard output (EPIPE from `| head -1`, ENOSPC from /dev/full, EBADF from `>&-`) is
// remembered so the shell can stop consuming and end the session loudly instead of acknowledging messages
// into the void.

import Foundation
import NIOConcurrencyHelpers

/// Why standard output could not be written.
public struct OutputFailure: Sendable, Equatable, CustomStringConvertible {
    /// The errno of the failed write(2).
    public var errorNumber: Int32

    /// `standard output: Broken pipe`.
    public var description: String { "standard output: " + String(cString: strerror(errorNumber)) }
}

/// Writes text to file descriptors 1 and 2 with write(2), retrying short writes, EINTR and EAGAIN.
public final class OutputWriter: @unchecked Sendable {
    /// The process's standard streams.
    public static let standard = OutputWriter(stdout: 1, stderr: 2)

    private let stdoutFD: Int32
    private let stderrFD: Int32
    private let lock = NIOLock()
    private var _failure: OutputFailure?

    /// A writer on other descriptors (tests).
    public init(stdout: Int32, stderr: Int32) {
        stdoutFD = stdout
        stderrFD = stderr
    }

    /// The first failed write to standard output, if any. Once set, nothing more is written there.
    public var failure: OutputFailure? { lock.withLock { _failure } }

    /// Writes `text` whole. A failure on standard output is recorded (see `failure`); one on standard error
    /// is ignored, as there is nowhere left to report it.
    public func write(_ text: String, to target: OutputTarget) {
        lock.withLock {
            switch target {
            case .stdout:
                guard _failure == nil else { return }
                if let errorNumber = Self.writeAll(stdoutFD, text) { _failure = OutputFailure(errorNumber: errorNumber) }
            case .stderr:
                _ = Self.writeAll(stderrFD, text)
            }
        }
    }

    /// `write(_:to:)` for UTF-8 bytes (frames printed in a batch).
    public func write(bytes: [UInt8], to target: OutputTarget) {
        lock.withLock {
            switch target {
            case .stdout:
                guard _failure == nil else { return }
                if let errorNumber = bytes.withUnsafeBufferPointer({ Self.writeAll(stdoutFD, $0) }) {
                    _failure = OutputFailure(errorNumber: errorNumber)
                }
            case .stderr:
                _ = bytes.withUnsafeBufferPointer { Self.writeAll(stderrFD, $0) }
            }
        }
    }

    /// Writes every byte; returns the errno of a failed write, nil on success.
    static func writeAll(_ fd: Int32, _ text: String) -> Int32? {
        var text = text
        return text.withUTF8 { writeAll(fd, $0) }
    }

    /// Writes every byte; returns the errno of a failed write, nil on success.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard var p = buffer.baseAddress else { return nil }
        var left = buffer.count
        while left > 0 {
            let n = Foundation.write(fd, p, left)
            if n > 0 { p += n; left -= n; continue }
            if n == 0 { return EIO }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK {       // a non-blocking descriptor inherited from the parent
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, 1000)
                continue
            }
            return e
        }
        return nil
    }

    /// Makes sure descriptors 0, 1 and 2 are open before anything else opens a file or a socket: a closed one
    /// (`>&-`) would otherwise be reused by the next open(2), and stompsh's output would go into a socket.
    /// A closed descriptor gets /dev/null opened read-only, so a write to it still fails with EBADF.
    public static func reserveStandardDescriptors() {
        for fd: Int32 in [0, 1, 2] where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            let placeholder = open("/dev/null", O_RDONLY)
            if placeholder >= 0, placeholder != fd {
                dup2(placeholder, fd)
                close(placeholder)
            }
        }
    }
}
