import EtchGateway
import EtchOutput

/// `etch role add|delete|get|list|grant-permission|revoke-permission`: the roles of etcd's auth store and
/// the key ranges they may read and write.
enum RoleCommands {
    static let spec = CommandSpec.group(
        "role", summary: "Role related commands",
        description: "Adds, deletes, lists and shows roles, and grants or revokes their permissions on keys, key ranges and prefixes. Output as etcdctl's in simple, json, fields and protobuf; -w jsonl gives one object per role or permission. Unlike etcdctl, these commands fail within --dial-timeout and --command-timeout when the server does not answer, naming the endpoint.",
        [add, delete, get, list, grantPermission, revokePermission])

    static let add = CommandSpec(
        name: "add", summary: "Adds a new role", arguments: "<role name>",
        description: "Adds a role without permissions.",
        examples: [("etch role add reader", "add the role reader")],
        flags: [],
        run: { ctx in
            let name = try Operands.names(ctx.arguments.positionals, count: 1, usage: "role add command requires role name as its argument")[0]
            return try ctx.unary(AuthRoleAddRequest(name: name),
                                 AuthOutput.change(RawArgument.bytes("Role \(name) created\n"), subject: [("role", .string(name))]))
        })

    static let delete = CommandSpec(
        name: "delete", summary: "Deletes a role", arguments: "<role name>",
        description: "Deletes a role; users that had it lose its permissions.",
        examples: [("etch role delete reader", "delete the role reader")],
        flags: [],
        run: { ctx in
            let name = try Operands.names(ctx.arguments.positionals, count: 1, usage: "role delete command requires role name as its argument")[0]
            return try ctx.unary(AuthRoleDeleteRequest(role: name),
                                 AuthOutput.change(RawArgument.bytes("Role \(name) deleted\n"), subject: [("role", .string(name))]))
        })

    static let get = CommandSpec(
        name: "get", summary: "Gets detailed information of a role", arguments: "<role name>",
        description: "Prints a role's permissions, those that allow reading under `KV Read:` and those that allow writing under `KV Write:`, each as a key (`/a`), a range (`[/b, /c)`), or from a key on (`[/f, <open ended>`), with ` (prefix /p)` when the range is exactly a prefix. Keys print as they are.",
        examples: [("etch role get reader", "reader's permissions"),
                   ("etch role get reader -w jsonl | jq -r 'select(.permType != \"READ\") | .key'", "the keys reader may write")],
        flags: [],
        run: { ctx in
            let name = try Operands.names(ctx.arguments.positionals, count: 1, usage: "role get command requires role name as its argument")[0]
            return try ctx.unary(AuthRoleGetRequest(role: name), AuthOutput.roleGet(name))
        })

    static let list = CommandSpec(
        name: "list", summary: "Lists all roles", arguments: "",
        description: "Prints the names of all roles, one a line.",
        examples: [("etch role list", "every role"), ("etch role list -w jsonl | jq -r .role", "every role, through jq")],
        flags: [],
        run: { ctx in
            guard ctx.arguments.positionals.isEmpty else { throw CLIError(.badArgs, "role list command requires no arguments") }
            return try ctx.unary(AuthRoleListRequest(), AuthOutput.roleList)
        })

    static let grantPermission = CommandSpec(
        name: "grant-permission", summary: "Grants a key to a role",
        arguments: "[options] <role name> <permission type> <key> [endkey]",
        description: "Lets a role read, write or both (read, write, readwrite; any case) one key, the keys from <key> up to <endkey>, every key with the prefix <key> (--prefix), or every key from <key> on (--from-key). An empty key with --prefix or --from-key means every key. Granting the same key or range again replaces its type.",
        examples: [("etch role grant-permission reader read /config/ --prefix", "reader may read every key under /config/"),
                   ("etch role grant-permission writer readwrite /jobs/a /jobs/m", "writer may read and write [/jobs/a, /jobs/m)"),
                   ("etch role grant-permission admin readwrite '' --from-key", "admin may read and write every key")],
        flags: [FlagSpec("prefix", .bool, "grant a prefix permission"),
                FlagSpec("from-key", .bool, "grant a permission of keys that are greater than or equal to the given key using byte compare")],
        run: runGrant)

    /// Checks the arguments as etcdctl does (count, permission type, range), then grants the permission.
    static func runGrant(_ ctx: Context) throws -> ExitCode {
        let a = ctx.arguments
        let p = a.positionals
        guard p.count >= 3 else {
            throw CLIError(.badArgs, "role grant command requires role name, permission type, and key [endkey] as its argument")
        }
        let type = try permissionType(p[1])
        let (key, end) = try permissionRange(p[2...].map(RawArgument.bytes), prefix: a.bool("prefix"), fromKey: a.bool("from-key"))
        let name = try Operands.utf8Text(p[0], "name")
        let perm = Permission(permType: type, key: key, rangeEnd: end)
        return try ctx.unary(AuthRoleGrantPermissionRequest(name: name, perm: perm),
                             AuthOutput.change(RawArgument.bytes("Role \(name) updated\n"),
                                               subject: [("role", .string(name))] + AuthOutput.permissionFields(perm)))
    }

    static let revokePermission = CommandSpec(
        name: "revoke-permission", summary: "Revokes a key from a role",
        arguments: "<role name> <key> [endkey]",
        description: "Takes back a permission granted with grant-permission: give the same key, range, --prefix or --from-key as when it was granted.",
        examples: [("etch role revoke-permission reader /config/ --prefix", "reader may no longer read under /config/"),
                   ("etch role revoke-permission writer /jobs/a /jobs/m", "take back the range [/jobs/a, /jobs/m)")],
        flags: [FlagSpec("prefix", .bool, "revoke a prefix permission"),
                FlagSpec("from-key", .bool, "revoke a permission of keys that are greater than or equal to the given key using byte compare")],
        run: runRevoke)

    /// Checks the arguments as etcdctl does, then revokes the permission of exactly that key or range.
    static func runRevoke(_ ctx: Context) throws -> ExitCode {
        let a = ctx.arguments
        let p = a.positionals
        guard p.count >= 2 else {
            throw CLIError(.badArgs, "role revoke-permission command requires role name and key [endkey] as its argument")
        }
        let (key, end) = try permissionRange(p[1...].map(RawArgument.bytes), prefix: a.bool("prefix"), fromKey: a.bool("from-key"))
        let name = try Operands.utf8Text(p[0], "name")
        return try ctx.unary(AuthRoleRevokePermissionRequest(role: name, key: key, rangeEnd: end),
                             AuthOutput.change(revokedText(role: name, key: RawArgument.bytes(p[1]), rangeEnd: end),
                                               subject: [("role", .string(name)), ("key", .bytes(key)), ("range_end", .bytes(end))]))
    }

    /// etcdctl's `StrToPermissionType`: read, write or readwrite in any case.
    static func permissionType(_ s: String) throws(CLIError) -> PermissionType {
        switch s.uppercased() {
        case "READ": return .read
        case "WRITE": return .write
        case "READWRITE": return .readwrite
        default: throw CLIError(.badArgs, "invalid permission type: \(s)")
        }
    }

    /// etcdctl's `permRange`: the key and range end of a permission from `<key> [endkey]` and the flags. An
    /// empty key is `\0` (the server's smallest key), with `\0` as its end (every key) under --prefix or
    /// --from-key, and any end ignored; --prefix ends at the prefix's range end, --from-key at `\0` (open).
    static func permissionRange(_ args: [[UInt8]], prefix: Bool, fromKey: Bool) throws(CLIError) -> (key: [UInt8], rangeEnd: [UInt8]) {
        let exclusive = CLIError(.badArgs, "--from-key and --prefix flags are mutually exclusive")
        let key = args[0]
        if key.isEmpty {
            if prefix && fromKey { throw exclusive }
            return ([0], prefix || fromKey ? [0] : [])
        }
        if args.count == 1 {
            if prefix {
                if fromKey { throw exclusive }
                return (key, prefixRangeEnd(key))
            }
            return (key, fromKey ? [0] : [])
        }
        if prefix { throw CLIError(.badArgs, "unexpected endkey argument with --prefix flag") }
        if fromKey { throw CLIError(.badArgs, "unexpected endkey argument with --from-key flag") }
        return (key, args[1])
    }

    /// What revoke-permission prints: the key as given (an empty one stays empty) and the range end sent.
    static func revokedText(role: String, key: [UInt8], rangeEnd: [UInt8]) -> [UInt8] {
        let tail = Array(" is revoked from role \(role)\n".utf8)
        if rangeEnd.isEmpty { return Array("Permission of key ".utf8) + key + tail }
        if rangeEnd != [0] { return Array("Permission of range [".utf8) + key + Array(", ".utf8) + rangeEnd + Array(")".utf8) + tail }
        return Array("Permission of range [".utf8) + key + Array(", <open ended>".utf8) + tail
    }
}
