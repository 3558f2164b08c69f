// CommandSpec's completion, hint and handler closures take the Shell, which needs SwiftNIO. The parser never
// calls them, so the fuzzer links this empty class in its place.

public final class Shell {}
