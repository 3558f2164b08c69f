// `stompsh replay FILE [URL]`: the client frames of a recording sent again, with their recorded spacing (scaled
// by --speed) or as fast as --max-rate allows, so that a traffic pattern seen on one broker runs on another.

import Foundation
import NIOConcurrencyHelpers
import NIOCore
import StompProto
import StompConnection
import RPCCommands

/// What to replay and how fast.
public struct ReplayOptions {
    public var path: String
    /// 1 = the recorded spacing, 2 = twice as fast.
    public var speed: Double = 1
    /// Ignore the spacing; at most this many frames a second.
    public var maxRate: Double?
    /// Which client frames to send again.
    public var only: Set<StompCommand> = Set(Replay.defaultCommands)
    /// Skip lines that are not frames (with a warning) instead of stopping there.
    public var skipBad = false
    public init(path: String) { self.path = path }
}

/// What a replay did.
public struct ReplaySummary {
    public var sent: [StompCommand: Int] = [:]
    public var skipped = 0
    public var badLines = 0
    public var seconds: Double = 0
    public var recordedSeconds: Double = 0
    public var received: [StompCommand: Int] = [:]
    public var errors: [String] = []

    public var text: String {
        func list(_ d: [StompCommand: Int]) -> String {
            d.isEmpty ? "nothing" : d.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
                .joined(separator: ", ")
        }
        let total = sent.values.reduce(0, +)
        var s = "replayed \(total) frame\(total == 1 ? "" : "s") (\(list(sent))) in "
            + String(format: "%.3f s (recorded: %.3f s)", seconds, recordedSeconds)
        s += "; skipped \(skipped) (received, handshake or not in --only)"
        if badLines > 0 { s += "; \(badLines) bad line\(badLines == 1 ? "" : "s")" }
        s += "; broker sent: \(list(received))"
        for e in errors.prefix(3) { s += "\nERROR: \(VisibleText.value(e))" }
        return s
    }

    public var json: JSONValue {
        func obj(_ d: [StompCommand: Int]) -> JSONValue {
            .object(JSONObject(d.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key.rawValue, .integer(Int64($0.value))) }))
        }
        return .object(JSONObject([
            ("replayed", .integer(Int64(sent.values.reduce(0, +)))), ("sent", obj(sent)), ("skipped", .integer(Int64(skipped))),
            ("bad_lines", .integer(Int64(badLines))), ("seconds", .number((seconds * 1000).rounded() / 1000)),
            ("recorded_seconds", .number((recordedSeconds * 1000).rounded() / 1000)), ("received", obj(received)),
            ("errors", .array(errors.map { .string($0) })),
        ]))
    }
}

/// A replay failure: `status` is the exit status (1 bad file, 3 connection).
public struct ReplayError: Error, CustomStringConvertible {
    public var message: String
    public var status: Int32
    public var description: String { message }
}

public enum Replay {
    /// Sent again unless --only says otherwise: what makes traffic. ACK/NACK name the recorded broker's message ids.
    public static let defaultCommands: [StompCommand] = [.send, .subscribe, .unsubscribe, .begin, .commit, .abort]
    /// What --only may name (CONNECT and DISCONNECT are the replay's own).
    public static let replayable: [StompCommand] = [.send, .subscribe, .unsubscribe, .ack, .nack, .begin, .commit, .abort]

    /// Parses `--only send,subscribe,...`.
    public static func parseOnly(_ text: String) throws -> Set<StompCommand> {
        var out = Set<StompCommand>()
        for w in text.split(separator: ",") {
            let name = w.trimmingCharacters(in: .whitespaces).uppercased()
            guard let c = StompCommand(rawValue: name), replayable.contains(c) else {
                throw ReplayError(message: "--only: '\(w)' is not one of "
                                  + replayable.map { $0.rawValue.lowercased() }.joined(separator: ", "), status: 2)
            }
            out.insert(c)
        }
        return out
    }

    /// Connects with `connection`, sends the recording's client frames, disconnects. `warn` gets skipped bad lines.
    public static func run(_ options: ReplayOptions, connection: ConnectionOptions, group: EventLoopGroup,
                           warn: @escaping (String) -> Void) throws -> ReplaySummary {
        let reader: LineReader
        do { reader = try LineReader(path: options.path, what: "replay") } catch let e as ShellError {
            throw ReplayError(message: e.message, status: 2)
        }
        // `lost`: why the connection ended other than by the replay's DISCONNECT (which ends it with no error).
        let received = NIOLockedValueBox<(counts: [StompCommand: Int], errors: [String], lost: String?)>(([:], [], nil))
        let client: StompClient
        do {
            client = try StompClient.connect(connection, on: group) { event in
                switch event {
                case .frame(let f):
                    received.withLockedValue {
                        $0.counts[f.command, default: 0] += 1
                        if f.command == .error { $0.errors.append(f.headers["message"] ?? "ERROR") }
                    }
                case .closed(let e?):
                    received.withLockedValue { if $0.lost == nil { $0.lost = e.description } }
                default:
                    break
                }
            }.wait()
        } catch {
            throw ReplayError(message: "cannot connect: \(error)", status: 3)
        }
        var summary = ReplaySummary()
        let failure = NIOLockedValueBox<String?>(nil)
        var firstT: Double?
        var lastT = 0.0
        let start = DispatchTime.now().uptimeNanoseconds
        var nextByRate = start
        func sleep(until ns: UInt64) {
            while true {
                let now = DispatchTime.now().uptimeNanoseconds
                if now >= ns { return }
                var ts = timespec(tv_sec: Int((ns - now) / 1_000_000_000), tv_nsec: Int((ns - now) % 1_000_000_000))
                _ = nanosleep(&ts, nil)
            }
        }
        var stop: ReplayError?
        while stop == nil {
            let bytes: [UInt8]
            do {
                guard let b = try reader.next() else { break }
                bytes = b
            } catch { stop = ReplayError(message: "\(error)", status: 1); break }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let line: MessageLine?
            do { line = try MessageLine.parse(bytes) } catch {
                var message = "\(options.path):\(reader.lineNumber): error: \(error)"
                if reader.lastLineUnterminated { message += " (the file ends in the middle of this line)" }
                if options.skipBad { warn(message + " (skipped)"); summary.badLines += 1; continue }
                stop = ReplayError(message: message + "; nothing after it was sent (--skip-bad skips such lines)", status: 1)
                break
            }
            guard let m = line, m.direction == "out", options.only.contains(m.frame.command) else {
                summary.skipped += 1
                continue
            }
            guard let t = m.t else {
                stop = ReplayError(message: "\(options.path):\(reader.lineNumber): error: a sent frame without \"t\" "
                                   + "(replay takes a recording: --record FILE or 'record start FILE')", status: 1)
                break
            }
            if firstT == nil { firstT = t }
            lastT = t
            if let rate = options.maxRate {
                sleep(until: nextByRate)
                nextByRate = max(nextByRate, DispatchTime.now().uptimeNanoseconds) + UInt64(1e9 / rate)
            } else {
                sleep(until: start + UInt64(max(0, (t - firstT!) / options.speed) * 1e9))
            }
            if let f = failure.withLockedValue({ $0 }) { stop = ReplayError(message: f, status: 3); break }
            client.sendFrames([m.frame]).whenFailure { e in
                failure.withLockedValue { if $0 == nil { $0 = "sending failed: \(e)" } }
            }
            summary.sent[m.frame.command, default: 0] += 1
        }
        summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        summary.recordedSeconds = firstT.map { lastT - $0 } ?? 0
        _ = try? client.disconnect().wait()
        let r = received.withLockedValue { $0 }
        summary.received = r.counts
        summary.errors = r.errors
        // The frames went without receipts: only the DISCONNECT's RECEIPT says they all arrived (the shell's rule,
        // `Shell.disconnect`). A lost connection is the cause of a send that failed after it.
        if let why = r.lost, stop == nil || stop?.status == 3 {
            throw ReplayError(message: "connection lost: \(why): frames sent without a receipt may not have arrived", status: 3)
        }
        if let stop { throw stop }
        if let f = failure.withLockedValue({ $0 }) { throw ReplayError(message: f, status: 3) }
        if let why = (try? client.snapshot().wait())?.disconnectUnconfirmed {
            throw ReplayError(message: "the broker did not confirm the DISCONNECT (\(why)): "
                              + "frames sent without a receipt may not have arrived", status: 1)
        }
        return summary
    }
}
