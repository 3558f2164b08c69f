import ArgumentParser
import Foundation
import StompConnection

/// Who connects and how TLS is verified: the options the shell, `stompsh probe` and `stompsh replay` share,
/// declared once (so their help, completions and validation are the same everywhere).
struct BrokerLoginOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Login (default: the URL's, or STOMP_LOGIN).", valueName: "login"))
    var login: String?

    @Option(help: ArgumentHelp("Read the passcode from this environment variable (default: STOMP_PASSCODE).", valueName: "name"))
    var passcodeEnv: String?

    @Option(help: ArgumentHelp("CONNECT host header (RabbitMQ: the virtual host).", valueName: "vhost"))
    var vhost: String?

    @Option(help: ArgumentHelp("PEM file of CA certificates to trust (stomp+ssl://, wss://).", valueName: "file"))
    var cafile: String?

    @Option(help: ArgumentHelp("PEM client certificate.", valueName: "file"))
    var cert: String?

    @Option(help: ArgumentHelp("PEM private key of the client certificate.", valueName: "file"))
    var key: String?

    @Flag(help: "Do not verify the broker's TLS certificate or host name (dangerous).")
    var insecure = false

    /// The passcode from `--passcode-env`'s variable (nil: none named).
    var passcode: String? { passcodeEnv.flatMap { ProcessInfo.processInfo.environment[$0] } }

    /// TLS verification as given.
    var tls: TLSOptions { TLSOptions(caFile: cafile, certificateFile: cert, keyFile: key, insecure: insecure) }

    func validate() throws {
        if let name = passcodeEnv, ProcessInfo.processInfo.environment[name] == nil {
            throw ValidationError("--passcode-env: environment variable \(name) is not set")
        }
    }
}
