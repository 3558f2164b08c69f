// The pure part of the line editor: how libedit lays the prompt and the line out on the terminal (mirroring
// refresh.c, so `printAbove` can find the prompt's first row), the prompt's escape sequences wrapped for
// EL_PROMPT_ESC, and completion's common prefix and columns. No libedit calls, no I/O: tested on its own.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@preconcurrency import CLineEditShim

enum LineLayout {
    /// Wrap escape sequences in libedit's literal markers (EL_PROMPT_ESC).
    /// libedit attaches a literal to the visible character that follows it and
    /// drops a literal at the very end, so trailing sequences are moved before
    /// the last visible character.
    static func promptWithLiterals(_ prompt: String, marker: wchar_t) -> [wchar_t] {
        enum Piece { case visible(Unicode.Scalar), escape(String) }
        var pieces: [Piece] = []
        let scalars = Array(prompt.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let u = scalars[i]
            if u.value == UInt32(bitPattern: marker) || u == "\n" || u == "\r" { i += 1; continue }
            guard u == "\u{1B}" else { pieces.append(.visible(u)); i += 1; continue }
            var j = i + 1
            if j < scalars.count && scalars[j] == "[" {              // CSI ... final 0x40-0x7E
                j += 1
                while j < scalars.count && !(0x40...0x7E).contains(scalars[j].value) { j += 1 }
                j += 1
            } else if j < scalars.count && scalars[j] == "]" {       // OSC ... BEL | ESC \
                j += 1
                while j < scalars.count && scalars[j] != "\u{07}" && scalars[j] != "\u{1B}" { j += 1 }
                j += (j < scalars.count && scalars[j] == "\u{1B}") ? 2 : 1
            } else {
                j += 1
            }
            j = min(j, scalars.count)
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[i..<j])
            if case .escape(let prev)? = pieces.last {
                pieces[pieces.count - 1] = .escape(prev + String(s))
            } else {
                pieces.append(.escape(String(s)))
            }
            i = j
        }
        // Trailing escapes: move them before the last visible character.
        if case .escape(let tail)? = pieces.last {
            pieces.removeLast()
            if let lastVisible = pieces.lastIndex(where: { if case .visible = $0 { return true }; return false }) {
                if lastVisible > 0, case .escape(let before) = pieces[lastVisible - 1] {
                    pieces[lastVisible - 1] = .escape(before + tail)
                } else {
                    pieces.insert(.escape(tail), at: lastVisible)
                }
            }
        }
        var out: [wchar_t] = []
        for p in pieces {
            switch p {
            case .visible(let u): out.append(wchar_t(bitPattern: u.value))
            case .escape(let s):
                out.append(marker)
                out.append(contentsOf: s.unicodeScalars.map { wchar_t(bitPattern: $0.value) })
                out.append(marker)
            }
        }
        return out
    }

    static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first.map({ Array($0) }) else { return "" }
        for w in words.dropFirst() {
            let a = Array(w)
            var n = 0
            while n < prefix.count && n < a.count && prefix[n] == a[n] { n += 1 }
            prefix.removeLast(prefix.count - n)
        }
        return String(prefix)
    }

    /// Lay words out in columns (column-major, like ls) for a terminal `width` wide.
    static func columnize(_ words: [String], width: Int) -> String {
        let widest = words.map { displayWidth($0) }.max() ?? 0
        let colWidth = widest + 2
        let ncols = max(1, min(words.count, (max(width, colWidth) + 1) / colWidth))
        let nrows = (words.count + ncols - 1) / ncols
        var lines: [String] = []
        for r in 0..<nrows {
            var line = ""
            for col in 0..<ncols {
                let i = col * nrows + r
                guard i < words.count else { break }
                let w = words[i]
                line += w
                if col < ncols - 1 && (col + 1) * nrows + r < words.count {
                    line += String(repeating: " ", count: colWidth - displayWidth(w))
                }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func displayWidth(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { $0 + max(0, Int(stompsh_wcwidth(wchar_t(bitPattern: $1.value)))) }
    }

    struct Pos: Equatable { var v = 0; var h = 0 }


    static func layout(prompt: [wchar_t], marker: wchar_t, buffer: [wchar_t], cursor: Int, columns: Int)
        -> (cursor: Pos, end: Pos)
    {
        let cols = max(1, columns)
        var p = Pos()
        func nextLine() { p.h = 0; p.v += 1 }
        func put(_ width: Int32, shift: Bool = true) {
            let w = max(0, Int(width))
            if shift && w <= cols { while p.h + w > cols { put(1) } }
            guard shift else { return }
            p.h += w
            if p.h >= cols { nextLine() }
        }
        // prompt_print
        var i = 0
        while i < prompt.count {
            let ch = prompt[i]
            if ch == 0 { break }
            if ch == marker {
                var j = i + 1
                while j < prompt.count && prompt[j] != marker && prompt[j] != 0 { j += 1 }
                if j >= prompt.count - 1 || prompt[j] == 0 || prompt[j + 1] == 0 { break }   // libedit drops it
                let w = Int(stompsh_wcwidth(prompt[j + 1]))
                if w > 0 {
                    p.h += w
                    if p.h >= cols { nextLine() }
                }
                i = j + 2
                continue
            }
            put(stompsh_wcwidth(ch))
            i += 1
        }
        // the buffer (re_addc)
        var cur: Pos?
        for (k, ch) in buffer.enumerated() {
            if k == cursor {
                cur = p
                let w = Int(stompsh_wcwidth(ch))
                if w > 1 && p.h + w > cols { cur = Pos(v: p.v + 1, h: 0) }
            }
            if ch == 9 {
                repeat { put(1) } while p.h & 7 != 0
            } else if ch == 10 {
                nextLine()
            } else if ch < 0x100 && iswcntrl(wint_t(ch)) != 0 {
                put(1); put(1)
            } else if iswprint(wint_t(ch)) != 0 {
                put(stompsh_wcwidth(ch))
            } else {
                for _ in 0..<(ch > 0xFFFF ? 8 : 7) { put(1) }
            }
        }
        return (cur ?? p, p)
    }
}
