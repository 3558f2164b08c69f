// Reads a passcode from the terminal without echo (like getpass(3)).

import Foundation

enum Password {
    /// Prompts on /dev/tty (or stderr) and reads one line with echo off. nil on end of file.
    static func read(prompt: String) -> String? {
        let fd = open("/dev/tty", O_RDWR)
        let inFD = fd >= 0 ? fd : 0
        let outFD = fd >= 0 ? fd : 2
        defer { if fd >= 0 { close(fd) } }
        _ = prompt.withCString { write(outFD, $0, strlen($0)) }
        var old = termios()
        let isTTY = tcgetattr(inFD, &old) == 0
        if isTTY {
            var noEcho = old
            noEcho.c_lflag &= ~tcflag_t(ECHO)
            noEcho.c_lflag |= tcflag_t(ECHONL)
            tcsetattr(inFD, TCSAFLUSH, &noEcho)
        }
        defer { if isTTY { var o = old; tcsetattr(inFD, TCSAFLUSH, &o) } }
        var bytes: [UInt8] = []
        var c: UInt8 = 0
        while true {
            let n = Foundation.read(inFD, &c, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if c == 0x0A || c == 0x0D { break }
            bytes.append(c)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
