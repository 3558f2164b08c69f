// The one "connection of its own" that `bench` and `rpc bench|serve` run on, and the Ctrl-C handling they share.
import Foundation
import NIOCore
import NIOConcurrencyHelpers
import StompProto
import StompConnection

enum OwnConnection {
    /// A connection of its own to the session's broker, with the session's options except: no heart-beats, no
    /// reconnect (unless `reconnect`, which keeps the session's policy: a responder outlives an ERROR), and no
    /// events for the shell: `events` gets them on the event loop. So the figures are the client library's and
    /// the broker's (not the shell's inbox plumbing), a flood of frames never interleaves with the session's,
    /// and the session's subscriptions see nothing of it. Each call opens one more connection; the event-loop
    /// group spreads them over its threads. While the session records (`--record`, `record start`) its frames
    /// are recorded too, on its event loop, straight into the recorder (what went over the wire from this shell
    /// is in the recording; a recording bench runs at the recorder's pace); `set trace` does not print them.
    static func open(_ shell: Shell, like session: StompClient, reconnect: Bool = false,
                     events: @escaping @Sendable (ClientEvent) -> Void = { _ in }) throws -> StompClient {
        var o = session.options
        o.urls = [session.url]
        o.heartBeat = .none
        if !reconnect { o.reconnect = .none }
        var handler = events
        if let recorder = shell.recorder {
            o.trace = true
            handler = { event in
                if case .trace(let dir, let bytes, let at) = event {
                    recorder.record(outbound: dir == .outbound, bytes, at: at)
                } else if case .transportTrace = event {
                    return
                } else {
                    events(event)
                }
            }
        } else {
            o.trace = false
        }
        // as the session's own `connect`: the client's connect timeout (per address) ends the wait, no limit of ours
        return try shell.waitInterruptibly(StompClient.connect(o, on: shell.group, events: handler))
    }

    /// `count` connections, opened one after the other; on a failure the ones already open are closed.
    static func open(_ shell: Shell, like session: StompClient, count: Int,
                     events: (Int) -> @Sendable (ClientEvent) -> Void) throws -> [StompClient] {
        var clients: [StompClient] = []
        do {
            for k in 0..<count { clients.append(try open(shell, like: session, events: events(k))) }
        } catch {
            close(shell, clients)
            throw error
        }
        return clients
    }

    /// DISCONNECT (its RECEIPT awaited as `--receipt-timeout` says, at most `ConnectionTimeouts.ownConnectionGrace`:
    /// the command counted what it sent itself, and a bench Ctrl-C stopped against a stuck broker ends promptly),
    /// else close.
    static func close(_ shell: Shell, _ clients: [StompClient]) {
        guard let first = clients.first else { return }
        let all = EventLoopFuture.whenAllComplete(clients.map { $0.disconnect() }, on: shell.group.next())
        let wait = min(ConnectionTimeouts(first.options).disconnectWait, ConnectionTimeouts.ownConnectionGrace)
        do { _ = try shell.waitInterruptibly(all, timeout: wait) } catch {
            for c in clients { _ = c.close() }
        }
    }
}

/// Ctrl-C for a command that promises to stop on it and print what it did (a bench, `rpc serve`), or to stop
/// without losing or doubling a message (drain, dump, move, copy, load: what is confirmed is acknowledged first):
/// in a script (where SIGINT otherwise ends stompsh at once) the handler is installed for the command's duration,
/// unless SIGINT is ignored (a script started in the background with `&` or `nohup` keeps ignoring it).
enum CommandInterrupt {
    static func catching<T>(_ shell: Shell, _ body: () throws -> T) rethrows -> T {
        let installedBefore = Interrupt.isInstalled || sigintIgnored()
        if !installedBefore {
            Interrupt.clear()
            Interrupt.install(wake: shell.wake)
        }
        defer { if !installedBefore { Interrupt.uninstall() } }
        do {
            return try body()
        } catch var e as ShellError where e.message.hasPrefix("interrupted") && !shell.interactive {
            // Ctrl-C before the command had figures to print (its setup waits), or an operator command stopped by
            // it ("interrupted (what it did)"): the script ends as after SIGINT.
            e.exitStatus = 130
            throw e
        }
    }

    /// After the command printed what it did: in a script, Ctrl-C ends the run with status 130 (as a shell's
    /// child killed by SIGINT would); interactively it only ended the command.
    static func endScriptIfInterrupted(_ shell: Shell, _ interrupted: Bool) throws {
        if interrupted && !shell.interactive { throw ShellError("interrupted", column: nil, exitStatus: 130) }
    }
}

/// Whether SIGINT's disposition is "ignore" (inherited from the parent).
func sigintIgnored() -> Bool {
    var current = sigaction()
    guard sigaction(SIGINT, nil, &current) == 0 else { return false }
    // SIG_IGN is the handler value 1 on Linux and Darwin
    #if canImport(Glibc)
    return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1
    #else
    return unsafeBitCast(current.__sigaction_u.__sa_handler, to: Int.self) == 1
    #endif
}
