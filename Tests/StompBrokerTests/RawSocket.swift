import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client for byte-exact conversations with the broker.
final class RawSocket {
    private var fd: Int32
    private var received: [UInt8] = []

    init(port: Int, host: String = "127.0.0.1") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { Glibc.close(fd); throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED) }
    }

    deinit { close() }

    /// Closes the socket now (the broker sees the connection end).
    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads until `done(received so far)` or EOF or `timeout` seconds; returns everything received.
    @discardableResult
    func read(timeout: Double = 5, until done: ([UInt8]) -> Bool) -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 65536)
        while !done(received) {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { break }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(left * 1000)) > 0 else { break }
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { isClosed = true; break }
            received.append(contentsOf: buf[0..<n])
        }
        return received
    }

    /// Reads until the peer closes the connection (or `timeout`).
    func readToEnd(timeout: Double = 5) -> String {
        read(timeout: timeout) { _ in self.isClosed }
        return String(decoding: received, as: UTF8.self)
    }

    /// Reads until `count` NUL-terminated frames arrived; returns the text so far.
    func readFrames(_ count: Int, timeout: Double = 5) -> String {
        read(timeout: timeout) { $0.filter { $0 == 0 }.count >= count }
        return String(decoding: received, as: UTF8.self)
    }

    private(set) var isClosed = false

    func clear() { received.removeAll() }
}
