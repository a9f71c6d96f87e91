import EtchGateway
import EtchOutput

/// `etch user add|delete|get|list|passwd|grant-role|revoke-role`: the users of etcd's auth store.
enum UserCommands {
    static let spec = CommandSpec.group(
        "user", summary: "User related commands",
        description: "Adds, deletes, lists and shows users, changes their passwords and grants or revokes their roles. Output as etcdctl's in simple, json and protobuf (and fields where etcdctl has it); -w jsonl gives one object per user. Unlike etcdctl, these commands fail within --dial-timeout and --command-timeout when the server does not answer, naming the endpoint.",
        [add, delete, get, list, passwd, grantRole, revokeRole])

    static let add = CommandSpec(
        name: "add", summary: "Adds a new user", arguments: "<user name or user:password> [options]",
        description: "Adds a user. The password comes from the argument after a colon, from --new-user-password (then the argument is the whole name, colons included), or from standard input: asked twice (\"Password of <user>: \" on stdout, as etcdctl, with the terminal's echo off), or with --interactive=false the first word of standard input. --no-password creates a user that can only authenticate with a client certificate (the argument is then the whole name).",
        examples: [("etch user add alice", "asks for alice's password twice"),
                   ("etch user add alice:s3cret", "the password after the colon"),
                   ("printf 's3cret' | etch user add alice --interactive=false", "the password from stdin, for scripts"),
                   ("etch user add build-bot --no-password", "a user that authenticates by TLS client certificate")],
        flags: [FlagSpec("interactive", .bool, default: "true", "Read password from stdin instead of interactive terminal"),
                FlagSpec("new-user-password", .string, "Supply password from the command line flag"),
                FlagSpec("no-password", .bool, "Create a user without password (CN based auth only)")],
        run: runAdd)

    /// Where `user add` takes the password from.
    enum PasswordSource: Equatable {
        /// Given on the command line (after the colon, or --new-user-password).
        case given([UInt8])
        /// --no-password: none.
        case none
        /// --interactive=false: the first word of standard input.
        case standardInputWord
        /// Asked for twice.
        case prompt
    }

    /// etcdctl's argument rules for `user add`: the user's name and where its password comes from.
    static func addArguments(_ positionals: [String], newUserPassword: String?, interactive: Bool,
                             noPassword: Bool) throws(CLIError) -> (name: String, password: PasswordSource) {
        guard positionals.count == 1 else { throw CLIError(.badArgs, "user add command requires user name as its argument") }
        let arg = positionals[0]
        if noPassword { return (arg, .none) }
        if let flag = newUserPassword, !flag.isEmpty { return (arg, .given(RawArgument.bytes(flag))) }
        guard let colon = arg.firstIndex(of: ":") else { return (arg, interactive ? .prompt : .standardInputWord) }
        let name = String(arg[..<colon])
        if name.isEmpty { throw CLIError(.badArgs, "empty user name is not allowed") }
        return (name, .given(RawArgument.bytes(String(arg[arg.index(after: colon)...]))))
    }

    /// Checks the arguments and the format, reads the password where it comes from, then adds the user.
    static func runAdd(_ ctx: Context) throws -> ExitCode {
        let a = ctx.arguments
        let (name, source) = try addArguments(a.positionals, newUserPassword: a.string("new-user-password"),
                                              interactive: a.isSet("interactive") ? a.bool("interactive") : true,
                                              noPassword: a.bool("no-password"))
        let output = AuthOutput.change(RawArgument.bytes("User \(name) created\n"), subject: [("user", .string(try Operands.utf8Text(name, "user name")))])
        let format = try ctx.format(for: output)
        var password: [UInt8] = []
        switch source {
        case let .given(p): password = p
        case .none: break
        case .standardInputWord: password = try PasswordInput.readWord()
        case .prompt: password = try PasswordInput.askTwice(name: name, prompts: prompts(ctx, format))
        }
        let request = AuthUserAddRequest(name: name, password: try Operands.password(password), noPassword: source == .none)
        try ctx.emit(try ctx.makeClient().unary(request), output, as: format)
        return .success
    }

    static let delete = CommandSpec(
        name: "delete", summary: "Deletes a user", arguments: "<user name>",
        description: "Deletes a user.",
        examples: [("etch user delete alice", "delete alice")],
        flags: [],
        run: { ctx in
            let name = try Operands.names(ctx.arguments.positionals, count: 1, usage: "user delete command requires user name as its argument")[0]
            return try ctx.unary(AuthUserDeleteRequest(name: name),
                                 AuthOutput.change(RawArgument.bytes("User \(name) deleted\n"), subject: [("user", .string(name))]))
        })

    static let get = CommandSpec(
        name: "get", summary: "Gets detailed information of a user", arguments: "<user name> [options]",
        description: "Prints the user's roles (`User: alice`, `Roles: reader writer`). With --detail, prints `User: alice` and then each role as role get prints it, in any format role get has (so -w fields works with --detail only, as in etcdctl); -w jsonl gives one object per role with its permissions.",
        examples: [("etch user get alice", "alice's roles"),
                   ("etch user get alice --detail", "alice's roles with their permissions"),
                   ("etch user get alice -w jsonl | jq -r '.roles[]'", "alice's roles, one a line")],
        flags: [FlagSpec("detail", .bool, "Show permissions of roles granted to the user")],
        run: runGet)

    /// The user's roles; with --detail, each role as role get prints it (one request per role, as etcdctl).
    static func runGet(_ ctx: Context) throws -> ExitCode {
        let name = try Operands.names(ctx.arguments.positionals, count: 1, usage: "user get command requires user name as its argument")[0]
        guard ctx.arguments.bool("detail") else {
            return try ctx.unary(AuthUserGetRequest(name: name), AuthOutput.userGet(name))
        }
        // Checked before any request: the formats of role get, which --detail prints.
        let format = try ctx.format(for: AuthOutput.roleGet(name))
        let client = try ctx.makeClient()
        let user = try client.unary(AuthUserGetRequest(name: name))
        if format != .jsonl { ctx.stdout.append("User: \(name)\n") }
        for role in user.roles {
            if format != .jsonl { ctx.stdout.append("\n") }
            let perms = try client.unary(AuthRoleGetRequest(role: role))
            try ctx.emit(perms, AuthOutput.userDetail(user: name, role: role), as: format)
        }
        return .success
    }

    static let list = CommandSpec(
        name: "list", summary: "Lists all users", arguments: "",
        description: "Prints the names of all users, one a line.",
        examples: [("etch user list", "every user"), ("etch user list -w jsonl | jq -r .user", "every user, through jq")],
        flags: [],
        run: { ctx in
            guard ctx.arguments.positionals.isEmpty else { throw CLIError(.badArgs, "user list command requires no arguments") }
            return try ctx.unary(AuthUserListRequest(), AuthOutput.userList)
        })

    static let passwd = CommandSpec(
        name: "passwd", summary: "Changes password of user", arguments: "<user name> [options]",
        description: "Changes a user's password, asked twice (\"Password of <user>: \" on stdout, as etcdctl, with the terminal's echo off), or with --interactive=false the first word of standard input.",
        examples: [("etch user passwd alice", "asks for alice's new password twice"),
                   ("printf 'n3w' | etch user passwd alice --interactive=false", "the new password from stdin")],
        flags: [FlagSpec("interactive", .bool, default: "true", "If true, read password from stdin instead of interactive terminal")],
        run: runPasswd)

    /// Reads the new password (asked twice, or the first word of stdin), then changes it.
    static func runPasswd(_ ctx: Context) throws -> ExitCode {
        let name = try Operands.names(ctx.arguments.positionals, count: 1, usage: "user passwd command requires user name as its argument")[0]
        let output = AuthOutput.change(RawArgument.bytes("Password updated\n"), subject: [("user", .string(name))])
        let format = try ctx.format(for: output)
        let interactive = ctx.arguments.isSet("interactive") ? ctx.arguments.bool("interactive") : true
        let password = interactive ? try PasswordInput.askTwice(name: name, prompts: prompts(ctx, format))
                                   : try PasswordInput.readWord()
        let request = AuthUserChangePasswordRequest(name: name, password: try Operands.password(password))
        try ctx.emit(try ctx.makeClient().unary(request), output, as: format)
        return .success
    }

    static let grantRole = CommandSpec(
        name: "grant-role", summary: "Grants a role to a user", arguments: "<user name> <role name>",
        description: "Grants a role to a user.",
        examples: [("etch user grant-role alice reader", "alice gets reader's permissions")],
        flags: [],
        run: { ctx in
            let names = try Operands.names(ctx.arguments.positionals, count: 2, usage: "user grant command requires user name and role name as its argument")
            let (user, role) = (names[0], names[1])
            return try ctx.unary(AuthUserGrantRoleRequest(user: user, role: role),
                                 AuthOutput.change(RawArgument.bytes("Role \(role) is granted to user \(user)\n"),
                                                   subject: [("user", .string(user)), ("role", .string(role))]))
        })

    static let revokeRole = CommandSpec(
        name: "revoke-role", summary: "Revokes a role from a user", arguments: "<user name> <role name>",
        description: "Revokes a role from a user.",
        examples: [("etch user revoke-role alice reader", "alice loses reader's permissions")],
        flags: [],
        run: { ctx in
            let names = try Operands.names(ctx.arguments.positionals, count: 2, usage: "user revoke-role requires user name and role name as its argument")
            let (user, role) = (names[0], names[1])
            return try ctx.unary(AuthUserRevokeRoleRequest(name: user, role: role),
                                 AuthOutput.change(RawArgument.bytes("Role \(role) is revoked from user \(user)\n"),
                                                   subject: [("user", .string(user)), ("role", .string(role))]))
        })

    /// Where the password prompts go: stdout, as etcdctl (which has no jsonl), but stderr with -w jsonl so the
    /// JSON lines stay alone on stdout.
    static func prompts(_ ctx: Context, _ format: OutputFormat) -> OutputBuffer {
        format == .jsonl ? ctx.stderr : ctx.stdout
    }
}
