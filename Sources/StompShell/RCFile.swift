// ~/.stompshrc: commands run before the session. It may hold a passcode; then it must be private.

import Foundation

public enum RCFile {
    /// `~/.stompshrc` under `home`.
    public static func path(home: String) -> String {
        (home as NSString).appendingPathComponent(".stompshrc")
    }

    /// Why the rc file at `path` must not be run, or nil when it may: a file holding a passcode (a line
    /// `shell` would keep out of history: `--passcode`, `login:passcode@` in a URL, ...) must not be
    /// readable by group or others, or every local user could read the secret.
    public static func refusal(path: String, shell: Shell) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let mode = Int(st.st_mode) & 0o777
        guard mode & 0o044 != 0 else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" })
        guard lines.contains(where: { shell.isSensitive(String($0)) }) else { return nil }
        return "\(path) holds a passcode and is readable by others (mode \(String(mode, radix: 8))): "
            + "not run; make it private with: chmod 600 \(path)"
    }
}
